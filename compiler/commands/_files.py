"""Finding `.pipe` files from command-line arguments (files, directories, globs)."""

from __future__ import annotations

import errno
import glob
import os
import sys
from pathlib import Path

SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".pipec"}


def expand(arguments: list[str]) -> tuple[list[Path], list[str]]:
    """Files to work on, and the arguments that named nothing readable."""
    files: list[Path] = []
    missing: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            files.extend(walk(path))
        elif path.is_file():
            files.append(path)
        elif any(ch in argument for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(argument, recursive=True))
            files.extend(_matched_files(argument, matches))
            if not matches:
                missing.append(argument)
        else:
            missing.append(argument)
    # One file named two ways (`x.pipe`, `/abs/x.pipe`, a link) is worked on once, under
    # the first name given: otherwise its diagnostics or its docs page would appear twice.
    unique: dict[Path, Path] = {}
    for file in files:
        unique.setdefault(file.resolve(), file)
    return list(unique.values()), missing


def _matched_files(pattern: str, matches: list[Path]) -> list[Path]:
    """The `.pipe` files a glob stands for, as if its matches were named one by one (as a
    shell expands it): a matched folder is walked (`pipec check 'examples/*'` checked
    none of the examples' files and passed), and of the matched files only the `.pipe`
    ones are kept (`'examples/**'` reported the Parquet data files as P001). A skipped
    folder (`node_modules`) is entered only when the pattern names it."""
    named = set(Path(pattern).parts)
    kept = [path for path in matches
            if not any(part in SKIP_DIRS and part not in named for part in path.parts)]
    folders = {path for path in kept if path.is_dir()}
    # `**` also matches every folder below a matched one: walk the topmost ones only.
    topmost = [f for f in folders if not any(p in folders for p in f.parents)]
    found = [path for path in kept if path.is_file() and path.name.endswith(".pipe")]
    for folder in topmost:
        found.extend(walk(folder))
    return sorted(found)


def walk(root: Path) -> list[Path]:
    """The `.pipe` files below `root`, sorted. Skipped folders are not entered at all (a
    `node_modules` can be huge); linked folders are not followed (a link loop), and a
    folder that cannot be listed or vanishes meanwhile is passed over, as `rglob` would
    pass over an unreadable one."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if d not in SKIP_DIRS]
        found.extend(Path(folder, name) for name in names if name.endswith(".pipe"))
    return sorted(path for path in found if path.is_file())


def report_missing(missing: list[str]) -> None:
    for argument in missing:
        print(f"pipec: cannot read `{argument}`: {_why_missing(Path(argument))}",
              file=sys.stderr)


def _why_missing(path: Path) -> str:
    if path.is_symlink():
        try:
            path.stat()
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "a symbolic link loop"
        return "a symbolic link to nothing"
    if path.exists():
        return "not a regular file or a folder"
    return "no such file or directory"


def usable(arguments: list[str]) -> tuple[list[Path], bool]:
    """`expand`, reporting what named nothing; the files, and whether to go on (exit 2
    otherwise: a missing argument, or no `.pipe` file under any of them)."""
    files, missing = expand(arguments)
    report_missing(missing)
    if not missing and not files:
        named = ", ".join(f"`{a}`" for a in arguments)
        print(f"pipec: no .pipe files found in {named}", file=sys.stderr)
    return files, bool(files) and not missing


def single_file(argument: str, command: str) -> Path | None:
    """The one file a command such as `graph` or `build` works on, or None after saying
    on stderr why `argument` is not one: a folder, nothing at all, a link loop..."""
    path = Path(argument)
    if path.is_dir():
        print(f"pipec: `{argument}` is a folder; `pipec {command}` takes one .pipe file",
              file=sys.stderr)
        return None
    if not path.is_file():
        report_missing([argument])
        return None
    return path if readable(path) else None


def readable(path: Path) -> bool:
    """Whether `path` can be read to its end; if not, says why on stderr. Opening is not
    enough: some files open but fail when read (`/proc/self/mem`, a failing disk)."""
    return read(path) is not None


def read(path: Path) -> bytes | None:
    """The file's bytes, or None after saying on stderr why they cannot be read."""
    try:
        with path.open("rb") as file:
            return file.read()
    except OSError as exc:
        print(f"pipec: cannot read `{path}`: {exc.strerror or exc}", file=sys.stderr)
        return None
