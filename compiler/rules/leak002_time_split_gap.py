"""LEAK002: a time split whose test period starts before the training labels mature."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.literals import format_duration
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import (
    Moment,
    TimeSplit,
    base_schema,
    days,
    labels_mature_before,
    split_off_event_time,
    time_split,
)

DOC = '''
## What it does
For a time split, computes when the last training example's label becomes known: the
end of training (`train before`) plus the label's maturity (`window` + the label
source's `lag`, or `known_after`; 0 when neither is given). Reports the split when that
is after the test start (`test from`): with no maturity, when training simply ends after
the test period starts and the two overlap. Also reports it when a declared `gap` is
shorter than the maturity, and when `test from` or `train before` stands alone with no
`gap` (the other end is then the same date: the gap defaults to none) while labels take
time to mature. And it reports a label read from a column marked `after_event` that
declares no `known_after`: its value is only known after the example's time, yet its
maturity counts as 0, so no gap could be checked against it.
Dates relative to `snapshot` are compared symbolically. Under `snapshot latest`, a
`train before snapshot - DUR` beside a fixed `test from` date is reported too: training
ends later with every newer snapshot while the test start stays put, so the two overlap
for every snapshot after a date the message gives (`latest` resolves to the newest data
at each run, so every run past it). The reverse mix (a fixed `train before`, a `test
from` relative to the snapshot) only overlaps for a snapshot before some date, which
`pipec run` checks again on the resolved date. Where a later test start would
have no matured label (LEAK007), the fix it gives moves `train before` instead. A split
`on` a column other than the base source's `time` is LEAK011's: its dates do not bound
the labels.

## Why is this bad?
A label is an event in a window after the example. When training ends less than one
maturity before the test starts, the last training labels are computed from events
that happen inside the test period: the model is trained on information from the
period it is evaluated on, and the test score is optimistic.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    time at
    schema { id: string, at: timestamp, churn: bool }
  }
  label churned {
    column churn
    known_after 32d
  }
  split by time on at {
    train before 2026-03-01
    test from 2026-03-20
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    time at
    schema { id: string, at: timestamp, churn: bool }
  }
  label churned {
    column churn
    known_after 32d
  }
  split by time on at {
    train before 2026-03-01
    test from 2026-04-02
  }
}
```
'''


@rule("LEAK002", "error", "a time split whose labels mature after the test start", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    split = time_split(program)
    if split is None:
        return
    # On a column other than the event time, the dates bound no label: LEAK011.
    if split_off_event_time(program) is None:
        yield from _split_dates(program, split)
    yield from _after_event_label_without_maturity(program)


def _split_dates(program: Program, split: TimeSplit) -> Iterator[Diagnostic]:
    maturity = program.max_label_maturity()
    # LEAK007's bound: a fix must not move the test period past the last matured label.
    labelled_before = labels_mature_before(program, maturity)
    yield from _overlap(split, maturity, labelled_before)
    yield from _moving_train_end(split, maturity, labelled_before)
    if maturity > 0 and split.gap is None:
        yield from _one_end_alone(split, maturity, labelled_before)
    yield from _short_gap(split, maturity, labelled_before)


def _after_event_label_without_maturity(program: Program) -> Iterator[Diagnostic]:
    """A `column`/`when` label on an `after_event` column with no `known_after`: the
    value arrives after the event, but the split arithmetic above takes it as known at
    once, so a split with no gap at all passes."""
    schema = base_schema(program) or {}
    for label in program.labels():
        column = program.label_column(label)
        if column not in schema or "after_event" not in schema[column].markers \
                or label.setting("window") is not None \
                or label.setting("known_after") is not None:
            continue
        yield error(
            "LEAK002",
            f"label `{label.name.name}` reads `{column}`, which is marked `after_event`, "
            "but declares no `known_after`: its maturity counts as 0, so the time split "
            "needs no gap, and the last training labels may only be known inside the test "
            "period", label.header,
            "add `known_after DUR` (how long after each example's time the value is known), "
            "and a split `gap` at least as long")


def _overlap(split: TimeSplit, maturity: float,
             labelled_before: Moment | None) -> Iterator[Diagnostic]:
    """Both ends given: training (plus one maturity) runs past the test start."""
    if split.test is None or split.before_at is None or split.start is None \
            or not split.before_at.comparable(split.start):
        return
    seen = split.before_at.plus(maturity)
    if seen.seconds_after(split.start) <= 0:
        return
    if maturity <= 0:
        yield error(
            "LEAK002",
            f"train ends {split.before_at}, after the test start {split.start}: the "
            "training and test periods overlap, so the model is tested on rows it was "
            f"trained on; move `test from` to {split.before_at} or later",
            split.test.start.span,
            f"or move `train before` to {split.start} or earlier")
    elif _past_the_labels(seen, labelled_before):
        yield _only_train_can_move(split, maturity, seen, labelled_before)
    else:
        yield error(
            "LEAK002",
            f"train ends {split.before_at} and labels mature after "
            f"{format_duration(maturity)}, so the last training labels are seen on "
            f"{seen}, after the test start {split.start}: move `test from` to {seen} "
            "or later", split.test.start.span,
            f"or move `train before` to {split.start.plus(-maturity)} or earlier")


def _moving_train_end(split: TimeSplit, maturity: float,
                      labelled_before: Moment | None) -> Iterator[Diagnostic]:
    """`train before snapshot - K` beside a fixed `test from F` under `snapshot latest`:
    the training end moves with the snapshot and the test start does not, so the two
    overlap for every snapshot after F + K - maturity. Runs resolve `latest` to their
    newest data, so that is every run past that date, known without resolving it. (A
    fixed snapshot makes both dates absolute: `_overlap` is then exact.)"""
    if split.test is None or split.before_at is None or split.start is None \
            or split.before_at.at is not None or split.start.at is None:
        return
    # Overlap when S + offset + maturity > F, i.e. for S after F - offset - maturity.
    after = split.start.plus(-split.before_at.offset - maturity)
    if not _has_a_date(after) and after.offset > 0:
        return  # past year 9999: no snapshot is that late
    # Before year 1 there is no date to name: every snapshot overlaps, no date fixes it.
    when = f"for every snapshot after {after}" if _has_a_date(after) else "for every snapshot"
    trouble, apart = _overlap_words(maturity)
    dated = split.start.plus(-maturity)
    yield error(
        "LEAK002",
        f"`train before {split.before_at}` moves with the snapshot but `test from "
        f"{split.start}` does not: {when}, {trouble} (`snapshot latest` resolves to the "
        "newest data at each run); make both bounds relative to the snapshot: "
        f"{_relative_fix(split.before_at, maturity, labelled_before)}",
        split.test.start.span,
        f"or make both dates: `train before {dated}` ({apart})" if _has_a_date(dated)
        else "training must end one label maturity before the test period starts")


def _overlap_words(maturity: float) -> tuple[str, str]:
    """What overlaps, and where a fixed `train before` must end instead."""
    if maturity <= 0:
        return ("training ends after the test start, so the model is tested on rows it "
                "was trained on", "where `test from` starts")
    return (f"the last training labels (maturing after {format_duration(maturity)}) are "
            "seen after the test start, so training learns from the test period",
            "one label maturity before `test from`")


def _has_a_date(moment: Moment) -> bool:
    """True when an absolute moment falls on a date the language can write."""
    assert moment.at is not None
    try:
        moment.at + dt.timedelta(seconds=moment.offset)
    except OverflowError:
        return False
    return True


def _relative_fix(before_at: Moment, maturity: float, labelled_before: Moment | None) -> str:
    """Snapshot-relative bounds one maturity apart: keep `train before` and start the test
    one maturity later when that is still `snapshot - DUR` and leaves the test some
    matured labels (LEAK007); otherwise the nearest pair that does both."""
    start = before_at.plus(maturity)
    if start.offset <= 0 and not _past_the_labels(start, labelled_before):
        return f"`test from {start}`"
    return (f"`train before {Moment(None, -2 * maturity)}` and `test from "
            f"{Moment(None, -maturity)}`")


def _past_the_labels(moment: Moment, labelled_before: Moment | None) -> bool:
    """True when a test period starting at `moment` would have no matured label
    (LEAK007), so `test from` cannot move there."""
    return labelled_before is not None and moment.comparable(labelled_before) \
        and moment.seconds_after(labelled_before) >= 0


def _earlier_training(split: TimeSplit, maturity: float,
                      labelled_before: Moment | None) -> str:
    """With no `test from`, the test starts one gap after training: a gap of one maturity
    would start it where no label has matured (LEAK007) unless training ends earlier,
    which this says how far; "" when the gap alone fixes it."""
    if split.test is not None or split.before_at is None \
            or not _past_the_labels(split.before_at.plus(maturity), labelled_before):
        return ""
    assert labelled_before is not None
    return (f", and move `train before` before {labelled_before.plus(-maturity)}: a test "
            f"period starting at or after {labelled_before} has no matured label")


def _only_train_can_move(split: TimeSplit, maturity: float, seen: Moment,
                         labelled_before: Moment) -> Diagnostic:
    """The overlap when `test from` cannot move later: the labels stop (the snapshot's
    end minus the maturity) before the training labels are all seen, so only an earlier
    `train before` fixes it. Points at `train before`, the line to change."""
    assert split.before is not None and split.start is not None
    matures = format_duration(maturity)
    if _past_the_labels(split.start, labelled_before):
        # LEAK007 moves `test from` before the labels stop; training ends one maturity
        # before that.
        fix = (f"move `train before` before {labelled_before.plus(-maturity)} (and `test from` "
               f"before {labelled_before})")
    else:
        fix = f"move `train before` to {split.start.plus(-maturity)} or earlier"
    return error(
        "LEAK002",
        f"train ends {split.before_at} and labels mature after {matures}, so the last "
        f"training labels are seen on {seen}, after the test start {split.start}; a later "
        f"test start cannot fix it, as only examples before {labelled_before} have a "
        f"matured label: {fix}", split.before.date.span,
        "training must end one label maturity before the test period starts")


def _one_end_alone(split: TimeSplit, maturity: float,
                   labelled_before: Moment | None) -> Iterator[Diagnostic]:
    """`test from` or `train before` alone, no gap: the other end is the same date."""
    matures = format_duration(maturity)
    if split.test is not None and split.before is None:
        # Training then runs up to `test from` minus the gap, which defaults to none.
        yield error(
            "LEAK002",
            f"with `test from` alone, training runs up to the test start, but labels mature "
            f"after {matures}: the last training labels are seen {matures} into the test "
            f"period; set `gap {matures}` or more", split.test.start.span,
            "or add a `train before` that ends one maturity before `test from`")
    if split.test is None and split.before is not None:
        # The test period then starts at `train before` plus the gap, which defaults to none.
        yield error(
            "LEAK002",
            f"with `train before` alone, the test period starts where training ends, but "
            f"labels mature after {matures}: the last training labels are seen {matures} "
            f"into the test period; set `gap {matures}` or more"
            + _earlier_training(split, maturity, labelled_before), split.before.date.span,
            "or add a `test from` one maturity after `train before`")


def _short_gap(split: TimeSplit, maturity: float,
               labelled_before: Moment | None) -> Iterator[Diagnostic]:
    gap = split.gap
    if gap is None or not isinstance(gap.value, n.Duration) or gap.value.seconds >= maturity:
        return
    apart = _dates_apart(split)
    if apart is not None and apart >= maturity:
        # Both dates given: they, not the gap, place the rows, and they are far enough
        # apart. The gap still says otherwise (and would rule if `test from` went).
        yield error(
            "LEAK002",
            f"the gap is {days(gap.value.seconds)} but labels mature after "
            f"{format_duration(maturity)}: the split's dates leave {format_duration(apart)} "
            "between training and test, which is enough, but the gap says otherwise (and "
            "without `test from` it would place the test period); set `gap "
            f"{format_duration(apart)}`", gap.span,
            "the gap between training and test must cover the label maturity")
        return
    # With both dates given, they place the test period, not the gap: the labels reach
    # as far into it as the dates leave them.
    overlap = maturity - (gap.value.seconds if apart is None else apart)
    fix = f"set `gap {format_duration(maturity)}` or more" \
        + _earlier_training(split, maturity, labelled_before)
    yield error(
        "LEAK002",
        f"the gap is {days(gap.value.seconds)} but labels mature after "
        f"{format_duration(maturity)}: the last training labels are seen "
        f"{format_duration(overlap)} into the test period; {fix}", gap.span,
        "the gap between training and test must cover the label maturity")


def _dates_apart(split: TimeSplit) -> float | None:
    """Seconds from `train before` to `test from` when both are given and comparable."""
    if split.test is None or split.before_at is None or split.start is None \
            or not split.before_at.comparable(split.start):
        return None
    return split.start.seconds_after(split.before_at)
