"""`pipec explain CODE [--format json]`: a rule's page."""

from __future__ import annotations

import argparse
import json
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", nargs="?", help="a rule code such as LEAK002 (omit to list)")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from pipec.rules import load_all

    rules = load_all()
    if args.code is None:
        for code, entry in rules.items():
            print(f"{code:<11} {entry.severity.value:<8} {entry.summary}")
        return 0
    entry = rules.get(args.code.upper())
    if entry is None:
        print(f"pipec: no rule `{args.code}`; `pipec explain` lists them", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps({"code": entry.code, "severity": entry.severity.value,
                          "summary": entry.summary, "phase": entry.phase,
                          "doc": entry.doc}, indent=2, ensure_ascii=False))
    else:
        print(f"# {entry.code}: {entry.summary} ({entry.severity.value})\n")
        print(entry.doc)
    return 0
