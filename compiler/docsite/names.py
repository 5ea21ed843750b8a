"""How the docs name a file: from its repository root, the same from any working
directory, never an absolute path of the building machine.

One `pipec docs` call may document several projects (repositories) at once, and each
has its own `teams.pipe` and `pipelines/...`. Named from their own roots, two projects'
files would read the same, so when the inputs come from more than one project every
name is qualified by its project's folder name (`alpha/teams.pipe`,
`beta/teams.pipe`); with one project the names are as before. A project is the folder
names are relative to: the repository root (`pipec.config.repository_root`), which
holds every file a pipeline imports (imports cannot leave a project, P002).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipec.loader import source_file, stdlib_root


def portable(path: str) -> str:
    """A file name safe to publish, and the same from any working directory: from the
    repository root (as SARIF names it), `std/...` for the standard library; never an
    absolute path of the building machine."""
    from pipec.config import repository_name

    in_repository = repository_name(path)
    if in_repository is not None:
        return in_repository
    candidate = Path(path)
    if not candidate.is_absolute():
        return candidate.as_posix()
    for root, prefix in ((stdlib_root(), "std/"), (Path.cwd(), "")):
        try:
            return prefix + candidate.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return candidate.name


def project_of(display: str) -> Path | None:
    """The root of the project a file (by display name) belongs to; None for the standard
    library and in-memory sources, which belong to none."""
    from pipec.config import repository_root

    path = source_file(display)
    return None if path is None else repository_root(path).resolve()


@dataclass(frozen=True)
class FileNames:
    """Publishable file names for one site; `labels` qualifies each project's files
    when the site documents several (empty: one project, plain names)."""

    labels: dict[Path, str] = field(default_factory=dict)

    @classmethod
    def of(cls, displays: Iterable[str]) -> FileNames:
        """The names for a site built from the files `displays` (their display names)."""
        roots = {root for root in map(project_of, displays) if root is not None}
        return cls(project_labels(roots) if len(roots) > 1 else {})

    def project(self, display: str) -> str | None:
        """The label of the file's project, or None when names are not qualified."""
        root = project_of(display) if self.labels else None
        return None if root is None else self.labels.get(root)

    def __call__(self, display: str) -> str:
        name = portable(display)
        label = self.project(display)
        return name if label is None else f"{label}/{name}"


def project_labels(roots: set[Path]) -> dict[Path, str]:
    """For each root, the shortest tail of its path that no other root shares (its
    folder name, unless two checkouts have the same one: then `a/repo`, `b/repo`).
    Relative, so no absolute path is published, and independent of the working folder."""
    for depth in range(1, max((len(root.parts) for root in roots), default=0) + 1):
        labels = {root: "/".join(root.parts[1:][-depth:]) for root in roots}
        if len(set(labels.values())) == len(labels):
            return labels
    # Only roots that differ in their drive alone (`C:\\x`, `D:\\x`) get here.
    return {root: f"{'/'.join(root.parts[1:])}-{index}"
            for index, root in enumerate(sorted(roots), start=1)}
