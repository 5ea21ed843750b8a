"""`pipec explain CODE [--format json]`: a rule's page; an unknown code is a usage error
(exit 2) naming the code it most likely meant. Without a code, the list of rules; in
JSON, each rule's `code`, `severity`, `summary` and `phase`, as on its page."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipec.rules import Rule


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
        for code, entry in rules.items():
            print(f"{code:<11} {entry.severity.value:<8} {entry.summary}")
        return 0
    entry = rules.get(args.code.upper())
    if entry is None:
        from pipec.render.text import one_line

        print(f"pipec: no rule `{one_line(args.code)}`;{_did_you_mean(args.code, list(rules))} "
              "`pipec explain` lists them", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(_fields(entry) | {"doc": entry.doc}, indent=2, ensure_ascii=False))
    else:
        print(f"# {entry.code}: {entry.summary} ({entry.severity.value})\n")
        print(entry.doc)
    return 0


def _fields(entry: Rule) -> dict[str, object]:
    return {"code": entry.code, "severity": entry.severity.value, "summary": entry.summary,
            "phase": entry.phase}


def _did_you_mean(code: str, codes: list[str]) -> str:
    """The code meant by a mistyped one: the same number with its zeros dropped
    (`leak2`, `GATE01` are LEAK002, GATE001), else the nearest spelling (`BUIDL001`)."""
    import difflib

    typed = re.fullmatch(r"([A-Za-z]+)0*(\d{1,3})", code.strip())
    padded = f"{typed[1].upper()}{int(typed[2]):03d}" if typed else ""
    close = [padded] if padded in codes else difflib.get_close_matches(code.upper(), codes, n=1)
    return f" did you mean `{close[0]}`?" if close else ""
