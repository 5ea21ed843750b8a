"""`pipec check FILE...`: exit 0 clean or warnings only, 1 any error (or any warning
with --strict), 2 usage error or unreadable file."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipec.commands._files import readable, usable

if TYPE_CHECKING:
    from pathlib import Path

    from pipec.check import CheckOptions


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="files, directories or globs")
    parser.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    # What `config.options_for` does with them: --select replaces the project's list,
    # --ignore adds to it.
    parser.add_argument("--select", help="comma-separated codes or prefixes (LEAK) to run, "
                        "instead of [tool.pipec] select (default: all)")
    parser.add_argument("--ignore", help="comma-separated codes or prefixes to skip, besides "
                        "[tool.pipec] ignore")
    # pre-commit passes only the changed files: without this, a commit that removes a
    # team from `teams.pipe` passes while the pipelines that import it no longer check.
    parser.add_argument("--with-importers", action="store_true",
                        help="also check the files of the same project that import a "
                             "named file, directly or not")


def run(args: argparse.Namespace) -> int:
    from pipec.diagnostics import Severity

    unknown = unknown_codes(args)
    if unknown:
        print(f"pipec: {unknown}", file=sys.stderr)
        return 2
    # An argument that names nothing readable is said on stderr and makes the exit 2,
    # but the other files are still checked: one deleted or unreadable file in a
    # pre-commit run must not hide the findings in all the others.
    files, all_usable = usable(args.files)
    if not files:
        if args.format in ("json", "sarif"):
            # Still a document (`[]`, a SARIF log without results), as when only some
            # arguments are missing: the tool reading stdout (a code-scanning upload that
            # runs whatever the status) gets what it parses, and the status says exit 2.
            emit([], {}, args.format)
        return 2
    checked = _check_files(files, args)
    emit(checked.diagnostics, checked.sources, args.format)
    if not all_usable or not checked.all_readable or checked.config_errors:
        return 2
    if any(d.severity is Severity.ERROR for d in checked.diagnostics) \
            or checked.strict_failed:
        return 1
    return 0


@dataclass
class _Checked:
    diagnostics: list = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    # A warning in a file whose own project is strict (`--strict`, or its `strict =
    # true`): in a monorepo, one project's strictness must not fail another's warnings.
    strict_failed: bool = False
    all_readable: bool = True
    # The messages of the projects whose `[tool.pipec]` cannot be used (exit 2).
    config_errors: list[str] = field(default_factory=list)


def _check_files(files: list, args: argparse.Namespace) -> _Checked:
    from pipec.check import compile
    from pipec.diagnostics import Severity
    from pipec.loader import Loader

    loader = Loader()  # shared: each imported file is parsed once for all inputs
    checked = _Checked()
    if args.with_importers:
        from pipec.commands._importers import ReusingLoader, find_importers

        found = find_importers(files)
        files = files + found.files
        loader = ReusingLoader(found.parsed)  # finding them parsed every file already
    for path in files:
        if not readable(path):
            checked.all_readable = False
            continue
        options = _options(path, args, checked)
        if options is None:
            continue
        program = compile(path, loader=loader, options=options)
        checked.diagnostics.extend(program.diagnostics)
        checked.strict_failed = checked.strict_failed or (options.strict and any(
            d.severity is Severity.WARNING for d in program.diagnostics))
        checked.sources.update({f.display: f.text for f in loader.files.values()})
    # A file imported by several of the files (or named as well) reports each problem once.
    checked.diagnostics = list(dict.fromkeys(checked.diagnostics))
    return checked


def _options(path: Path, args: argparse.Namespace, checked: _Checked) -> CheckOptions | None:
    """The file's options from its project's `[tool.pipec]` and the command line, or None
    when that table cannot be used: said once per project on stderr (exit 2), while the
    files of the other projects are still checked, as with a file that cannot be read
    (a pre-commit run in a monorepo passes the files of several projects at once)."""
    from pipec.config import ConfigError, options_for

    try:
        return options_for(path, args)
    except ConfigError as exc:
        if str(exc) not in checked.config_errors:
            checked.config_errors.append(str(exc))
            if getattr(args, "debug", False):  # as for any error pipec stops on
                import traceback

                traceback.print_exc()
            print(f"pipec: {exc}", file=sys.stderr)
        return None


def unknown_codes(args: argparse.Namespace) -> str | None:
    """A `--select`/`--ignore` entry that names no code: a typo there would silently
    check nothing (or ignore nothing), so it is a usage error. Entries are codes or
    prefixes (`LEAK`), as in `[tool.pipec]`."""
    from pipec.config import unknown_code

    for option in ("select", "ignore"):
        given = getattr(args, option, None)
        for entry in given.split(",") if given else ():
            problem = unknown_code(entry)
            if problem:
                where = "" if entry else f" in `{given}`"
                return f"--{option}: {problem}{where}"
    return None


def emit(diagnostics: list, sources: dict[str, str], output_format: str) -> None:
    if output_format == "text":
        sources = _with_undecodable(diagnostics, sources)
        if sys.stdout.isatty():
            from pipec.render.text import print_rich

            print_rich(diagnostics, sources)
        else:
            from pipec.render.text import render_plain

            sys.stdout.write(render_plain(diagnostics, sources))
        return
    from pipec.render import renderer

    sys.stdout.write(renderer(output_format)(diagnostics, sources))


def _with_undecodable(diagnostics: list, sources: dict[str, str]) -> dict[str, str]:
    """A file that is not valid UTF-8 has no text (P001 at its first bad byte); for the
    source line and caret it is read again with bad bytes as U+FFFD, the decoding the
    parser counted the P001 column in, so the caret lands on the bad byte."""
    from pathlib import Path

    from pipec.parser import normalize_newlines

    missing = {d.span.file for d in diagnostics
               if d.code == "P001" and not sources.get(d.span.file)}
    if not missing:
        return sources
    filled = dict(sources)
    for name in missing:
        try:
            text = Path(name).read_bytes().decode("utf-8", errors="replace")
            text = text.removeprefix("\ufeff")  # as `decode` drops it (and counts without)
            filled[name] = normalize_newlines(text)  # the lines the P001 was counted in
        except (OSError, ValueError):
            continue
    return filled
