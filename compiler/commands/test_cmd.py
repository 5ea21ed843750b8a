"""`pipec test FILE`: property-based tests of the file's split (hypothesis).

Refuses (exit 1) when the file has errors, printing them. Runs every property of the
split's kind against the runtime's implementation; a failure prints the property, what
broke and the shrunk counterexample as a small table, then the command that replays
it, and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipec.commands._files import single_file


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--max-examples", type=_positive, default=25, metavar="N",
                        help="examples per property (default 25)")
    parser.add_argument("--seed", type=int, default=None,
                        help="explore with this seed instead of the fixed default")
    parser.add_argument("--no-cross-process", action="store_true",
                        help="skip the check in child interpreters (saves a few seconds)")


def _positive(text: str) -> int:
    """At least one example: hypothesis refuses zero, and that must be a usage error
    (exit 2), not an internal one."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def run(args: argparse.Namespace) -> int:
    from pipec.check import compile
    from pipec.commands.check import emit
    from pipec.config import options_for
    from pipec.testing.spec import split_spec

    path = single_file(args.file, "test")
    if path is None:
        return 2
    program = compile(path, options=options_for(path))
    if not program.ok:
        emit(program.diagnostics, {f.display: f.text for f in program.files}, "text")
        return 1
    spec = split_spec(program)
    if spec is None:
        print(f"{path}: declares no split; nothing to test")
        return 0
    return _check(path, spec, args)


def _check(path: Path, spec, args: argparse.Namespace) -> int:  # noqa: ANN001
    from pipec.testing.properties import Options, SplitPropertyFailure, properties_for
    from pipec.testing.report import plain_failure, print_failure
    from rich.console import Console

    console = Console(highlight=False)
    tty = sys.stdout.isatty()
    props = properties_for(spec, cross_process=not args.no_cross_process)
    print(f"{path}: split by {spec.kind}" + (f" on {spec.on}" if spec.on else "")
          + f": {len(props)} properties, {args.max_examples} "
          + ("example" if args.max_examples == 1 else "examples") + " each")
    failures: list[SplitPropertyFailure] = []
    with _Progress(console, tty, len(props), args.max_examples) as progress:
        for prop in props:
            progress.start(prop.name)
            options = Options(max_examples=args.max_examples, seed=args.seed,
                              tick=progress.tick)
            try:
                prop(spec, None, options)
            except SplitPropertyFailure as failure:
                failures.append(failure)
                progress.done(prop.name, ok=False)
            else:
                progress.done(prop.name, ok=True)
    for failure in failures:
        if tty:
            print_failure(console, failure)
        else:
            print(plain_failure(failure))
    if failures:
        print(f"{len(failures)} of {len(props)} split properties do not hold")
        print(_replay(path, args))
        return 1
    print(f"all {len(props)} split properties hold")
    return 0


def _replay(path: Path, args: argparse.Namespace) -> str:
    """How to see the same counterexamples again: the examples follow from the seed (a
    fixed one by default) and the number of examples, so the same command replays them."""
    from pipec.testing.report import replay_command, replay_line

    command = replay_command(str(path), max_examples=args.max_examples, seed=args.seed,
                             cross_process=not args.no_cross_process)
    return replay_line(command, args.seed)


class _Progress:
    """A rich bar on a terminal; one plain line per property otherwise."""

    def __init__(self, console, tty: bool, count: int, examples: int) -> None:  # noqa: ANN001
        self.console, self.tty, self.examples = console, tty, examples
        self.bar = None
        self.task = None
        self.count = count

    def __enter__(self) -> _Progress:
        if self.tty:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), console=self.console, transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("properties", total=self.count * self.examples)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def start(self, name: str) -> None:
        self.ticks = 0
        if self.bar is not None:
            self.bar.update(self.task, description=name)

    def tick(self) -> None:
        if self.bar is not None and self.ticks < self.examples:
            self.ticks += 1
            self.bar.advance(self.task)

    def done(self, name: str, *, ok: bool) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, self.examples - self.ticks)
            mark = "[green]ok[/green]  " if ok else "[red]FAIL[/red]"
            self.console.print(f"{mark} {name}")
        else:
            print(f"{'ok  ' if ok else 'FAIL'} {name}", flush=True)
