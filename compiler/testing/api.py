"""`assert_split_properties`: the one line a user adds to their own test suite."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipec.testing.spec import SpecError, SplitSpec, split_spec

if TYPE_CHECKING:
    from pipec.model import Program
    from pipec.testing.properties import Impl, Options


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
    shrunk counterexample when one does not hold, and the seed and command that replay
    it (`pipec test FILE ...` where that command tests the same split), or with the
    diagnostics when the file does not check. Returns the spec it tested.

    `def test_splits(): assert_split_properties("model.pipe")`
    """
    from pipec.testing.properties import Options, SplitPropertyFailure, properties_for

    if isinstance(target, str | Path):
        target = resolve_path(target)  # the test that called us
    try:
        spec = load_split(target, caller_depth=3)
    except SpecError as exc:
        raise AssertionError(str(exc)) from None
    options = Options(max_examples=max_examples, seed=seed, **extra)
    for prop in properties_for(spec, cross_process=cross_process):
        try:
            prop(spec, impl, options)
        except SplitPropertyFailure as failure:
            failure.replay = _replay(target, impl, options, cross_process)
            raise
    return spec


def _replay(target: Program | SplitSpec | Path, impl: Impl | None, options: Options,
            cross_process: bool) -> str:
    """The line `pipec test` ends a failure with: its command where it draws the same
    examples of the same split (a file, the runtime's split, no option it lacks), else
    the call to make again."""
    from pipec.testing.report import replay_command, replay_line

    path = _file_of(target)
    drawing = _drawing_options(options)
    if path is not None and impl is None and not drawing:
        return replay_line(replay_command(path, max_examples=options.max_examples,
                                          seed=options.seed, cross_process=cross_process),
                           options.seed)
    args = [repr(path) if path is not None else f"<the same {type(target).__name__}>"]
    if impl is not None:
        args.append(f"impl={_name(impl)}")
    args.append(f"max_examples={options.max_examples}")
    if options.seed is not None:
        args.append(f"seed={options.seed}")
    if not cross_process:
        args.append("cross_process=False")
    args += [f"{key}={value!r}" for key, value in drawing.items()]
    return replay_line(f"assert_split_properties({', '.join(args)})", options.seed)


def _file_of(target: Program | SplitSpec | Path) -> str | None:
    """The `.pipe` file to name in a command, relative to the working directory where it
    is inside it (where pytest runs, and so where the user runs `pipec test`)."""
    if isinstance(target, SplitSpec):
        return None
    path = target if isinstance(target, Path) else target.path
    if not path.is_file():
        return None  # a program compiled from text
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _drawing_options(options: Options) -> dict[str, Any]:
    """The options, other than the seed and the number of examples, that change what is
    drawn and that `pipec test` has no flag for."""
    from dataclasses import fields

    from pipec.testing.properties import Options

    default = Options()
    return {f.name: getattr(options, f.name) for f in fields(Options)
            if f.name not in ("max_examples", "seed", "tick")
            and getattr(options, f.name) != getattr(default, f.name)}


def _name(impl: Impl) -> str:
    module, qualname = getattr(impl, "__module__", None), getattr(impl, "__qualname__", None)
    return f"{module}.{qualname}" if module and qualname else repr(impl)
