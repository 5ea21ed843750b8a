"""How a failed stage's error reads: the runtime's own errors by their message, anything
else with its class, and a signal kept as a field rather than read back from text."""

from __future__ import annotations

import signal

from pipec.stdlib.runtime.errors import SourceError, Terminated, failure_text
from pipec.stdlib.runtime.registry import RegistryError
from pipec.stdlib.runtime.stage import failure_report


def test_the_runtimes_own_errors_read_as_their_message() -> None:
    assert failure_text(SourceError("source 'events': `e.csv` does not exist")) == \
        "source 'events': `e.csv` does not exist"
    assert failure_text(RegistryError("m v2 was never in production")) == \
        "m v2 was never in production"
    assert failure_text(Terminated("stopped by SIGTERM")) == "stopped by SIGTERM"


def test_any_other_error_keeps_its_class() -> None:
    # A project's own model raising ValueError: the class is part of what happened.
    assert failure_text(ValueError("bad input")) == "ValueError: bad input"
    assert failure_text(ZeroDivisionError()) == "ZeroDivisionError"
    assert failure_text(SourceError()) == "SourceError"


def test_a_signal_is_recorded_as_a_field() -> None:
    stopped = failure_report(Terminated("interrupted by SIGINT", signal.SIGINT), 2)
    assert stopped == {"error": "interrupted by SIGINT", "attempt": 2,
                       "signal": signal.SIGINT}
    assert failure_report(KeyError("x"), 1) == {"error": "KeyError: 'x'", "attempt": 1}
