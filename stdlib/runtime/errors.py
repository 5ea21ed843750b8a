"""Typed errors of the runtime.

A user mistake or a data problem is always one of these, never a bare RuntimeError, so
that the CLI and the run record can say *which* stage failed and why.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
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


# The language has no retry delay; every target, and `pipec run`, waits this long between
# attempts (Airflow's own default).
RETRY_DELAY_S = 300


class TimedOut(BaseException):
    """The stage ran past its `timeout` at `pipec run` (`stage_deadline`). A
    BaseException for the reason Terminated is one; unlike a signal, it fails only the
    stage, which its `retries` then run again, as an orchestrator's timeout does."""


# How often a stop that reached the stage stops its queries again while the stage goes
# on: DuckDB drops an interrupt that arrives when no query is running, so a query that
# was just starting as the first one came would run to its end (minutes, for some).
REINTERRUPT_S = 0.5


class _PendingStop:
    """The stop (Terminated, TimedOut) that is to end the running stage, raised once.
    Native code that runs Python's signal handlers in the middle of a call raises its own
    error in place of the handler's and drops it (DuckDB stops its query with
    `RuntimeError: Query interrupted`), and a timeout stops a query from another thread
    (`stage_deadline`): `stops_kept` then raises this stop instead."""

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.raised = False

    def set(self, error: BaseException) -> None:
        self.error, self.raised = error, False

    def clear(self) -> None:
        self.error, self.raised = None, False

    def raise_once(self) -> None:
        if self.error is not None and not self.raised:
            self.raised = True
            raise self.error


_PENDING = _PendingStop()


@contextmanager
def stops_kept() -> Iterator[None]:
    """Raise the stop that reached the block (a signal's Terminated, a TimedOut) in
    place of the error native code made of it, so that the stage is recorded as what
    stopped it (`interrupted by SIGINT`, `timed out after 2h`), and a Ctrl-C during a
    query ends the run rather than failing one stage as a query error would. The stop
    stays known, raised, after the block: the handler of the signal, which may run only
    now, then raises nothing more."""
    _PENDING.clear()
    try:
        yield
    except BaseException as exc:
        stop = _PENDING.error
        if stop is not None and exc is not stop:  # raised and swallowed, or not raised yet
            _PENDING.raised = True
            raise stop from exc
        raise


@contextmanager
def stage_deadline(seconds: float | None,
                   on_expiry: Callable[[], None] | None = None) -> Iterator[None]:
    """Raise TimedOut (`timed out after 2h`) in the stage once `seconds` have passed: a
    timer thread then calls `on_expiry` (which stops the stage's DuckDB queries, where
    Python's signal handlers are not run reliably) and sends the main thread SIGALRM,
    whose handler raises it in Python code wherever the stage is. A long call into other
    native code (a model fit) finishes first, as with an orchestrator's SIGTERM. None, or
    not the main thread (an in-process caller's own thread, where no handler can be
    installed): no deadline. Use inside `stops_kept`."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    from pipec.literals import format_duration

    timed_out = TimedOut(f"timed out after {format_duration(seconds)}")
    armed = threading.Lock()  # held while the deadline acts, or once the stage has ended
    ended = threading.Event()
    main = threading.main_thread().ident

    def expire() -> None:
        if not armed.acquire(blocking=False):
            return  # the stage has ended
        try:
            _PENDING.set(timed_out)
            if on_expiry is not None:
                on_expiry()
            signal.pthread_kill(main, signal.SIGALRM)  # type: ignore[arg-type]
            while on_expiry is not None and not ended.wait(REINTERRUPT_S):
                on_expiry()  # a query that was starting missed the first
        finally:
            armed.release()

    def handler(_signum: int, _frame: object) -> None:
        if _PENDING.error is timed_out:
            _PENDING.raise_once()

    previous = signal.signal(signal.SIGALRM, handler)
    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        ended.set()
        armed.acquire()  # waits for an expiry in progress; none acts from here on
        # Not SIGALRM's default, which ends the process: the signal an expiry just sent
        # may reach this thread only now, and is then dropped.
        signal.signal(signal.SIGALRM, previous if callable(previous) else _late_alarm)


def _late_alarm(_signum: int, _frame: object) -> None:
    """SIGALRM after its deadline ended: nothing to stop."""


@contextmanager
def signals_stop_the_stage(reasons: Mapping[int, str],
                           on_signal: Callable[[], None] | None = None) -> Iterator[set[str]]:
    """While the yielded set is not empty, each signal of `reasons` (SIGTERM: an
    orchestrator's timeout or cancel, Airflow's `on_kill`, Kubernetes before its SIGKILL;
    SIGINT: Ctrl-C at `pipec run`) raises Terminated with its reason in the stage, which
    is recorded as failed, with the run's record when no retry follows. The first one
    clears the set; once it is cleared, a signal is held off until the record is written
    (a SIGKILL still ends the process), then delivered to the handler that was there
    before. Python runs the handler between bytecodes: a long call into native code (a
    model fit) finishes first. `on_signal` (stopping the stage's DuckDB queries, which
    run Python's handlers only now and then) is called from a thread of its own as the
    signal arrives."""
    running = {"stage"}
    pending: list[int] = []
    ended = threading.Event()
    _PENDING.clear()

    def stop(signum: int, _frame: object) -> None:
        if not running:
            pending.append(signum)
            return
        running.clear()
        seen = _PENDING.error
        if not (isinstance(seen, Terminated) and seen.signum == signum):  # not `arrived`'s
            _PENDING.set(Terminated(reasons[signum], signum))
        _PENDING.raise_once()  # unless `stops_kept` raised it in place of a query's error

    def arrived(signum: int) -> None:  # the watcher's thread, before `stop` runs
        if running and on_signal is not None:
            _PENDING.set(Terminated(reasons[signum], signum))
            on_signal()
            # Until `stop` has run in the stage: a query that was starting missed it.
            while running and not ended.wait(REINTERRUPT_S):
                on_signal()

    try:
        # None: a handler installed outside Python, which cannot be put back; the default
        previous = {signum: signal.signal(signum, stop) or signal.SIG_DFL
                    for signum in reasons}
    except ValueError:  # not the main thread (called in-process): no handler to install
        yield running
        return
    try:
        with _signals_watched(set(reasons), arrived, ended):
            yield running
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if pending:
        _deliver(pending[0], previous[pending[0]])


@contextmanager
def _signals_watched(signums: set[int], act: Callable[[int], None],
                     ended: threading.Event) -> Iterator[None]:
    """Call `act(signum)` from a thread as soon as one of `signums` arrives, however long
    the main thread stays in native code: Python's own handler writes the signal's
    number to its wakeup file descriptor at once (`signal.set_wakeup_fd`), read here."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)

    def watch() -> None:
        while data := os.read(read_fd, 64):  # empty once `write_fd` is closed
            for signum in data:
                if signum in signums:
                    act(signum)

    watcher = threading.Thread(target=watch, name="pipec-signals", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        ended.set()  # an `act` still stopping queries returns
        signal.set_wakeup_fd(previous)
        os.close(write_fd)
        watcher.join()
        os.close(read_fd)


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
    if isinstance(exc, PipecRuntimeError | Terminated | TimedOut):
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
