"""`pipec check FILE...`: exit 0 clean or warnings only, 1 any error (or any warning
with --strict), 2 usage error or unreadable file."""

from __future__ import annotations

import argparse
import sys

from pipec.commands._files import expand, readable, report_missing


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="files, directories or globs")
    parser.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    parser.add_argument("--select", help="comma-separated codes to run (default: all)")
    parser.add_argument("--ignore", help="comma-separated codes to skip")


def run(args: argparse.Namespace) -> int:
    from pipec.check import compile
    from pipec.config import options_for
    from pipec.diagnostics import Severity
    from pipec.loader import Loader

    files, missing = expand(args.files)
    report_missing(missing)
    if missing or not files:
        return 2
    loader = Loader()  # shared: each imported file is parsed once for all inputs
    diagnostics, sources = [], {}
    for path in files:
        if not readable(path):
            return 2
        program = compile(path, loader=loader, options=options_for(path, args))
        diagnostics.extend(program.diagnostics)
        sources.update({f.display: f.text for f in loader.files.values()})
    emit(diagnostics, sources, args.format)
    worst = {d.severity for d in diagnostics}
    if Severity.ERROR in worst or (Severity.WARNING in worst and _strict(args, files)):
        return 1
    return 0


def _strict(args: argparse.Namespace, files: list) -> bool:
    from pipec.config import load_config

    return args.strict or any(load_config(path).strict for path in files)


def emit(diagnostics: list, sources: dict[str, str], output_format: str) -> None:
    if output_format == "text":
        if sys.stdout.isatty():
            from pipec.render.text import print_rich

            print_rich(diagnostics, sources)
        else:
            from pipec.render.text import render_plain

            sys.stdout.write(render_plain(diagnostics, sources))
        return
    from pipec.render import renderer

    sys.stdout.write(renderer(output_format)(diagnostics, sources))
