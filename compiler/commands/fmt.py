"""`pipec fmt [--check] FILE...`: 0 nothing to change (or rewritten), 1 with --check when
a file would change or a file does not parse, 2 unreadable or unwritable (2 wins). A file
that does not parse is left untouched and its diagnostics printed (on stderr with
`--diff`, whose stdout is the diff, for `patch` or a pager). An argument that names
nothing readable is reported and the other files are still formatted, as `check` checks
them. A symlink is followed."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from pipec.commands._files import read, usable


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a file would change")
    parser.add_argument("--diff", action="store_true",
                        help="print a diff instead of writing; exit 1 when a file would change")


def run(args: argparse.Namespace) -> int:
    files, all_usable = usable(args.files)
    status = 0 if all_usable else 2
    for path in files:
        data = read(path)
        status = max(status, 2 if data is None else _format_file(path, data, args))
    return status


def _format_file(path: Path, data: bytes, args: argparse.Namespace) -> int:
    from pipec.atomic import write_text
    from pipec.commands.check import emit
    from pipec.fmt import format_module
    from pipec.loader import display_path
    from pipec.parser import parse_bytes

    result = parse_bytes(data, display_path(path))
    if result.module is None:
        out = sys.stderr if args.diff else sys.stdout
        with contextlib.redirect_stdout(out):
            emit(result.diagnostics, {display_path(path): result.text}, "text")
        return 1
    formatted = format_module(result.module, result.text)
    # Compared with the file as it is, BOM included: the parser drops a BOM, and fmt
    # never writes one, so a BOM is a change like CRLF, whatever else changes.
    before = data.decode("utf-8")
    if formatted == before:
        return 0
    if args.check or args.diff:
        print(f"would reformat {display_path(path)}", file=sys.stderr)
        if args.diff:
            _print_diff(before, formatted, display_path(path))
        return 1
    if not path.stat().st_mode & 0o222:
        # A rename replaces a read-only file as easily as any other (and root may write
        # anything): honour the mode the user set, as an editor would.
        print(f"pipec: `{path}` is read-only; not reformatted", file=sys.stderr)
        return 2
    try:
        write_text(path, formatted)  # through a symlink: the link stays, its target changes
    except OSError as exc:
        print(f"pipec: cannot write `{path}`: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"reformatted {display_path(path)}", file=sys.stderr)
    return 0


def _print_diff(before: str, after: str, name: str) -> None:
    import difflib

    for line in difflib.unified_diff(_diff_lines(before), _diff_lines(after), name, name):
        # A last line without a newline is marked as diff(1) marks it, or the next line
        # of the diff would be glued to it (a malformed patch).
        sys.stdout.write(line if line.endswith("\n") else
                         line + "\n\\ No newline at end of file\n")


def _diff_lines(text: str) -> list[str]:
    """Lines ended by LF only, as `patch` reads them: `str.splitlines` also ends a line
    at a form feed, U+2028 or NEL (inside a comment), which made the hunk's line counts
    disagree with the file and glued lines together."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
