"""Reading a file and its imports: relative paths, `std/` paths into the bundled
standard library, P002 for a missing file or a cycle. One `Loader` can serve many
files (`pipec check dir/`), parsing each imported file once."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.parser import ParseResult, parse_bytes

STD_PREFIX = "std/"
# What the project root is (`pipec.config.project_root`), for the P002 that leaves it.
ROOT_HELP = ("keep shared .pipe files inside the project: the nearest folder above the file "
             "with a `pyproject.toml` or `.git`, or, with neither, the highest folder above "
             "it that is not shared (not a top-level folder such as /tmp, the home folder, "
             "or one anyone may write to); add a `.git` or `pyproject.toml` where the "
             "project starts")


def stdlib_root() -> Path:
    return Path(str(resources.files("pipec.stdlib")))


def display_path(path: Path) -> str:
    """A file named on the command line, as diagnostics show it: a file of the bundled
    standard library as it is imported (`std/checks/events.pipe`), never by where pipec
    is installed; another one relative to the working directory when below it, else as
    given. A file of the user's own `std/` folder is `./std/...`: `std/...` always means
    the standard library (the SARIF and GitHub renderers rely on that)."""
    in_std = _std_name(path)
    if in_std is not None:
        return in_std
    shown = path
    if path.is_absolute():
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            return str(path)
    return _not_std(str(shown))


def import_display(importer: str, written: str, target: Path) -> str:
    """An imported file (`target`) as diagnostics show it: named the way the user names
    it, from the importing file's own name and the import's path (`../x.pipe` importing
    `teams.pipe` is `../teams.pipe`), so that no machine path the user never typed
    appears; a file of the standard library is `std/...`."""
    in_std = _std_name(target)
    if in_std is not None:
        return in_std
    if importer.startswith(STD_PREFIX):  # from the standard library to a file outside it
        return display_path(target)
    folder = posixpath.dirname(importer.replace(os.sep, "/"))
    return _not_std(posixpath.normpath(posixpath.join(folder, written)))


def _std_name(path: Path) -> str | None:
    try:
        inside = _resolve(path).relative_to(_resolve(stdlib_root()))
    except ValueError:
        return None
    return STD_PREFIX + inside.as_posix()


def _not_std(name: str) -> str:
    return f"./{name}" if name.replace(os.sep, "/").startswith(STD_PREFIX) else name


def source_file(display: str) -> Path | None:
    """The file on this machine that a display name stands for, or None for a file of the
    standard library (not the user's) or an in-memory source (`<string>`)."""
    if display.startswith(STD_PREFIX) or display.startswith("<"):
        return None
    return Path(os.path.abspath(display))  # symlinks kept: the name the user gave


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

    def load(self, path: Path, display: str | None = None) -> LoadedFile:
        """`display`: the name to show (an import's); by default `display_path(path)`."""
        resolved = _resolve(path)
        if resolved not in self.files:
            self.files[resolved] = self._read(resolved, display or display_path(path))
        return self.files[resolved]

    def load_source(self, text: str, display: str, path: Path) -> LoadedFile:
        """An in-memory file (the Python API, tests). A lone surrogate (a str no file
        could hold) becomes bytes that are not UTF-8, which P001 reports."""
        result = parse_bytes(text.encode("utf-8", "surrogatepass"), display)
        loaded = self._loaded(_resolve(path), display, result)
        self.files[_resolve(path)] = loaded
        return loaded

    def _read(self, path: Path, display: str) -> LoadedFile:
        try:
            data = path.read_bytes()
        except OSError as exc:
            if exc.filename is not None:
                raise
            # It opened, then failed when read (an I/O error): name the file, as a
            # failure to open it does, so that the file is blamed, not pipec.
            raise OSError(exc.errno, exc.strerror or str(exc), display) from exc
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
            problem = self._import_problem(loaded, target, stmt, stack)
            if problem is not None:
                diagnostics.append(problem)
                continue
            if target not in done:
                try:
                    imported = self.load(target, import_display(loaded.display,
                                                                stmt.path.value, target))
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

    def _import_problem(self, importer: LoadedFile, target: Path, stmt: n.Import,
                        stack: list[Path]) -> Diagnostic | None:
        if target in stack:
            # One cycle is one diagnostic whichever of its files was checked first (`pipec
            # check a.pipe b.pipe c.pipe` said it three times, at three imports): told
            # from its first file by name, at the import that closes it.
            ring = stack[stack.index(target):]
            first = min(range(len(ring)), key=lambda i: (self.files[ring[i]].display, i))
            ring = ring[first:] + ring[:first]
            closing = self.files[ring[-1]].imports.get(ring[0], stmt)
            cycle = " -> ".join(self.files[p].display for p in ring + ring[:1])
            return error("P002", f"import cycle: {cycle}", closing.span,
                         "move the shared declarations into a file that imports neither")
        if target.is_dir():
            return error("P002", f"import `{stmt.path.value}` names a folder, not a .pipe "
                         "file", stmt.path.span,
                         "import each file: `import \"folder/teams.pipe\"`")
        if not target.is_file():
            looked = import_display(importer.display, stmt.path.value, target)
            return error("P002", f"imported file `{stmt.path.value}` not found "
                         f"(looked for {looked})", stmt.path.span,
                         _not_found_help(stmt.path.value, target))
        if self.root is not None and not _is_within(target, self.root) \
                and not _is_within(target, stdlib_root()):
            return error("P002", f"import `{stmt.path.value}` reaches outside the project "
                         f"root", stmt.path.span, ROOT_HELP)
        return None


def imports_failed(files: Iterable[LoadedFile], main: Path,
                   diagnostics: Iterable[Diagnostic]) -> bool:
    """True when an import failed (P002) or an imported file did not parse (P001: it has
    no module): the teams and sets it would bring are unknowable, so a reference to one
    that is not declared is no mistake of the importing file, only an echo."""
    return any(d.code == "P002" for d in diagnostics) or any(
        f.module is None for f in files if f.path != main)


def _not_found_help(written: str, target: Path) -> str:
    # `import "teams"` beside a teams.pipe: the path is a file name, never completed.
    if not written.endswith(".pipe") and Path(f"{target}.pipe").is_file():
        return f"did you mean `import \"{written}.pipe\"`? (the path names the file whole)"
    return "paths are relative to the importing file; `std/...` names the standard library"


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
