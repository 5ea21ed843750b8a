"""The checking pipeline: load -> model -> rules -> policy. `compile` is the public API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pipec.analyze import build_program
from pipec.diagnostics import Diagnostic
from pipec.loader import Loader
from pipec.model import Program
from pipec.perf import gc_paused


@dataclass
class CheckOptions:
    """What the command line or `[tool.pipec]` asks for."""

    select: set[str] | None = None
    ignore: set[str] = field(default_factory=set)
    severity: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    # Imports must stay inside this folder (P002); None: anywhere. The CLI sets it.
    root: Path | None = None
    # Source name -> the date its `snapshot latest` resolves to (`build --resolve`).
    resolved_snapshots: dict[str, dt.date] = field(default_factory=dict)
    # The modules a model may come from (SEC002); `[tool.pipec] allowed_model_modules`.
    allowed_model_modules: tuple[str, ...] = ("sklearn",)


def compile(source_or_path: str | Path, *, loader: Loader | None = None,
            options: CheckOptions | None = None) -> Program:
    """Parse, resolve imports, build the model and run every rule.

    Accepts a path, or the text of a program (anything containing a newline or a
    brace, `{` or `}`, and an empty or blank string, is taken as text; it is checked as
    `<string>` in the current directory). A path that cannot be read raises OSError, as
    `open` does; whatever is wrong inside a file is a diagnostic.
    """
    with gc_paused():
        loader = loader or Loader()
        if options is not None and options.root is not None:
            loader.root = options.root  # per file: one loader may serve several projects
        path = _as_path(source_or_path, loader)
        program = build_program(path, loader)
        if options is not None:
            program.resolved_snapshots = dict(options.resolved_snapshots)
            program.allowed_model_modules = options.allowed_model_modules
        if program.module is not None:
            from pipec.rules import run_rules

            program.diagnostics.extend(run_rules(program, _selected(options)))
        program.diagnostics = finalize(program, options or CheckOptions())
    return program


def _as_path(source_or_path: str | Path, loader: Loader) -> Path:
    if isinstance(source_or_path, Path):
        return source_or_path
    if "\n" in source_or_path or "{" in source_or_path or "}" in source_or_path \
            or not source_or_path.strip():
        path = Path.cwd() / "<string>.pipe"
        loader.load_source(source_or_path, "<string>", path)
        return path
    return Path(source_or_path)


def _selected(options: CheckOptions | None) -> set[str] | None:
    return options.select if options is not None else None


def finalize(program: Program, options: CheckOptions) -> list[Diagnostic]:
    """Suppressions and severity policy, then one stable order without duplicates."""
    from pipec.policy import apply_policy

    diagnostics = apply_policy(program, program.diagnostics, options)
    unique = {(d.code, d.span, d.message): d for d in diagnostics}
    return sorted(unique.values(), key=lambda d: d.sort_key)
