"""A stop that reaches a stage inside native code. DuckDB runs Python's signal handlers
during a query only now and then; when it does, it stops the query and raises `RuntimeError:
Query interrupted` in place of the handler's exception. The stage was then recorded as
that query error, and a Ctrl-C did not end `pipec run` (its other branches ran on). A
stage's `timeout` now stops its DuckDB queries from a timer thread, and `stops_kept`
puts the stop back in place of the error it became."""

from __future__ import annotations

import os
import signal
import threading
import time

import duckdb
import pytest
from pipec.stdlib.runtime.db import connect, interrupt_queries
from pipec.stdlib.runtime.errors import (
    Terminated,
    TimedOut,
    signals_stop_the_stage,
    stage_deadline,
    stops_kept,
)

# Minutes of work for DuckDB: only a stop ends it soon.
ENDLESS_QUERY = "SELECT sum(hash(range)) FROM range(100000000000)"


def _guarded_query(guard_fired: threading.Event) -> None:
    """ENDLESS_QUERY on a connection of the runtime's, which a guard interrupts after
    a minute (setting `guard_fired`), so that a test whose stop never came fails instead
    of running on: the test asserts the guard never fired, not how long it took."""
    con = connect()

    def guard_stops_it() -> None:
        guard_fired.set()
        con.interrupt()

    guard = threading.Timer(60, guard_stops_it)
    guard.start()
    try:
        con.execute(ENDLESS_QUERY).fetchall()
    finally:
        guard.cancel()


def test_a_timeout_stops_a_query_and_reads_as_a_timeout() -> None:
    guard_fired = threading.Event()
    with pytest.raises(TimedOut, match="timed out after 200ms"), stops_kept(), \
            stage_deadline(0.2, interrupt_queries):
        _guarded_query(guard_fired)
    assert not guard_fired.is_set()  # stopped by the deadline, not the guard


def test_a_query_that_starts_as_the_deadline_strikes_is_stopped_too() -> None:
    """DuckDB drops an interrupt sent while none of its queries runs: a query that was
    just starting as the deadline struck missed it and ran to its end. The deadline
    stops the stage's queries again until the stage ends. SIGALRM is held back here,
    as a query holds back Python's handler, so that only the interrupts can end it."""
    struck = threading.Event()
    calls: list[float] = []

    def stop_queries() -> None:
        calls.append(time.monotonic())
        interrupt_queries()
        struck.set()

    guard_fired = threading.Event()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        with pytest.raises(TimedOut), stops_kept(), stage_deadline(0.1, stop_queries):
            assert struck.wait(60)  # the first interrupt reached no query
            _guarded_query(guard_fired)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
    assert not guard_fired.is_set() and len(calls) >= 2


def test_a_timeout_stops_python_code() -> None:
    with pytest.raises(TimedOut, match="timed out after 200ms"), stops_kept(), \
            stage_deadline(0.2, interrupt_queries):
        time.sleep(60)


def _native_call() -> None:
    """What DuckDB does when it runs a signal handler mid-query: it drops the handler's
    exception and raises its own."""
    try:
        time.sleep(60)
    except BaseException:
        raise RuntimeError("Query interrupted") from None


def test_a_signal_native_code_swallowed_still_stops_the_stage() -> None:
    reasons = {signal.SIGUSR1: "stopped by SIGUSR1"}
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR1))
    with pytest.raises(Terminated, match="stopped by SIGUSR1") as stopped, \
            signals_stop_the_stage(reasons), stops_kept():
        timer.start()
        _native_call()
    timer.join()
    assert stopped.value.signum == signal.SIGUSR1


def test_a_signal_stops_a_query_at_once() -> None:
    """SIGINT or SIGTERM during a query: a thread that hears the signal as it arrives
    stops the query, which DuckDB alone did only now and then (or after minutes)."""
    reasons = {signal.SIGUSR1: "stopped by SIGUSR1"}
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR1))
    guard_fired = threading.Event()
    with pytest.raises(Terminated, match="stopped by SIGUSR1"), \
            signals_stop_the_stage(reasons, interrupt_queries), stops_kept():
        timer.start()
        _guarded_query(guard_fired)
    timer.join()
    assert not guard_fired.is_set()  # stopped by the signal, not the guard


def test_an_error_of_the_stage_s_own_is_left_as_it_is() -> None:
    """No stop came: the query's own error is the stage's failure."""
    with pytest.raises(duckdb.Error, match="no_such_table"), stops_kept(), \
            stage_deadline(60, interrupt_queries):
        connect().execute("SELECT * FROM no_such_table")


def test_a_deadline_that_ended_stops_nothing_later() -> None:
    """The stage ended before its deadline: the timer acts on nothing after it, and a
    query of the next stage runs to its end."""
    with stops_kept(), stage_deadline(0.2, interrupt_queries):
        pass
    time.sleep(0.4)
    assert connect().execute("SELECT count(*) FROM range(1000)").fetchone() == (1000,)


def test_a_stop_handled_before_a_stage_is_not_that_stage_s_stop() -> None:
    """A stop that reached no stage (raised, then handled outside any) leaves nothing for
    the next stage to take for its own."""
    reasons = {signal.SIGUSR1: "stopped by SIGUSR1"}
    with pytest.raises(Terminated), signals_stop_the_stage(reasons):
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(5)
    with pytest.raises(ValueError, match="its own"), stops_kept():
        raise ValueError("its own")
