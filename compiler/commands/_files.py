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
            files.extend(_walk(path))
        elif path.is_file():
            files.append(path)
        elif any(ch in argument for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(argument, recursive=True))
            files.extend(p for p in matches if p.is_file())
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


def _walk(root: Path) -> list[Path]:
    """The `.pipe` files below `root`, sorted. Skipped folders are not entered at all (a
    `node_modules` can be huge); linked folders are not followed (a link loop), and a
    folder that cannot be listed or vanishes meanwhile is passed over, as `rglob` would
    pass over an unreadable one."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if d not in SKIP_DIRS]
        found.extend(Path(folder, name) for name in names if name.endswith(".pipe"))
    return sorted(path for path in found if path.is_file())


def importers(files: list[Path]) -> list[Path]:
    """The `.pipe` files of the named files' projects that import one of them, directly
    or through other files, sorted, named from the working folder; the named files
    themselves excluded. Imports cannot leave a project (P002), so its folder holds every
    importer. A file that cannot be read or parsed imports nothing here: the check that
    follows reports it if it is named."""
    from pipec.config import project_root

    named = {path.resolve() for path in files}
    candidates = {path.resolve(): path for root in sorted({project_root(f) for f in files})
                  for path in _walk(root)}
    imported_by = _imported_by(candidates)
    found: set[Path] = set()
    waiting = list(named)
    while waiting:
        for importer in imported_by.get(waiting.pop(), ()):
            if importer not in found and importer not in named:
                found.add(importer)
                waiting.append(importer)
    return sorted(Path(os.path.relpath(candidates[resolved])) for resolved in found)


def _imported_by(files: dict[Path, Path]) -> dict[Path, set[Path]]:
    """Each imported file (resolved) and the files (resolved) among `files` importing it.
    A loader of its own: the check's loader must name each file as the check would."""
    from pipec.loader import Loader

    loader = Loader()
    imported_by: dict[Path, set[Path]] = {}
    for resolved, path in files.items():
        try:
            targets = loader.load(path).imports
        except OSError:
            continue
        for target in targets:
            imported_by.setdefault(target, set()).add(resolved)
    return imported_by


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
