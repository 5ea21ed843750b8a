"""Resolving a source's path: kept apart from the DuckDB code so that deciding whether
a cached stage can be skipped imports no data library."""

from __future__ import annotations

import glob
from pathlib import Path

GLOB_CHARACTERS = "*?["


def resolve_path(path: str, base_dir: Path) -> str:
    """Relative paths are relative to the manifest's base dir; URLs pass through.

    The result is read as a pattern (DuckDB globs every path it reads, and a `*`, `?` or
    `[` makes the runtime glob too), so the base dir's own glob characters are escaped:
    only a pattern written in the `.pipe` file is one. Unescaped, a project in `runs [1]/`
    read the files of a folder `runs 1/` beside it, and one in `a*/` those of every `aX/`.
    """
    if "://" in path or Path(path).is_absolute():
        return path
    folder = str(base_dir)
    if any(c in folder for c in GLOB_CHARACTERS):
        folder = glob.escape(folder)
    return str(Path(folder) / path)


def local_path(path: str, base_dir: Path) -> Path:
    """The file a source's path names, as the file system reads it (never a pattern):
    for checking that it exists, hashing it or reading it here. `resolve_path` is what
    DuckDB is given."""
    return Path(path) if Path(path).is_absolute() else base_dir / path
