"""BACKFILL001: a backfill range that overlaps the test period."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import Moment, TimeSplit, moment_of_value, time_split

DOC = '''
## What it does
Compares each feature view's `backfill FROM..TO` range with the test period of the
time split (`test from` up to `until`, open-ended when there is no `until`). Dates that
depend on a `snapshot latest` the checker cannot know are checked again at run time.

## Why is this bad?
A backfill recomputes features for past dates with today's definition and data. If it
covers the test period, the evaluation scores the model on rewritten history that
production never saw, and the gates pass on numbers that cannot be reproduced.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    entity user
    time at
    schema { user: string, at: timestamp, amount: float }
  }
  features spend version 2 {
    from events
    entity user
    point_in_time
    feature spend_7d = sum(amount) over 7d
    backfill 2026-02-01..2026-04-01 validated
  }
  split by time on at {
    train before 2026-03-01
    test from 2026-03-01
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    entity user
    time at
    schema { user: string, at: timestamp, amount: float }
  }
  features spend version 2 {
    from events
    entity user
    point_in_time
    feature spend_7d = sum(amount) over 7d
    backfill 2026-01-01..2026-03-01 validated
  }
  split by time on at {
    train before 2026-03-01
    test from 2026-03-01
  }
}
```
'''


@rule("BACKFILL001", "error", "a backfill range that overlaps the test period", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    split = time_split(program)
    if split is None or split.start is None or split.start.at is None:
        return
    if split.until is not None and split.until.at is None:
        return
    for view in program.blocks("features"):
        for backfill in view.all(n.Backfill):
            low = moment_of_value(backfill.range.low)
            high = moment_of_value(backfill.range.high)
            if low is None or high is None:
                continue
            # Both ranges are half-open: [low, high) and [start, until).
            if high.seconds_after(split.start) <= 0:
                continue
            if split.until is not None and low.seconds_after(split.until) >= 0:
                continue
            period = f"{split.start}..{split.until}" if split.until else \
                f"from {split.start} on"
            yield error("BACKFILL001", f"the backfill {backfill.range.text} of "
                        f"`{view.name.name}` overlaps the test period ({period}): the model "
                        "would be evaluated on rewritten features", backfill.range.span,
                        _fix(backfill.range, low, split))


def _fix(value: n.RangeValue, low: Moment, split: TimeSplit) -> str:
    assert split.start is not None
    if split.start.seconds_after(low) > 0:
        return (f"end the backfill at {split.start} (`backfill {value.low.text}..{split.start}`), "
                "or move the test period after it")
    after = f" or from {split.until} on" if split.until is not None else ""
    return f"backfill only dates before {split.start}{after}, or move the test period"
