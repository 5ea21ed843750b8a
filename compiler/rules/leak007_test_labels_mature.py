"""LEAK007: a test period whose labels cannot have matured by the snapshot."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error, warning
from pipec.literals import format_duration
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import (
    DAY,
    Moment,
    TimeSplit,
    labels_mature_before,
    reads_source,
    snapshot_date,
    split_off_event_time,
    time_split,
)

DOC = '''
## What it does
Computes the last moment whose label has matured: the end of the snapshot (`snapshot
DATE` holds the rows before `DATE + 1d`, and the runtime censors against that instant)
minus the label's maturity. An error when the test period starts at or after it (no
test example has a label); a warning when an explicit `test ... until` ends later than
it (the message says how many days of the test period are usable). An open-ended test
period never warns: it simply ends where labels stop. A split `on` a column other than
the base source's `time` is LEAK011's: its dates do not bound the event times.

## Why is this bad?
Examples whose label has not matured are excluded from evaluation. A test period made
only of such examples is empty; one that mostly is gives a score from a few days of
data while the file claims many.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    snapshot 2026-06-01
    time at
    schema { id: string, at: timestamp, churn: bool }
  }
  label churned {
    column churn
    known_after 30d
  }
  split by time on at {
    train before 2026-04-01
    gap 30d
    test from 2026-05-10
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    snapshot 2026-06-01
    time at
    schema { id: string, at: timestamp, churn: bool }
  }
  label churned {
    column churn
    known_after 30d
  }
  split by time on at {
    train before 2026-03-01
    gap 30d
    test from 2026-03-31
  }
}
```
'''


@rule("LEAK007", "error", "a test period with no (or few) matured labels", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    split = time_split(program)
    maturity = program.max_label_maturity()
    cutoff = labels_mature_before(program, maturity)
    if split is None or cutoff is None or split.start is None:
        return
    if split_off_event_time(program) is not None:
        return  # LEAK011: the test period's dates do not bound its examples' event times
    if not split.start.comparable(cutoff):
        return
    if split.start.seconds_after(cutoff) >= 0:
        yield _no_labels(split, cutoff, maturity, _snapshot_words(program))
    elif split.until is not None and split.until.comparable(cutoff) \
            and split.until.seconds_after(cutoff) > 0 and split.test and split.test.until:
        usable = cutoff.seconds_after(split.start) / DAY
        total = split.until.seconds_after(split.start) / DAY
        yield warning("LEAK007", f"the test period ends {split.until}, but labels mature after "
                      f"{format_duration(maturity)}, so only examples before {cutoff} have "
                      f"a label: {usable:g} of its {total:g} days are usable",
                      split.test.until.span,
                      f"end the test period at {cutoff} (`until {cutoff}`) or drop `until`")


def _snapshot_words(program: Program) -> str:
    """Whose snapshot censors the labels: the label's source's. Named when its date is
    not the base source's, whose snapshot (the one split dates count from) the user would
    otherwise check, and find later than the date the message gives."""
    base = snapshot_date(program, program.base_source)
    sources = {reads_source(label) or program.base_source for label in program.labels()}
    others = sorted(s for s in sources if s and snapshot_date(program, s) != base)
    return f"the rows of the label's source `{others[0]}` (its snapshot)" if others \
        else "the snapshot's rows"


def _training_labels_reach(split: TimeSplit, cutoff: Moment, maturity: float) -> bool:
    """True when the last training labels are seen at or after `cutoff`, so no test start
    before it is one maturity after the end of training."""
    end = split.before_at
    return end is not None and end.comparable(cutoff) \
        and end.plus(maturity).seconds_after(cutoff) >= 0


def _no_labels(split: TimeSplit, cutoff: Moment, maturity: float, whose: str):
    assert split.start is not None
    if split.test is not None:
        span, fix = split.test.start.span, f"move `test from` before {cutoff}"
        if _training_labels_reach(split, cutoff, maturity):
            # Moving `test from` alone would overlap the training labels (LEAK002).
            fix += (f", and `train before` before {cutoff.plus(-maturity)} (training ends "
                    "one label maturity before the test starts)")
    else:
        node = split.gap or split.before or split.split
        span = node.span if node is not split.split else split.split.header
        fix = f"move `train before` so that `train before + gap` is before {cutoff}"
    return error("LEAK007", f"the test period starts {split.start}, but labels mature after "
                 f"{format_duration(maturity)} and {whose} end before "
                 f"{cutoff.plus(maturity)}: "
                 f"only examples before {cutoff} have a label, so no test example has one",
                 span, fix)
