"""The Python warnings a model stage's fit or scoring raises, kept in the stage's report.

scikit-learn warns rather than fails when a fit goes wrong in a way it can finish (a
LogisticRegression stopped at `max_iter`), and so do numpy (an overflow) and a project's
own class. Python's default handler printed them with the library's file path in the
middle of `pipec run`'s progress lines (and of an orchestrator's task log), and nothing of
them reached the stage's report. While a model stage runs, each distinct warning (its
category and text) is counted instead, and the report keeps it with a hint (`hint`).

The filters in force still decide what is ignored and what is an error (`-W error`, a
library's own `ignore`); only "shown once" becomes "counted every time", so a count is
every occurrence, and a second stage in the same process is told of a warning too.
Python's warning filters are the process's: the stages that count them run one at a time
in their process's main thread (`pipec run`, a task's `pipec stage run`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# Distinct warnings a report keeps; past it only their number (a message with a changing
# number in it, warned on every row, must not grow the report without bound).
KEPT = 20
MESSAGE_CHARS = 2000
_ONCE = frozenset({"default", "module", "once"})


@dataclass(slots=True)
class Tally:
    """Occurrences per (category, message), in the order they were first raised."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    omitted: set[tuple[str, str]] = field(default_factory=set)

    def add(self, message: Warning | str, category: type[Warning], filename: str,
            lineno: int, file: Any = None, line: str | None = None) -> None:
        """`warnings.showwarning`'s signature: the file and line are the library's own,
        which the report leaves out (a machine path, of no use to the pipeline's author)."""
        key = (category.__name__, _text(str(message)))
        if key in self.counts or len(self.counts) < KEPT:
            self.counts[key] = self.counts.get(key, 0) + 1
        else:
            self.omitted.add(key)

    def report(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        """The report's entries: `warnings` (absent when there was none) and
        `warnings_omitted`, the distinct warnings past KEPT. `kind`: the stage's kind,
        `params`: the estimator's parameters, for the hints."""
        found: dict[str, Any] = {}
        if self.counts:
            found["warnings"] = [{"category": category, "message": message, "count": count,
                                  "hint": hint(category, message, kind, params)}
                                 for (category, message), count in self.counts.items()]
        if self.omitted:
            found["warnings_omitted"] = len(self.omitted)
        return found


@contextmanager
def counted_warnings() -> Iterator[Tally]:
    """Count the warnings raised in the block instead of printing them (see the module's
    docstring); the filters and the handler are restored after it."""
    tally = Tally()
    with warnings.catch_warnings():
        # catch_warnings made the filters a copy of their own, and reset the registries
        # of warnings already shown once: changing the copy changes nothing outside.
        warnings.filters[:] = [("always", *rule[1:]) if rule[0] in _ONCE else rule
                               for rule in warnings.filters]
        warnings.filters.append(("always", None, Warning, None, 0))  # the default action's
        warnings.showwarning = tally.add
        yield tally


def _text(message: str) -> str:
    """The message without its blank lines and trailing spaces, cut at MESSAGE_CHARS."""
    lines = [line.rstrip() for line in message.strip().splitlines() if line.strip()]
    text = "\n".join(lines)
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS - 3] + "..."


def hint(category: str, message: str, kind: str, params: dict[str, Any]) -> str:
    """What to do about a warning: a known cause's remedy, else what it means for the
    stage (the run went on)."""
    lowered = message.lower()
    if category == "ConvergenceWarning":
        if "max_iter" in params:
            return f"raise `max_iter` in its params (now {params['max_iter']})"
        return "raise the estimator's iteration limit in its params"
    if "feature names" in lowered:
        return ("the model was fitted on its features in one form (a frame or an array) "
                "and given them in the other: a project's class must pass them on to its "
                "estimator the same way in fit and in predict")
    if category == "DataConversionWarning" and "column-vector y" in lowered:
        return "the label reached the estimator as a column: pass it on as a 1-d array"
    if category == "RuntimeWarning" and any(
            what in lowered for what in ("overflow", "divide by zero", "invalid value")):
        return ("a computation left the range of a float or divided by zero: look for "
                "features with huge values or no spread, and at the model's own code")
    if category == "InconsistentVersionWarning":
        return "the model was stored by another version of the library: train it again"
    if category in ("FutureWarning", "DeprecationWarning"):
        return ("a later version of the library changes this: set what the message names "
                "to keep the model as it is")
    return _GENERIC.get(kind, "the stage went on: check that its result is what you meant")


_GENERIC = {
    "train": "the model was fitted all the same: check that it is the one you meant",
    "evaluate": "the test set was scored all the same: check the scores the gates judged",
}
