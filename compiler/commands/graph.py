"""`pipec graph FILE --format mermaid|dot|json`: the checked DAG. Refuses (exit 1) when
the program has errors, printing them on stderr: stdout is only ever the graph."""

from __future__ import annotations

import argparse
import contextlib
import sys

from pipec.commands._files import single_file


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--format", choices=("mermaid", "dot", "json"), default="mermaid")


def run(args: argparse.Namespace) -> int:
    from pipec.check import compile
    from pipec.commands.check import emit
    from pipec.config import options_for
    from pipec.graph_export import RENDERERS

    path = single_file(args.file, "graph")
    if path is None:
        return 2
    program = compile(path, options=options_for(path))
    if not program.ok:
        with contextlib.redirect_stdout(sys.stderr):
            emit(program.diagnostics, {f.display: f.text for f in program.files}, "text")
        return 1
    if program.pipeline is None:  # a teams-only file: an empty graph would look like a bug
        print(f"pipec: no pipeline in `{args.file}`: nothing to draw", file=sys.stderr)
        return 2
    sys.stdout.write(RENDERERS[args.format](program))
    return 0
