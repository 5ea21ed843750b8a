"""LEAK008: a column marked `after_event` used directly as a feature."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import ident_value, marked_inputs, reads_source

DOC = '''
## What it does
Reports a schema column marked `after_event` (known only after the prediction time)
that a train stage lists in its `features`, or that a feature view copies with
`columns [...]` from rows that are not earlier events, or that a feature view aggregates
as of another `time` than its source's own (a trip's delay counted by its booking date,
though the trip departs after the example). A point-in-time aggregate of earlier events'
values (`feature delay_mean_30d = mean(dep_delay) over 30d`, as of the events' own time)
is allowed, and so is a point-in-time view's copy of the latest earlier event's value
(`columns [dep_delay]` keyed by the aircraft: its previous flight's delay).

## Why is this bad?
At prediction time the value does not exist yet (a flight's actual departure delay
when predicting at booking time). The model relies on it in training and gets nothing
in production.

## Example
```pipe
pipeline p {
  source flights {
    from csv "flights.csv"
    schema { id: string, distance: float, dep_delay: float after_event, late: bool }
  }
  label late {
    column late
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    features [distance, dep_delay]
  }
}
```

## Use instead
```pipe
pipeline p {
  source flights {
    from csv "flights.csv"
    schema { id: string, distance: float, dep_delay: float after_event, late: bool }
  }
  label late {
    column late
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    features [distance]
  }
}
```
'''


@rule("LEAK008", "error", "an after_event column used directly as a feature", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    copies = _copy_fixes(program)
    for column, where in marked_inputs(program, "after_event"):
        fix = f"remove `{column.name}` from the feature list" if where == "list" \
            else copies.get(column.span, f"drop `{column.name}` from `columns`")
        if fix is not None:
            yield _report(column.name, column.span, fix)
    for view in program.blocks("features"):
        yield from _aggregates_as_of_another_time(program, view)


def _copy_fixes(program: Program) -> dict[n.Span, str | None]:
    """For each `columns [...]` entry of a feature view, how to stop it copying a value
    not yet known, or None when it copies an earlier event's: a point-in-time view timed
    by its source's own `time` copies the latest row visible before the example (`time +
    lag < t`), as a point-in-time aggregate reads earlier events' values (the aircraft's
    previous flight's delay)."""
    fixes: dict[n.Span, str | None] = {}
    for view in program.blocks("features"):
        source = reads_source(view) or program.base_source
        own_time = ident_value(view, "time")
        event_time = program.source_word(source, "time") if source else None
        for listing in view.all(n.Columns):
            for column in listing.columns:
                fixes[column.span] = _copy_fix(view, column.name, own_time, event_time)
    return fixes


def _copy_fix(view: n.Block, column: str, own_time: n.Ident | None,
              event_time: str | None) -> str | None:
    drop = f"drop `{column}` from `columns`"
    if event_time is None and own_time is None:
        return drop  # untimed rows: there is no earlier event to copy instead
    if view.flag("point_in_time") is None:
        return f"add `point_in_time` so the view copies an earlier event's value, or {drop}"
    if own_time is not None and event_time is not None and own_time.name != event_time:
        return (f"remove `time {own_time.name}` so the view copies the latest earlier event "
                f"as of `{event_time}`, or {drop}")
    return None


def _aggregates_as_of_another_time(program: Program, view: n.Block) -> Iterator[Diagnostic]:
    """An aggregate of an after_event column is of earlier events only when the view's
    rows are timed by the events' own `time`: as of another column (a booking made
    before the trip), it counts events that happen after the example, the example's own
    included."""
    source = reads_source(view) or program.base_source
    own_time = ident_value(view, "time")
    event_time = program.source_word(source, "time") if source else None
    if own_time is None or event_time is None or own_time.name == event_time:
        return
    schema = program.schema(source) or {}
    for feature in view.all(n.FeatureDef):
        column = feature.column
        if column is None or column.name not in schema:
            continue
        if "after_event" in schema[column.name].markers:
            yield error("LEAK008", f"feature `{feature.name.name}` aggregates `{column.name}`, "
                        f"marked `after_event`, as of `{own_time.name}` while its events are "
                        f"timed by `{event_time}`: events after the example (its own "
                        "included) would be counted", column.span,
                        f"remove `time {own_time.name}` so the view aggregates earlier "
                        f"events, as of `{event_time}`")


def _report(column: str, span: n.Span, fix: str) -> Diagnostic:
    return error("LEAK008", f"`{column}` is marked `after_event`: it is only known after the "
                 "prediction time, so it cannot be an input", span, fix)
