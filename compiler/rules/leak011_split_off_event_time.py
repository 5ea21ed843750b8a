"""LEAK011: a time split on a column other than the base source's event time."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import base_schema, split_off_event_time

DOC = '''
## What it does
Reports a time split whose `on` column is not the base source's `time` (its event time),
such as `split by time on opened_at` on a source with `time decision_at`. LEAK002 and
LEAK007 do not check such a split: their arithmetic is in event time, which its dates do
not bound.

## Why is this bad?
The split places each row by the `on` column, while labels mature and features are read
from the event time. A training row opened before `train before` may be decided long
after it, inside the test period, with a label from events after the test start: the
`gap` between training and test protects nothing, and the model is tested on a period
it has learned from. Whether a test example's label has matured is likewise unknown from
the split's dates.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    time decided_at
    schema { id: string, decided_at: timestamp, opened_at: timestamp, churn: bool }
  }
  label churned {
    column churn
    known_after 30d
  }
  split by time on opened_at {
    train before 2026-03-01
    gap 30d
    test from 2026-03-31
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    time decided_at
    schema { id: string, decided_at: timestamp, opened_at: timestamp, churn: bool }
  }
  label churned {
    column churn
    known_after 30d
  }
  split by time on decided_at {
    train before 2026-03-01
    gap 30d
    test from 2026-03-31
  }
}
```
'''


@rule("LEAK011", "error", "a time split on a column other than the event time", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    column = split_off_event_time(program)
    if column is None:
        return
    schema = base_schema(program)
    if schema is not None and column.name not in schema:
        return  # T002: the column does not exist
    assert program.base_source is not None
    event_time = program.source_word(program.base_source, "time")
    yield error(
        "LEAK011",
        f"the time split is on `{column.name}`, but source `{program.base_source}` is timed "
        f"by `{event_time}`: rows are placed by `{column.name}` while labels mature and "
        f"features are seen from `{event_time}`, so a training row's `{event_time}` (and "
        "its label) may fall in the test period, and the gap cannot be checked against the "
        "label maturity", column.span,
        f"write `split by time on {event_time}` (or drop `on`); if `{column.name}` is when "
        f"each example is scored, make it the source's time (`time {column.name}`)")
