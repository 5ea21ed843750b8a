"""LEAK007: a test period whose labels cannot have matured by the snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipec.diagnostics import Diagnostic, error, warning
from pipec.literals import format_duration
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import DAY, Moment, TimeSplit, reads_source, snapshot_date, time_split

DOC = '''
## What it does
Computes, for each label, the last moment whose label has matured: the end of the
snapshot of the label's own source (`snapshot DATE` holds the rows before `DATE + 1d`,
and the runtime censors against that instant) minus the label's maturity. The earliest
of these bounds the test period. An error when the test period starts at or after it
(no test example has a label); a warning when an explicit `test ... until` ends later
than it (the message says how many days of the test period are usable). A label whose
cutoff cannot be known statically (its source has no snapshot, or `latest` against a
base source with a fixed date) is left out. An open-ended test period never
warns: it simply ends where labels stop.

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
    if split is None or split.start is None:
        return
    start = split.start
    cutoffs = [c for c in _cutoffs(program) if c.at.comparable(start)]
    if not cutoffs:
        return
    # The label whose labels stop first bounds the test period.
    cutoff = min(cutoffs, key=lambda c: c.at.seconds_after(start))
    named = len(program.labels()) > 1
    if start.seconds_after(cutoff.at) >= 0:
        yield _no_labels(split, cutoff, named)
    elif split.until is not None and split.until.comparable(cutoff.at) \
            and split.until.seconds_after(cutoff.at) > 0 and split.test and split.test.until:
        usable = cutoff.at.seconds_after(start) / DAY
        total = split.until.seconds_after(start) / DAY
        labels = f"the labels of `{cutoff.label}`" if named else "labels"
        yield warning("LEAK007", f"the test period ends {split.until}, but {labels} mature "
                      f"after {format_duration(cutoff.maturity)}, so only examples before "
                      f"{cutoff.at} have a label: {usable:g} of its {total:g} days are usable",
                      split.test.until.span,
                      f"end the test period at {cutoff.at} (`until {cutoff.at}`) or drop `until`")


@dataclass(frozen=True)
class Cutoff:
    """A label's last matured moment: `at` = the end of its source's snapshot - maturity."""

    label: str
    source: str
    maturity: float
    at: Moment

    def why(self, named: bool) -> str:
        """Why no label is known after `at`, naming the label when there are several."""
        labels, rows = ("labels", "the snapshot's rows")
        if named:
            labels = f"the labels of `{self.label}`"
            rows = f"the rows of `{self.source}`'s snapshot"
        return f"{labels} mature after {format_duration(self.maturity)} and {rows} end " \
            f"before {self.at.plus(self.maturity)}"


def _cutoffs(program: Program) -> list[Cutoff]:
    """Each label's cutoff, on its own source's snapshot (censoring), when it is known:
    a fixed date, or `latest` when the base source's snapshot is `latest` too."""
    base = snapshot_date(program, program.base_source)
    if base == "":
        return []
    cutoffs = []
    for label in program.labels():
        maturity = program.label_maturity(label)
        source = reads_source(label) or program.base_source
        date = snapshot_date(program, source) if source else ""
        if maturity <= 0 or date == "" or (date is None and base is not None):
            continue  # no maturity, or a `latest` other than the base's fixed date
        # The runtime censors against the end of the snapshot: `snapshot DATE` holds the
        # rows with `time < DATE + 1d`, so an example is labelled when `t + M <= DATE + 1d`.
        cutoffs.append(Cutoff(label.name.name, source, maturity, Moment(date, DAY - maturity)))
    return cutoffs


def _no_labels(split: TimeSplit, cutoff: Cutoff, named: bool) -> Diagnostic:
    assert split.start is not None
    if split.test is not None:
        span, fix = split.test.start.span, f"move `test from` before {cutoff.at}"
    else:
        node = split.gap or split.before or split.split
        span = node.span if node is not split.split else split.split.header
        fix = f"move `train before` so that `train before + gap` is before {cutoff.at}"
    return error("LEAK007", f"the test period starts {split.start}, but {cutoff.why(named)}: "
                 f"only examples before {cutoff.at} have a label, so no test example has one",
                 span, fix)
