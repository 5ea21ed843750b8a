"""Human-readable diagnostics: `file:line:col`, the source line, a caret underline and
the help line, in the style of rustc and ruff."""

from __future__ import annotations

from pipec.diagnostics import Diagnostic, Severity

COLOURS = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.NOTE: "cyan"}
# Control characters from a file (an ESC starting a terminal escape sequence, a CR) are
# shown as their Unicode pictures, one for one so that carets stay aligned.
_VISIBLE = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)} | {0x7F: 0x2421} \
    | {c: 0xFFFD for c in range(0x80, 0xA0)}


def _visible(text: str) -> str:
    return text.translate(_VISIBLE)


visible = _visible  # for other terminal output that carries user text (run alerts)


def render_plain(diagnostics: list[Diagnostic], sources: dict[str, str]) -> str:
    """No colour: for files, snapshots and pipes."""
    return "".join(_render_one(d, sources) for d in diagnostics) + summary(diagnostics)


def _render_one(diagnostic: Diagnostic, sources: dict[str, str]) -> str:
    span = diagnostic.span
    lines = [f"{diagnostic.severity.value}[{diagnostic.code}]: {_visible(diagnostic.message)}",
             f"  --> {_visible(span.file)}:{span.line}:{span.col}"]
    source_line = _line(sources.get(span.file), span.line)
    if source_line is not None:
        gutter = " " * len(str(span.line))
        expanded = _visible(source_line.expandtabs(1))
        end = span.end_col if span.end_line == span.line else len(expanded) + 1
        width = max(1, min(end, len(expanded) + 1) - span.col)
        lines += [f"{gutter} |", f"{span.line} | {expanded}",
                  f"{gutter} | {' ' * (span.col - 1)}{'^' * width}"]
    if diagnostic.help:
        lines.append(f"  = help: {_visible(diagnostic.help)}")
    return "\n".join(lines) + "\n\n"


def _line(text: str | None, number: int) -> str | None:
    if text is None:
        return None
    lines = text.split("\n")
    return lines[number - 1].rstrip("\r") if 0 < number <= len(lines) else None


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
        text = Text(head, style=COLOURS[diagnostic.severity])
        text.append(":" + rest.rstrip("\n") + "\n")
        console.print(text)
    if diagnostics:
        console.print(Text(summary(diagnostics).rstrip("\n"), style="bold"))
