"""What the code of a train stage's model class is now, for its cache key.

scikit-learn is covered by the library versions every key holds. A model class from
another allowed module (`[tool.pipec] allowed_model_modules`) is covered here: by the
version of the installed distribution it comes from, or by the sha256 of its source files
when it is the project's own code (a module or package on the path, an editable
checkout), with the project's modules it imports (a helper beside it). Editing the class
or such a helper trains again instead of reusing a model the old code made.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

# Top-level modules whose code the library versions in every cache key already cover.
COVERED_MODULES = frozenset({"sklearn"})


def model_code(path: str | None, project: Path) -> Any:
    """For `module.Class`: None when covered elsewhere, else its versions or source hash.
    Found as the train stage imports it (the project's folder first, see
    `project_importable`), without importing anything (that would run the project's code)."""
    top = (path or "").rpartition(".")[0].split(".")[0]
    return None if not top or top in COVERED_MODULES else module_code(top, project)


@cache  # once per process: a run's stages all see the code as it was when it started
def module_code(top: str, project: Path) -> Any:
    files = _source_files(top, project)
    if not files or _installed(files[0]):
        return _distribution_versions(top)
    files = _with_project_imports(files, project)
    digest = hashlib.sha256()
    for file in files:
        try:
            digest.update(str(file).encode() + b"\0" + file.read_bytes() + b"\0")
        except OSError:
            continue
    return digest.hexdigest()


def _source_files(top: str, project: Path) -> list[Path]:
    import sys

    return _sources(top, [str(project), *sys.path])


def _sources(name: str, path: list[str]) -> list[Path]:
    """The source files of module or package `name` as found on `path`."""
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec(name, path)
    if spec is None:
        return []
    places = list(spec.submodule_search_locations or [])
    if places:
        return sorted(p for place in places for p in Path(place).rglob("*.py"))
    return [Path(spec.origin)] if spec.has_location and spec.origin else []


def _with_project_imports(files: list[Path], project: Path) -> list[Path]:
    """`files` and the sources of the project's own modules they import, and so on: a
    model module beside the .pipe file that imports a helper beside it (`from scaling
    import SHIFT`) fits what the helper says, and an edit of the helper reused the model
    the old code made. Read with `ast`, not imported (that would run the project's code);
    only modules found in the project's folder count (the installed ones are covered by
    the library versions or are not the project's)."""
    found, queue = set(files), list(files)
    while queue:
        for name in sorted(_imported_modules(queue.pop())):
            for source in _sources(name, [str(project)]):
                if source not in found:
                    found.add(source)
                    queue.append(source)
    return sorted(found)


def _imported_modules(file: Path) -> set[str]:
    """The top-level modules `file` imports by absolute name (a package's relative
    imports are its own files, already counted)."""
    import ast

    try:
        tree = ast.parse(file.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _installed(file: Path) -> bool:
    import sysconfig

    libraries = [Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")]
    return any(file.resolve().is_relative_to(place) for place in libraries)


def _distribution_versions(top: str) -> dict[str, str] | None:
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    found = {}
    for dist in sorted(packages_distributions().get(top) or []):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return found or None
