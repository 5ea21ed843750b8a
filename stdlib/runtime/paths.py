"""Resolving a source's path: kept apart from the DuckDB code so that deciding whether
a cached stage can be skipped imports no data library."""

from __future__ import annotations

from pathlib import Path


def resolve_path(path: str, base_dir: Path) -> str:
    """Relative paths are relative to the manifest's base dir; URLs pass through."""
    if "://" in path or Path(path).is_absolute():
        return path
    return str(base_dir / path)
