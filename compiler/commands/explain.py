"""`pipec explain CODE [--format json]`: a rule's page; an unknown code is a usage error
(exit 2) naming the code it most likely meant, and a prefix such as `LEAK` (which
`--select` accepts) lists the codes it covers. Without a code, the list of rules; in
JSON, each rule's `code`, `severity`, `summary` and `phase`, as on its page. On a
terminal narrower than the text, prose is re-wrapped to fit; examples never are."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipec.rules import Rule

# Below this a terminal is too narrow to be worth wrapping for.
MIN_WIDTH = 40


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", nargs="?", help="a rule code such as LEAK002 (omit to list)")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from pipec.rules import load_all

    rules = load_all()
    if args.code is None:
        if args.format == "json":
            print(json.dumps([_fields(entry) for entry in rules.values()], indent=2,
                             ensure_ascii=False))
            return 0
        for entry in rules.values():
            print(_list_line(entry, _width()))
        return 0
    entry = rules.get(args.code.strip().upper())
    if entry is None:
        print(f"pipec: {_unknown(args.code, list(rules))}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(_fields(entry) | {"doc": entry.doc}, indent=2, ensure_ascii=False))
    else:
        width = _width()
        print(_fit(f"# {entry.code}: {entry.summary} ({entry.severity.value})", width, 2))
        print()
        print(_reflow(entry.doc, width))
    return 0


def _fields(entry: Rule) -> dict[str, object]:
    return {"code": entry.code, "severity": entry.severity.value, "summary": entry.summary,
            "phase": entry.phase}


def _unknown(code: str, codes: list[str]) -> str:
    """What to say about a code that names no rule: an empty one, a prefix of several
    codes (listed), or a mistyped one (the code it most likely meant)."""
    from pipec.render.text import one_line

    typed = code.strip().upper()
    if not typed:
        return "give a rule code, e.g. `pipec explain LEAK002`; `pipec explain` lists them"
    covered = [c for c in codes if c.startswith(typed)]
    if len(covered) > 1:
        return (f"`{one_line(code)}` is not one rule but the prefix of {len(covered)}: "
                f"{', '.join(covered)}; name one, e.g. `pipec explain {covered[0]}`")
    return (f"no rule `{one_line(code)}`;{_did_you_mean(code, codes)} "
            "`pipec explain` lists them")


def _did_you_mean(code: str, codes: list[str]) -> str:
    """The code meant by a mistyped one: the same number with its zeros dropped
    (`leak2`, `GATE01` are LEAK002, GATE001), else the nearest spelling (`BUIDL001`)."""
    import difflib

    typed = re.fullmatch(r"([A-Za-z]+)0*(\d{1,3})", code.strip())
    padded = f"{typed[1].upper()}{int(typed[2]):03d}" if typed else ""
    close = [padded] if padded in codes else difflib.get_close_matches(code.upper(), codes, n=1)
    return f" did you mean `{close[0]}`?" if close else ""


def _width() -> int | None:
    """The terminal's width when stdout is one, else None: piped text is left as
    written, one line per line of the page, for grep and diff."""
    if not sys.stdout.isatty():
        return None
    return max(shutil.get_terminal_size().columns, MIN_WIDTH)


def _list_line(entry: Rule, width: int | None) -> str:
    return _fit(f"{entry.code:<11} {entry.severity.value:<8} {entry.summary}", width, 21)


def _fit(line: str, width: int | None, indent: int) -> str:
    """One line wrapped to `width`, its continuation lines indented."""
    if width is None or len(line) <= width:
        return line
    return textwrap.fill(line, width, subsequent_indent=" " * indent,
                         break_long_words=False, break_on_hyphens=False)


def _reflow(text: str, width: int | None) -> str:
    """Prose paragraphs re-wrapped to `width`; headings and fenced examples as written
    (an example is copied into a file: its lines must stay whole)."""
    if width is None or all(len(line) <= width for line in text.splitlines()):
        return text
    out: list[str] = []
    paragraph: list[str] = []
    fenced = False

    def flush() -> None:
        if paragraph:
            out.append(textwrap.fill(" ".join(paragraph), width, break_long_words=False,
                                     break_on_hyphens=False))
            paragraph.clear()

    for line in text.splitlines():
        if line.startswith("```"):
            flush()
            fenced = not fenced
            out.append(line)
        elif fenced or not line.strip() or line.startswith("#"):
            flush()
            out.append(line)
        else:
            paragraph.append(line.strip())
    flush()
    return "\n".join(out)
