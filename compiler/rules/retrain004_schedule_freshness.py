"""RETRAIN004: a cron schedule that fires more often than any source can change."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import cron
from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.literals import format_duration
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
For `retrain scheduled "CRON"`, computes the smallest interval between two firings of
the schedule (in UTC) and compares it with the smallest `freshness` (update cadence)
of the sources. Warns when the schedule fires more often than the freshest source is
updated.

## Why is this bad?
A retrain on data that cannot have changed costs compute and produces a model
identical in data to the last one; with an unseeded component it produces a different
model from the same data, which looks like drift.

## Example
```pipe
pipeline p {
  retrain scheduled "0 * * * *"
  source events {
    from csv "events.csv"
    snapshot latest
    freshness 1d
    schema { id: string }
  }
}
```

## Use instead
```pipe
pipeline p {
  retrain scheduled "0 3 * * *"
  source events {
    from csv "events.csv"
    snapshot latest
    freshness 1d
    schema { id: string }
  }
}
```
'''


@rule("RETRAIN004", "warning", "a schedule that fires more often than the data changes", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    retrain = program.retrain()
    if retrain is None or retrain.mode != "scheduled" or retrain.cron is None:
        return
    freshest = _freshest_source(program)
    if freshest is None:
        return
    source, cadence = freshest
    interval = smallest_interval(retrain.cron.value)
    if interval is None or interval >= cadence:
        return
    yield warning("RETRAIN004", f"`{retrain.cron.value}` fires every "
                  f"{format_duration(interval)} at its most frequent, but the freshest source "
                  f"`{source}` changes every {format_duration(cadence)}: some retrains would "
                  "see the same data", retrain.cron.span,
                  f"retrain at most every {format_duration(cadence)}{_example(cadence)}")


# Schedules an example may suggest: (smallest interval in seconds, cron, how often).
EXAMPLES = ((3_600.0, "0 * * * *", "hourly"), (86_400.0, "0 3 * * *", "daily"),
            (7 * 86_400.0, "0 3 * * 1", "weekly"), (28 * 86_400.0, "0 3 1 * *", "monthly"),
            (365 * 86_400.0, "0 3 1 1 *", "yearly"))


def _example(cadence: float) -> str:
    """A schedule that fires no more often than the data changes (the daily one for
    daily data, not a daily one for weekly data, which would warn again)."""
    for interval, expression, often in EXAMPLES:
        if interval == cadence:
            return f" (e.g. `{expression}` for {often} data)"
        if interval > cadence:
            return f" (e.g. `{expression}`, {often})"
    return ""


def _freshest_source(program: Program) -> tuple[str, float] | None:
    cadences = []
    for source in program.blocks("source"):
        setting = source.setting("freshness")
        if setting is not None and isinstance(setting.value, n.Duration) \
                and setting.value.seconds > 0:
            cadences.append((setting.value.seconds, source.name.name))
    if not cadences:
        return None
    seconds, name = min(cadences)
    return name, seconds


def smallest_interval(expression: str) -> float | None:
    """Seconds between the two closest firings (UTC); None if the expression is not one
    every target accepts (P001 reports that) or fires fewer than twice."""
    try:
        return cron.smallest_interval(cron.parse(expression))
    except cron.CronError:
        return None
