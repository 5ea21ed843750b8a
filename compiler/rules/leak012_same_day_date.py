"""LEAK012: a `date`-timed source read as of a timestamp with less than a day of `lag`,
by a point-in-time feature view or by a windowed label whose last training day runs into
the test period."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.literals import format_duration
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import (
    Moment,
    TimeSplit,
    ident_value,
    reads_source,
    split_off_event_time,
    time_split,
)

DAY = 86_400.0

DOC = '''
## What it does
Reports a source whose time column is a `date` and whose `lag` is shorter than a day
(or absent) when a `point_in_time` feature view reads it for a base source timed by a
`timestamp`. Also when a windowed label reads it and the time split's last training
examples count a dated row whose day ends after the test period starts: when `train
before` plus the `window` is not a 00:00 and the test start is before the next one.

## Why is this bad?
A date means 00:00 UTC of that day, and a row is visible `lag` after its time. So a row
dated D, which records something that happened at some hour of D (a daily balance, a
day's total), is visible from 00:00 of D: an example at 10:00 on D reads it, although
it may hold what happened at 23:00. Up to a day of the future reaches the features in
training, and never in production, where that day's row does not exist yet at 10:00.
A label counts an event in `(t, t + window]` the same way: a row dated D is at 00:00
of D, so an example just before a noon `train before` T counts the events of the whole
day that holds T + 30d with `window 30d`, up to 12h past a test period starting at
T + 30d. LEAK002's maturity (`window + lag`) reaches that 00:00 with `lag 1d`.
(When the dates are when each row is published, before the day starts, the rows are
known at 00:00: suppress the warning on the `time` line and say so.)

## Example
```pipe
pipeline p {
  source orders {
    from csv "orders.csv"
    entity customer
    time placed_at
    schema { customer: string, placed_at: timestamp, amount: float }
  }
  source balances {
    from csv "balances.csv"
    entity customer
    time day
    schema { customer: string, day: date, balance: float }
  }
  features balance version 1 {
    from balances
    entity customer
    point_in_time
    columns [balance]
  }
}
```

## Use instead
```pipe
pipeline p {
  source orders {
    from csv "orders.csv"
    entity customer
    time placed_at
    schema { customer: string, placed_at: timestamp, amount: float }
  }
  source balances {
    from csv "balances.csv"
    entity customer
    time day
    lag 1d
    schema { customer: string, day: date, balance: float }
  }
  features balance version 1 {
    from balances
    entity customer
    point_in_time
    columns [balance]
  }
}
```
'''


@dataclass(frozen=True, slots=True)
class _DatedRead:
    """The point-in-time views that read one `date` column of one source."""

    source: str
    column: str
    at: n.Ident  # the `time` statement's column: the source's own when it names it
    views: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _LateLabel:
    """A windowed label from a `date`-timed source whose last training examples count a
    dated row whose day ends after the test period starts."""

    source: str
    column: str
    at: n.Ident  # the source's `time` statement's column
    label: str
    day_end: Moment  # 00:00 after the last day the last training examples count
    overrun: float  # seconds from the test start to `day_end`


@rule("LEAK012", "warning",
      "a date-timed source read as of a timestamp with less than a day of lag", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    base_time = _base_timestamp(program)
    if base_time is None:
        return
    reported: set[str] = set()
    for read in _dated_reads(program):
        lag = program.source_seconds(read.source, "lag")
        if lag < DAY:
            reported.add(read.source)
            yield _same_day(program, read, base_time, lag)
    # A source already reported gets the same fix, whose hint covers its labels.
    yield from _late_label_days(program, reported)


def _base_timestamp(program: Program) -> str | None:
    """The base source's time column when it is a `timestamp`, finer than a day. A base
    timed by a date reads a row dated D from D + 1 on (visibility is strict), so it sees
    no later hour of its own day."""
    base = program.base_source
    column = program.source_word(base, "time") if base else None
    schema = program.schema(base) if base else None
    if column is None or schema is None or column not in schema:
        return None
    return column if schema[column].type == "timestamp" else None


def _dated_reads(program: Program) -> list[_DatedRead]:
    """One entry per (source, date column) some `point_in_time` view reads, in file
    order. A view without `point_in_time` is LEAK003's (or LEAK004's) already."""
    found: dict[tuple[str, str], _DatedRead] = {}
    for view in program.blocks("features"):
        if view.flag("point_in_time") is None:
            continue
        source = reads_source(view) or program.base_source
        at = _time_column(program, view, source) if source else None
        if source is None or at is None:
            continue
        known = found.get((source, at.name))
        views = (known.views if known else ()) + (view.name.name,)
        found[(source, at.name)] = _DatedRead(source, at.name, known.at if known else at,
                                              views)
    return list(found.values())


def _time_column(program: Program, view: n.Block, source: str) -> n.Ident | None:
    """The `time` statement's column the view's rows are placed by, when the source's
    schema types it `date`; the source's own statement when it names that column (one
    `lag` there fixes every view). An undeclared column is T002's."""
    own = ident_value(program.block("source", source), "time")
    column = ident_value(view, "time") or own
    schema = program.schema(source)
    if column is None or schema is None or column.name not in schema:
        return None
    if schema[column.name].type != "date":
        return None
    return own if own is not None and own.name == column.name else column


def _same_day(program: Program, read: _DatedRead, base_time: str, lag: float) -> Diagnostic:
    views = ", ".join(f"`{v}`" for v in read.views)
    noun, verb = ("feature view", "reads") if len(read.views) == 1 \
        else ("feature views", "read")
    has = f"`lag {format_duration(lag)}`" if lag > 0 else "no `lag`"
    return warning(
        "LEAK012",
        f"source `{read.source}` is timed by `{read.column}`, a `date`, and has {has}: a "
        f"row dated D is visible from {_visible_from(lag)}, so for an example whose "
        f"`{base_time}` is later on D, the point-in-time {noun} {views} {verb} that row, "
        f"which may record what happened after the example (up to "
        f"{format_duration(DAY - lag)} of the future)",
        read.at.span, _hint(program, read, lag))


def _visible_from(lag: float) -> str:
    return "00:00 of D" if lag <= 0 else f"{format_duration(lag)} after 00:00 of D"


def _hint(program: Program, read: _DatedRead, lag: float) -> str:
    """`lag 1d`, plus what that raise makes other rules ask for, so that following the
    hint leaves the file clean: windows it empties (FEAT001) and label maturities it
    lengthens (LEAK002)."""
    action = f"raise `lag {format_duration(lag)}` to `lag 1d` on" if lag > 0 \
        else "add `lag 1d` to"
    parts = [f"{action} source `{read.source}`, so a row dated D is seen only once D "
             "is over"]
    raise_by = DAY - lag
    parts += [f"widen `{name}` to `over {format_duration(window + raise_by)}` (a window "
              "no longer than the lag is always empty)"
              for name, window in _short_windows(program, read.source)]
    labels = _windowed_labels(program, read.source)
    parts += [f"label `{label}` reads it too: its maturity grows to "
              f"{format_duration(maturity + raise_by)}, which the split's `gap` must cover"
              for label, maturity in labels]
    if labels:
        parts += _split_fixes(program, _maturity_with_a_day_of_lag(program, read.source))
    return "; ".join(parts)


def _short_windows(program: Program, source: str) -> list[tuple[str, float]]:
    """(`view.feature`, window) of the features over `source` no longer than a day."""
    return [(f"{view.name.name}.{feature.name.name}", feature.window.seconds)
            for view in program.blocks("features")
            if (reads_source(view) or program.base_source) == source
            for feature in view.all(n.FeatureDef) if feature.window.seconds <= DAY]


def _windowed_labels(program: Program, source: str) -> list[tuple[str, float]]:
    """(label, maturity) of the windowed labels `from` source: `window + lag`."""
    return [(label.name.name, program.label_maturity(label))
            for label in program.labels()
            if label.setting("window") is not None and reads_source(label) == source]


# ------------------------------------------------------------------ windowed labels
# The runtime counts an event for the example at t when its time is in (t, t + W]; a row
# dated D counts as 00:00 of D, so the last training examples (t just before `train
# before` T) count the rows dated up to the day that holds T + W, whose events run to the
# 00:00 after it. When the test period starts before that 00:00, training labels count
# events from inside it. A date `train before` with a whole-day window ends that day
# exactly at T + W, and a date `test from` is itself a 00:00: neither leaks.


def _late_label_days(program: Program, reported: set[str]) -> Iterator[Diagnostic]:
    split = time_split(program)
    # On a column other than the event time, the dates bound no label: LEAK011.
    if split is None or split.before_at is None or split.start is None \
            or not split.before_at.comparable(split.start) \
            or split_off_event_time(program) is not None:
        return
    worst: dict[str, _LateLabel] = {}
    for late in _late_labels(program, split.before_at, split.start):
        known = worst.get(late.source)
        if late.source not in reported and (known is None or late.overrun > known.overrun):
            worst[late.source] = late
    for late in worst.values():
        yield _label_day(program, split, late)


def _late_labels(program: Program, before: Moment, start: Moment) -> Iterator[_LateLabel]:
    for label in program.labels():
        window = label.setting("window")
        source = reads_source(label)
        at = ident_value(program.block("source", source), "time") if source else None
        schema = program.schema(source) if source else None
        if window is None or not isinstance(window.value, n.Duration) or source is None \
                or at is None or schema is None or at.name not in schema \
                or schema[at.name].type != "date" \
                or program.source_seconds(source, "lag") >= DAY:
            continue
        day_end = _next_midnight(before.plus(window.value.seconds))
        overrun = day_end.seconds_after(start)
        if overrun > 0:
            yield _LateLabel(source, at.name, at, label.name.name, day_end, overrun)


def _next_midnight(moment: Moment) -> Moment:
    """The first 00:00 UTC at or after `moment`. A `snapshot latest` frame resolves to a
    date, whose 00:00 its offsets count from."""
    at = moment.at
    into_day = moment.offset if at is None else \
        at.hour * 3600 + at.minute * 60 + at.second + at.microsecond / 1e6 + moment.offset
    return moment.plus((DAY - into_day % DAY) % DAY)


def _label_day(program: Program, split: TimeSplit, late: _LateLabel) -> Diagnostic:
    assert split.before_at is not None and split.start is not None
    lag = program.source_seconds(late.source, "lag")
    has = f"`lag {format_duration(lag)}`" if lag > 0 else "no `lag`"
    return warning(
        "LEAK012",
        f"source `{late.source}` is timed by `{late.column}`, a `date`, and has {has}: "
        f"label `{late.label}` places a row dated D at 00:00 of D, so the last training "
        f"examples (before {split.before_at}) count the rows dated up to "
        f"{late.day_end.plus(-DAY)}, which may record events until {late.day_end}, "
        f"{format_duration(late.overrun)} after the test start {split.start}: those "
        "training labels may count events from inside the test period",
        late.at.span, _label_hint(program, late, lag))


def _label_hint(program: Program, late: _LateLabel, lag: float) -> str:
    """`lag 1d`, which makes LEAK002's maturity (window + lag) reach the 00:00 that ends
    the last counted day, plus the split change LEAK002 then asks for."""
    action = f"raise `lag {format_duration(lag)}` to `lag 1d` on" if lag > 0 \
        else "add `lag 1d` to"
    maturity = _maturity_with_a_day_of_lag(program, late.source)
    parts = [f"{action} source `{late.source}`, so a row dated D counts as known once D "
             f"is over, and the label maturity (window + lag) grows to "
             f"{format_duration(maturity)}"]
    return "; ".join(parts + _split_fixes(program, maturity))


def _maturity_with_a_day_of_lag(program: Program, source: str) -> float:
    """The longest label maturity once `source` has `lag 1d`."""
    raised = [program.label_maturity(label) - program.source_seconds(source, "lag") + DAY
              for label in program.labels()
              if label.setting("window") is not None and reads_source(label) == source]
    return max([program.max_label_maturity(), *raised])


def _split_fixes(program: Program, maturity: float) -> list[str]:
    """What LEAK002 asks of the time split for labels maturing after `maturity`: a `test
    from` one maturity after `train before`, and a `gap` at least that long when one is
    declared or is all that places the test period."""
    split = time_split(program)
    if split is None or split.before_at is None or split_off_event_time(program) is not None:
        return []
    fixes = []
    if split.test is not None and split.start is not None \
            and split.before_at.comparable(split.start) \
            and split.before_at.plus(maturity).seconds_after(split.start) > 0:
        fixes.append(f"move `test from` to {split.before_at.plus(maturity)} or later")
    gap = split.gap.value if split.gap is not None else None
    if (isinstance(gap, n.Duration) and gap.seconds < maturity) \
            or (gap is None and split.test is None):
        fixes.append(f"set `gap {format_duration(maturity)}` in the split")
    return fixes
