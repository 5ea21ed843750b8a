"""`pipec check --with-importers`: the files of a project that import the named ones.

pre-commit passes only the changed files; a changed `teams.pipe` must also check the
pipelines importing it. Finding them parses every `.pipe` file of the project, and the
check then takes those parses over (`ReusingLoader`) rather than parsing them again."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipec.commands._files import walk
from pipec.loader import LoadedFile, Loader


@dataclass
class Importers:
    """What `find_importers` found: the importing files, and every file it parsed."""

    files: list[Path]
    parsed: dict[Path, LoadedFile]  # resolved path -> its parse, for `ReusingLoader`


def find_importers(files: list[Path]) -> Importers:
    """The `.pipe` files that import one of the named files, directly or through other
    files, sorted, named from the working folder; the named files themselves excluded.
    A file may import what lies inside its project's root (P002), so an importer is a
    file whose project root holds the named file: one of the named file's project, or
    of a project around it in the same repository (a `shared/` folder with a
    `pyproject.toml` of its own, imported by the repository's pipelines). A file that
    cannot be read or parsed imports nothing here: the check that follows reports it if
    it is named."""
    named = {path.resolve(): path for path in files}
    candidates = _candidates(list(named))
    parsed = _parse_all({resolved: named.get(resolved, Path(os.path.relpath(path)))
                         for resolved, path in candidates.items()})
    imported_by = _imported_by(parsed)
    found: set[Path] = set()
    waiting = list(named)
    while waiting:
        for importer in imported_by.get(waiting.pop(), ()):
            if importer not in found and importer not in named:
                found.add(importer)
                waiting.append(importer)
    return Importers(sorted(Path(os.path.relpath(candidates[r])) for r in found), parsed)


def _candidates(named: list[Path]) -> dict[Path, Path]:
    """The `.pipe` files (resolved -> as found) that could import one of `named`
    (resolved): below each one's repository root (its project root outside a
    repository), in a project whose root holds it. Those of a project nested beside
    or below it are left out unparsed: they cannot import it (P002)."""
    from pipec.config import project_root, repository_root

    roots: dict[Path, Path] = {}  # folder -> its project root, found once per folder

    def may_import(path: Path) -> bool:
        if path.parent not in roots:
            roots[path.parent] = project_root(path)
        root = roots[path.parent]
        return any(root == target or root in target.parents for target in named)

    searched = sorted({repository_root(target) for target in named})
    return {path.resolve(): path for top in searched for path in walk(top)
            if may_import(path)}


def _parse_all(files: dict[Path, Path]) -> dict[Path, LoadedFile]:
    """Each file (resolved -> named as the check names it: as given when it is named,
    else from the working folder, as the importers are) parsed under that name, so that
    the check can take the parse over instead of parsing the file again. A file that
    cannot be read is left out."""
    loader = Loader()
    parsed = {}
    for resolved, path in files.items():
        try:
            parsed[resolved] = loader.load(path)
        except OSError:
            continue
    return parsed


def _imported_by(parsed: dict[Path, LoadedFile]) -> dict[Path, set[Path]]:
    """Each imported file (resolved) and the files (resolved) among `parsed` importing it."""
    imported_by: dict[Path, set[Path]] = {}
    for resolved, loaded in parsed.items():
        for target in loaded.imports:
            imported_by.setdefault(target, set()).add(resolved)
    return imported_by


class ReusingLoader(Loader):
    """A loader that takes over a parse `find_importers` made instead of parsing the file
    again (a pre-commit run of `--with-importers` parsed every file of the project twice),
    but only a parse made under the very name this loader would give the file: the name
    is in every span and diagnostic, and a file imported as `../teams.pipe` must be
    shown so, as without `--with-importers`."""

    def __init__(self, parsed: dict[Path, LoadedFile]) -> None:
        super().__init__()
        self._parsed = dict(parsed)

    # `Loader.load` calls `_read` (resolved path, the name to show) for a file it has not
    # loaded yet: the one place where a file is read and parsed.
    def _read(self, path: Path, display: str) -> LoadedFile:
        earlier = self._parsed.pop(path, None)
        if earlier is not None and earlier.display == display:
            return earlier
        return super()._read(path, display)
