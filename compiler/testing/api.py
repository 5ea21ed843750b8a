"""`assert_split_properties`: the one line a user adds to their own test suite."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipec.testing.spec import SpecError, SplitSpec, split_spec

if TYPE_CHECKING:
    from pipec.model import Program
    from pipec.testing.properties import Impl


def resolve_path(path: str | Path, caller_depth: int = 2) -> Path:
    """A relative path as given (from the working directory), else next to the calling
    test file."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    frame = inspect.stack()[caller_depth]
    beside = Path(frame.filename).resolve().parent / path
    return beside if beside.exists() else path


def load_split(target: Program | SplitSpec | str | Path, caller_depth: int = 2) -> SplitSpec:
    """The split of a program, a `.pipe` file (a relative path as in `resolve_path`, from
    the frame `caller_depth` above `resolve_path`: 2 is whoever calls this) or a spec."""
    if isinstance(target, SplitSpec):
        return target
    if isinstance(target, str | Path):
        target = resolve_path(target, caller_depth)
    spec = split_spec(target)
    if spec is None:
        raise SpecError(f"`{target}` declares no split: there is nothing to test")
    return spec


def assert_split_properties(target: Program | SplitSpec | str | Path, *,
                            impl: Impl | None = None, max_examples: int = 25,
                            seed: int | None = None, cross_process: bool = True,
                            **extra: Any) -> SplitSpec:
    """Check every property of the split a `.pipe` file (or a compiled program)
    declares, against `impl` (default: the runtime's). Raises `AssertionError` with the
    shrunk counterexample when one does not hold, or with the diagnostics when the file
    does not check. Returns the spec it tested.

    `def test_splits(): assert_split_properties("model.pipe")`
    """
    from pipec.testing.properties import Options, properties_for

    try:
        spec = load_split(target, caller_depth=3)  # the test that called us
    except SpecError as exc:
        raise AssertionError(str(exc)) from None
    options = Options(max_examples=max_examples, seed=seed, **extra)
    for prop in properties_for(spec, cross_process=cross_process):
        prop(spec, impl, options)
    return spec
