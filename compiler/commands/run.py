"""`pipec run FILE [--from STAGE] [--until STAGE]`: the local runner.

Exit status: 0 registered (and promoted where no approval is needed) or finished, 1 a
blocking check or gate failed (or the program has errors), 2 a stage failed, or a usage
or environment error, 3 registered and waiting for approval; 128 + the signal when
SIGINT (130) or SIGTERM (143) stopped the run (the stage is recorded as failed, with the
run's record)."""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipec.commands._files import single_file
from pipec.commands._runtime import EXIT_CODES, resolve_stage, store_problem


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--from", dest="from_stage", metavar="STAGE", type=_stage_word,
                        help="start here; earlier stages reuse their latest outputs, "
                             "unless they changed since")
    parser.add_argument("--until", metavar="STAGE", type=_stage_word,
                        help="stop after this stage")
    parser.add_argument("--project", help="folder for the run store (default: FILE's folder)")
    parser.add_argument("--retry-delay", type=_seconds, metavar="SECONDS",
                        help="seconds between retries of a failed stage (default: 300, "
                             "as every target waits)")


def _stage_word(text: str) -> str:
    """A stage named on the command line. Empty is refused: `--until "$STAGE"` with the
    variable unset would otherwise read as no `--until` and run (and deploy) everything."""
    if not text.strip():
        raise argparse.ArgumentTypeError("name a stage (its id, kind or name); leave the "
                                         "option out to run every stage")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0")
    return value


def run(args: argparse.Namespace) -> int:
    path = single_file(args.file, "run")
    if path is None:
        return 2
    program, found, manifest = _compile(path)
    if manifest is None:
        _say(program, found)
        return 1
    if program.pipeline is None:  # a teams-only or empty file: there is nothing to run
        print(f"pipec: no pipeline in `{args.file}`: nothing to run", file=sys.stderr)
        return 2
    try:
        until = resolve_stage(manifest, args.until) if args.until is not None else None
        from_stage = resolve_stage(manifest, args.from_stage) \
            if args.from_stage is not None else None
        _check_range(manifest, from_stage, until)
    except ValueError as exc:
        print(f"pipec: {exc}", file=sys.stderr)
        return 2
    # Said together, with one count of errors and warnings under them.
    _say(program, found + _dirty(program, path))
    try:
        result = _execute(manifest, path, args, from_stage, until)
    except (sqlite3.DatabaseError, OSError) as exc:
        from pipec.stdlib.runtime.store import STORE_DIR

        store = Path(args.project or path.parent) / STORE_DIR
        if (problem := store_problem(exc, store)) is None:
            raise
        print(f"pipec: {problem}", file=sys.stderr)
        return 2
    if result.traceback and getattr(args, "debug", False):  # the failure is recorded too
        print(result.traceback, end="", file=sys.stderr)
    from pipec.commands.run_report import print_report

    _heard(print_report, result)
    if result.stopped_by is not None:
        return 128 + result.stopped_by  # as a shell reports a process a signal stopped
    return EXIT_CODES.get(result.status, 2)


def _heard(write: Callable[..., None], *args: Any) -> None:
    """Print, or, when the reader of stdout has left (`pipec run | head`), go on
    without one: a run stopped half-way by its output would leave a registered model
    with no run record (and the run's exit code would be lost), and one stopped by its
    first warnings would not run at all."""
    try:
        write(*args)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # what is still buffered goes nowhere
        os.close(devnull)


def _check_range(manifest: dict[str, Any], from_stage: str | None, until: str | None) -> None:
    """`--from` must be `--until` or upstream of it: the runner runs `until` and its
    ancestors, starting at `from`; any other pair would run nothing and succeed."""
    from pipec.stdlib.runtime.runner import ancestors

    if from_stage is None or until is None or from_stage in ancestors(manifest, until):
        return
    raise ValueError(f"`--from {from_stage}` is not upstream of `--until {until}`: "
                     "nothing would run")


def _compile(path: Path) -> tuple[Any, list[Any], dict[str, Any] | None]:
    """The program, what the checks found, and its manifest (None when it has errors)."""
    from pipec.backends.runtime_limits import runtime_limits
    from pipec.check import compile
    from pipec.config import options_for
    from pipec.diagnostics import has_errors
    from pipec.manifest import build_manifest

    program = compile(path, options=options_for(path))
    # What no target's runtime can do (BUILD001/BUILD002) is said before any stage runs,
    # not after the model is trained.
    found = program.diagnostics + (runtime_limits(program) if program.ok else [])
    if has_errors(found):
        return program, found, None
    return program, found, build_manifest(program)


def _dirty(program: Any, path: Path) -> list[Any]:
    from pipec.rules.repro005_dirty_tree import repro005

    return repro005(program, path.resolve().parent)


def _say(program: Any, found: list[Any]) -> None:
    """The diagnostics, in one block: emitted twice, each block ended with its own
    `0 errors, N warnings`, and the first one's count was wrong for the whole."""
    from pipec.commands.check import emit

    if found:
        _heard(emit, found, {f.display: f.text for f in program.files}, "text")


def _execute(manifest: dict[str, Any], path: Path, args: argparse.Namespace,
             from_stage: str | None, until: str | None) -> Any:
    from pipec.commands.progress import stage_progress
    from pipec.config import load_config
    from pipec.stdlib.runtime.errors import RETRY_DELAY_S
    from pipec.stdlib.runtime.runner import planned_stages, run_pipeline

    folder = path.resolve().parent
    project = Path(args.project).resolve() if args.project else folder
    config = load_config(path)
    options = {"allowed_model_modules": list(config.allowed_model_modules)}
    delay = RETRY_DELAY_S if args.retry_delay is None else args.retry_delay
    # The bar counts the stages this run will reach: `--until` leaves the rest out.
    planned = [s["id"] for s in planned_stages(manifest, until)]
    with stage_progress(planned) as progress:
        return run_pipeline(manifest, folder, project, from_stage=from_stage, until=until,
                            progress=lambda *status: _heard(progress, *status),
                            options=options, retry_delay_s=delay)
