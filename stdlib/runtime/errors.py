"""Typed errors of the runtime.

A user mistake or a data problem is always one of these, never a bare RuntimeError, so
that the CLI and the run record can say *which* stage failed and why.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any


class PipecRuntimeError(Exception):
    """Base class of every error the runtime raises on purpose."""


class Terminated(BaseException):
    """The process was told to stop (SIGTERM: an orchestrator's timeout or a cancel)
    while a stage ran. A BaseException, like KeyboardInterrupt, so that no `except
    Exception` in stage code swallows it; the stage is recorded as failed, and the run's
    record is written when no retry follows. `signum`: the signal that stopped it (the
    exit status of `pipec run` is 128 + signum, as a shell reports it)."""

    def __init__(self, message: str, signum: int = signal.SIGTERM) -> None:
        super().__init__(message)
        self.signum = signum


@contextmanager
def signals_stop_the_stage(reasons: Mapping[int, str]) -> Iterator[set[str]]:
    """While the yielded set is not empty, each signal of `reasons` (SIGTERM: an
    orchestrator's timeout or cancel, Airflow's `on_kill`, Kubernetes before its SIGKILL;
    SIGINT: Ctrl-C at `pipec run`) raises Terminated with its reason in the stage, which
    is recorded as failed, with the run's record when no retry follows. The first one
    clears the set; once it is cleared, a signal is held off until the record is written
    (a SIGKILL still ends the process), then delivered to the handler that was there
    before. Python runs the handler between bytecodes: a long call into native code (a
    DuckDB query, a model fit) finishes first."""
    running = {"stage"}
    pending: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        if not running:
            pending.append(signum)
            return
        running.clear()
        raise Terminated(reasons[signum], signum)

    try:
        # None: a handler installed outside Python, which cannot be put back; the default
        previous = {signum: signal.signal(signum, stop) or signal.SIG_DFL
                    for signum in reasons}
    except ValueError:  # not the main thread (called in-process): no handler to install
        yield running
        return
    try:
        yield running
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if pending:
        _deliver(pending[0], previous[pending[0]])


def _deliver(signum: int, handler: Any) -> None:
    """A signal held off, now given to the handler that was there before ours."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), signum)  # the record is written: now stop


def failure_text(exc: BaseException) -> str:
    """How a stage's failure reads in the run's output, its record and its alert. The
    runtime's own errors (a source that cannot be read, a registry refusal, a signal)
    are worded for the user: their message alone. Anything else (a project's model
    raising ValueError, a DuckDB conversion error) keeps its class, which is part of
    what happened."""
    if isinstance(exc, PipecRuntimeError | Terminated):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class ArtifactMissing(PipecRuntimeError):
    """An artifact id is not (or no longer) in the store."""


class StoreGone(PipecRuntimeError):
    """The run store's folder was deleted while the run wrote to it."""


class SourceError(PipecRuntimeError):
    """A source could not be read, or its declared time column is missing."""


class ManifestError(PipecRuntimeError):
    """The manifest lacks something the runtime needs (a stage, a field)."""


class MissingUpstream(PipecRuntimeError):
    """A stage's input was produced neither in this run nor by any earlier run."""


class StageNotAvailable(PipecRuntimeError):
    """The runtime has no runner for this stage kind (yet)."""

    def __init__(self, kind: str, stage_id: str) -> None:
        super().__init__(f"stage {stage_id!r}: the runtime cannot run stages of kind {kind!r} yet")
        self.kind = kind
        self.stage_id = stage_id


class RunStopped(PipecRuntimeError):
    """The run stops on purpose at a stage; `status` says how it ends."""

    status = "blocked"

    def __init__(self, stage_id: str, report: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.stage_id = stage_id
        self.report = report


class ValidationBlocked(RunStopped):
    """A blocking validation check failed; the run must stop before training.

    `report` is the validate stage's full report (every check, not only the failing
    ones) so the run record can say which check failed on how many rows.
    """

    def __init__(self, stage_id: str, report: dict[str, Any]) -> None:
        # Only the checks that block: a failed `warn` check did not stop the run. Named
        # once each (a schema constraint and a validate rule may be the same check), and
        # `; ` between them, as a check's own name may hold commas (`unique a, b`).
        failed = list(dict.fromkeys(c["check"] for c in report.get("checks", [])
                                    if not c["passed"] and c.get("severity", "block") == "block"))
        super().__init__(stage_id, report,
                         f"{stage_id}: blocking validation failed: {'; '.join(failed)}")


class TrainingRefused(RunStopped):
    """The train set cannot make a model (no labelled row, one class for an estimator
    that needs two, values the estimator refuses): a data problem that blocks the run
    (exit 1) like a failed check, not an environment error."""


class NotBlessed(RunStopped):
    """The evaluation did not bless the model: the register stage refuses it."""

    def __init__(self, stage_id: str, report: dict[str, Any]) -> None:
        # Once each: a stage's own line and a gate set's may say the same.
        self.failed = list(dict.fromkeys(g["line"] for g in report.get("gates", [])
                                         if g["blocking"] and not g["passed"]))
        super().__init__(stage_id, report, f"{stage_id}: the model is not blessed; failed "
                                           f"gates: {', '.join(self.failed)}")


class RollbackPinUnusable(RunStopped):
    """The register stage pins `rollback VERSION` to a version the registry cannot
    restore (none such, or it never served): refused at registration, not found out
    during the incident that needs the rollback."""


class ApprovalRejected(RunStopped):
    """The reviewer rejected the candidate at the orchestrator's human step (Airflow's
    HITL Reject): the run ends blocked at the approval stage; the version stays a
    candidate, never promoted by this run."""

    def __init__(self, stage_id: str, report: dict[str, Any]) -> None:
        super().__init__(stage_id, report,
                         f"{stage_id}: {report['model']} v{report['version']} was rejected "
                         f"by {report['rejected_by']} at the approval step; it stays a "
                         "candidate")


class AwaitingApproval(RunStopped):
    """A registered candidate waits for a human approval before promotion."""

    status = "waiting"

    def __init__(self, stage_id: str, report: dict[str, Any]) -> None:
        super().__init__(stage_id, report,
                         f"{stage_id}: {report['model']} v{report['version']} waits for approval "
                         f"by {report['approver']} (`pipec registry approve "
                         f"{report['model']}@{report['version']} --by {report['approver']}`)")
