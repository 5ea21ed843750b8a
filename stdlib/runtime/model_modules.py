"""Which modules a train stage's model may come from (`[tool.pipec]
allowed_model_modules`): a `.pipe` file must not be a way to run arbitrary code. Shared
by the runtime, which refuses any other model at the train stage, and by `pipec check`
(SEC002), which says so before any data is read; no import beyond the standard library.

A project's own model module (`my_model.py` beside the .pipe file, listed in
`allowed_model_modules`) is imported from the project's folder, whatever the working
directory: `project_importable`."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_ALLOWED = ("sklearn",)


def module_allowed(path: str, allowed: tuple[str, ...] = DEFAULT_ALLOWED) -> bool:
    """Whether the class path `module.Class` is in an allowed module or a submodule."""
    module, _, _ = path.rpartition(".")
    return bool(module) and any(module == a or module.startswith(a + ".") for a in allowed)


def allowed_modules(options: dict[str, Any]) -> tuple[str, ...]:
    """The allowed model modules of a stage's run options (the project's settings)."""
    return tuple(options.get("allowed_model_modules") or DEFAULT_ALLOWED)


@contextmanager
def project_importable(folder: Path) -> Iterator[None]:
    """`folder` searched first for modules while the block runs (a module imported
    stays imported; only the search path is restored)."""
    entry = str(folder)
    if entry in sys.path:
        yield
        return
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)


def with_project_modules(run: Callable[[Any], T]) -> Callable[[Any], T]:
    """A stage that imports or loads the model: the project's folder is importable."""
    @functools.wraps(run)
    def wrapped(ctx: Any) -> T:
        with project_importable(ctx.base_dir):
            return run(ctx)
    return wrapped
