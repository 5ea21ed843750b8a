"""Reading a file and its imports: relative paths, `std/` paths into the bundled
standard library, P002 for a missing file or a cycle. One `Loader` can serve many
files (`pipec check dir/`), parsing each imported file once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.parser import ParseResult, parse_bytes

STD_PREFIX = "std/"


def stdlib_root() -> Path:
    return Path(str(resources.files("pipec.stdlib")))


def display_path(path: Path) -> str:
    """Paths in diagnostics: relative to the working directory when below it."""
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass
class LoadedFile:
    path: Path
    display: str
    text: str
    module: n.Module | None
    diagnostics: list[Diagnostic]
    # Resolved import path -> the import statement naming it.
    imports: dict[Path, n.Import] = field(default_factory=dict)


@dataclass
class Loader:
    """Caches parsed files by resolved path."""

    root: Path | None = None
    files: dict[Path, LoadedFile] = field(default_factory=dict)

    def load(self, path: Path) -> LoadedFile:
        resolved = _resolve(path)
        if resolved not in self.files:
            self.files[resolved] = self._read(resolved, display_path(path))
        return self.files[resolved]

    def load_source(self, text: str, display: str, path: Path) -> LoadedFile:
        """An in-memory file (the Python API, tests)."""
        result = parse_bytes(text.encode("utf-8"), display)
        loaded = self._loaded(_resolve(path), display, result)
        self.files[_resolve(path)] = loaded
        return loaded

    def _read(self, path: Path, display: str) -> LoadedFile:
        data = path.read_bytes()
        return self._loaded(path, display, parse_bytes(data, display))

    def _loaded(self, path: Path, display: str, result: ParseResult) -> LoadedFile:
        loaded = LoadedFile(path, display, result.text, result.module, list(result.diagnostics))
        if result.module is not None:
            for stmt in result.module.imports:
                target = resolve_import(path, stmt.path.value)
                # A file imported twice (`a.pipe`, `./a.pipe`) is one import; a problem
                # with it is reported once, at the first statement naming it.
                loaded.imports.setdefault(target, stmt)
        return loaded

    def closure(self, path: Path) -> tuple[list[LoadedFile], list[Diagnostic]]:
        """The file and everything it imports, depth first; P002 for a missing,
        unreadable or cyclic import."""
        order: list[LoadedFile] = []
        diagnostics: list[Diagnostic] = []
        self._visit(self.load(path), [], set(), order, diagnostics)
        return order, diagnostics

    def _visit(self, loaded: LoadedFile, stack: list[Path], done: set[Path],
               order: list[LoadedFile], diagnostics: list[Diagnostic]) -> None:
        stack.append(loaded.path)
        for target, stmt in loaded.imports.items():
            problem = self._import_problem(target, stmt, stack)
            if problem is not None:
                diagnostics.append(problem)
                continue
            if target not in done:
                try:
                    imported = self.load(target)
                except OSError as exc:  # there, but unreadable (permissions)
                    diagnostics.append(error(
                        "P002", f"cannot read imported file `{stmt.path.value}`: "
                        f"{exc.strerror or exc}", stmt.path.span,
                        "check the file's permissions"))
                    continue
                self._visit(imported, stack, done, order, diagnostics)
        stack.pop()
        if loaded.path not in done:
            done.add(loaded.path)
            order.append(loaded)

    def _import_problem(self, target: Path, stmt: n.Import,
                        stack: list[Path]) -> Diagnostic | None:
        if target in stack:
            cycle = " -> ".join(display_path(p) for p in stack[stack.index(target):] + [target])
            return error("P002", f"import cycle: {cycle}", stmt.span,
                         "move the shared declarations into a file that imports neither")
        if target.is_dir():
            return error("P002", f"import `{stmt.path.value}` names a folder, not a .pipe "
                         "file", stmt.path.span,
                         "import each file: `import \"folder/teams.pipe\"`")
        if not target.is_file():
            return error("P002", f"imported file `{stmt.path.value}` not found "
                         f"(looked for {display_path(target)})", stmt.path.span,
                         "paths are relative to the importing file; `std/...` names the "
                         "standard library")
        if self.root is not None and not _is_within(target, self.root) \
                and not _is_within(target, stdlib_root()):
            return error("P002", f"import `{stmt.path.value}` reaches outside the project "
                         f"root", stmt.path.span, "keep shared .pipe files inside the project")
        return None


def resolve_import(importer: Path, written: str) -> Path:
    if written.startswith(STD_PREFIX):
        return _resolve(stdlib_root() / written[len(STD_PREFIX):])
    return _resolve(importer.parent / written)


def _resolve(path: Path) -> Path:
    """`Path.resolve`, except that a symlink loop (RuntimeError before Python 3.13, OSError
    after) or an impossible name gives the plain absolute path, reported as not found."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return Path(os.path.abspath(path))


def _is_within(path: Path, root: Path) -> bool:
    try:
        _resolve(path).relative_to(_resolve(root))
    except ValueError:
        return False
    return True
