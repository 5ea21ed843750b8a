"""Human-readable diagnostics: `file:line:col`, the source line, a caret underline and
the help line, in the style of rustc and ruff."""

from __future__ import annotations

import functools
import unicodedata

from pipec.diagnostics import Diagnostic, Severity

COLOURS = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.NOTE: "cyan"}
# Control characters from a file (an ESC starting a terminal escape sequence, a CR) are
# shown as their Unicode pictures, one for one so that carets stay aligned.
# The bidirectional controls, which reorder how a line reads ("Trojan Source": code that
# displays unlike what it is), are shown as U+FFFD, also one for one.
BIDI_CONTROLS = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
PICTURES = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)} | {0x7F: 0x2421} \
    | {c: 0xFFFD for c in range(0x80, 0xA0)} | {c: 0xFFFD for c in BIDI_CONTROLS}
# A message, help or path is one line: a newline or tab in it (a quoted user string)
# would otherwise break the layout or start what looks like another diagnostic.
_ONE_LINE = PICTURES | {0x09: 0x2409, 0x0A: 0x240A}
# Source lines longer than this are shown as a window around the span: a minified or
# generated file would otherwise print its whole line once per diagnostic.
MAX_SHOWN = 120
_ELLIPSIS = "…"
# Unicode categories a terminal draws in no column of their own: nonspacing and enclosing
# marks, format characters.
ZERO_WIDTH_CATEGORIES = ("Mn", "Me", "Cf")


def _visible(text: str) -> str:
    return text.translate(PICTURES)


def _one_line(text: str) -> str:
    return text.translate(_ONE_LINE)


visible = _visible  # for other terminal output that carries user text (run alerts)
one_line = _one_line  # user text inside a one-line message (a tab or newline as a picture)


def as_typed(text: str) -> str:
    """`text` on one line as it was typed: an argument whose bytes are not UTF-8 (`$'\\xff'`
    in a shell) reaches Python with surrogates, shown as those bytes (`\\xff`) rather than
    as a surrogate, which an output that takes only UTF-8 refuses."""
    try:
        typed = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no argument's bytes decode to
        typed = text.encode("utf-8", "backslashreplace")
    return _one_line(typed.decode("utf-8", "backslashreplace"))


def shown_lines(lines: list[str]) -> str:
    """Lines for a terminal that carry strings other people wrote (a registry's reviewer
    names and reasons, run records): an ESC that would recolour or retitle the terminal,
    or a newline that would fake another line, is shown as its picture."""
    return "\n".join(_one_line(line) for line in lines)


def render_plain(diagnostics: list[Diagnostic], sources: dict[str, str]) -> str:
    """No colour: for files, snapshots and pipes."""
    return "".join(_render_one(d, sources) for d in diagnostics) + summary(diagnostics)


def _render_one(diagnostic: Diagnostic, sources: dict[str, str]) -> str:
    span = diagnostic.span
    lines = [f"{diagnostic.severity.value}[{diagnostic.code}]: {_one_line(diagnostic.message)}",
             f"  --> {_one_line(span.file)}:{span.line}:{span.col}"]
    source_line = _line(sources.get(span.file), span.line)
    if source_line is not None:
        gutter = " " * len(str(span.line))
        end = span.end_col if span.end_line == span.line else len(source_line) + 1
        width = max(1, min(end, len(source_line) + 1) - span.col)
        shown, offset, width = _window(source_line, span.col - 1, width)
        shown = _visible(shown.expandtabs(1))  # both one for one: the caret stays put
        caret = " " * _cells(shown[:offset]) + "^" * max(1, _cells(shown[offset:offset + width]))
        lines += [f"{gutter} |", f"{span.line} | {shown}", f"{gutter} | {caret}"]
    if diagnostic.help:
        lines.append(f"  = help: {_one_line(diagnostic.help)}")
    return "\n".join(lines) + "\n\n"


def _cells(text: str) -> int:
    """Terminal columns `text` takes: a wide character (CJK, most emoji) takes two, so
    the caret under a line holding one stays under the offending text. The column
    reported in `-->` stays a count of code points, as the formats promise. A combining
    mark (the accent of a decomposed `é`) or a format character (a zero-width space or
    joiner) takes none: it is drawn on or between its neighbours."""
    return sum(_cell_width(c) for c in text)


cells = _cells  # the columns a caret goes past (a settings file's caret)


def _cell_width(char: str) -> int:
    if unicodedata.category(char) in ZERO_WIDTH_CATEGORIES and char != "\u00ad":
        return 0  # the soft hyphen, a format character too, is drawn as a hyphen
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _window(line: str, start: int, width: int) -> tuple[str, int, int]:
    """At most MAX_SHOWN characters of `line` around the caret (0-based `start`, `width`
    characters), an ellipsis marking each cut; the shown text and the caret's offset
    and width in it."""
    if len(line) <= MAX_SHOWN:
        return line, start, width
    first = max(0, min(start - MAX_SHOWN // 4, len(line) - MAX_SHOWN))
    last = first + MAX_SHOWN
    head = _ELLIPSIS if first > 0 else ""
    tail = _ELLIPSIS if last < len(line) else ""
    width = max(1, min(width, last - start + len(tail)))
    return head + line[first:last] + tail, start - first + len(head), width


def _line(text: str | None, number: int) -> str | None:
    if text is None:
        return None
    lines = _lines(text)
    return lines[number - 1].rstrip("\r") if 0 < number <= len(lines) else None


source_line = _line  # for the SARIF fingerprints, which hash the finding's line


@functools.lru_cache(maxsize=16)
def _lines(text: str) -> list[str]:
    """A file's lines, split once for all its diagnostics (a str caches its hash)."""
    return text.split("\n")


def summary(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    if not diagnostics:
        return ""
    return f"{_count(errors, 'error')}, {_count(warnings, 'warning')}\n"


def _count(number: int, word: str) -> str:
    return f"{number} {word}" + ("" if number == 1 else "s")


def print_rich(diagnostics: list[Diagnostic], sources: dict[str, str]) -> None:
    """Colour on a terminal; rich is imported only when there is something to show."""
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=False, highlight=False, soft_wrap=True)
    for diagnostic in diagnostics:
        block = _render_one(diagnostic, sources)
        head, _, rest = block.partition(":")
        # The colour on `error[CODE]` only: as `Text(head, style=...)` it was the style of
        # the whole Text, so the message, source line and help were all bold red.
        text = Text()
        text.append(head, style=COLOURS[diagnostic.severity])
        text.append(":" + rest.rstrip("\n") + "\n")
        console.print(text)
    if diagnostics:
        console.print(Text(summary(diagnostics).rstrip("\n"), style="bold"))
