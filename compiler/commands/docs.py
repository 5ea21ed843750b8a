"""`pipec docs FILE... -o DIR`: ownership and lineage documentation.

Writes `manifest.json` (docs/manifest.schema.json), `index.html` (one self-contained
page), `index.md` and one `<pipeline>.md` per pipeline into DIR, as `build` writes its
folder (`pipec.atomic.write_tree`), and removes the pages of pipelines an earlier run
documented and this one does not; other files in DIR stay. Refuses (exit 1,
nothing written) when any file has errors, like `pipec build`; warnings are shown in
the pages as open diagnostics. Exit 2 for arguments that name nothing readable, or an
output folder pipec cannot own (the current folder, one holding the inputs: `_output`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipec.commands._files import readable, usable
from pipec.commands._output import output_problem, write_output


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="files, directories or globs")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="folder for manifest.json, index.html and the Markdown pages")


def run(args: argparse.Namespace) -> int:
    from pipec.check import compile
    from pipec.commands.check import emit
    from pipec.config import options_for
    from pipec.docsite import build_docs_manifest, previous_pages, site_files
    from pipec.loader import Loader

    files, go_on = usable(args.files)
    if not go_on:
        return 2
    if not all(readable(path) for path in files):
        return 2
    output = Path(args.output)
    problem = output_problem(output, files)
    if problem is not None:
        print(f"pipec: {problem}", file=sys.stderr)
        return 2
    loader = Loader()  # shared: teams.pipe is parsed once for every pipeline importing it
    programs = [compile(path, loader=loader, options=options_for(path)) for path in files]
    # dict.fromkeys: a file imported by several of them reports its errors once
    broken = list(dict.fromkeys(d for p in programs if not p.ok for d in p.diagnostics))
    if broken:
        emit(broken, {f.display: f.text for f in loader.files.values()}, "text")
        print("pipec docs: fix the errors above; nothing was written", file=sys.stderr)
        return 1
    try:
        written = site_files(build_docs_manifest(programs))
    except UnicodeEncodeError:
        # Only a file name can hold a lone surrogate (a `.pipe` string cannot: P001), and
        # the pages name every file from its project's root.
        print("pipec docs: a documented file's path from its project's folder is not UTF-8, "
              "and the pages name it; rename that folder or file. Nothing was written",
              file=sys.stderr)
        return 2
    if not write_output(output, written, remove=previous_pages(output)):
        return 2
    pages = sum(1 for name in written if name != "manifest.json")
    print(f"wrote {output / 'manifest.json'} and {pages} pages to {output}")
    return 0

