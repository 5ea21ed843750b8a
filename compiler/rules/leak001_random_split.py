"""LEAK001: a random row split on time-ordered data."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Reports `split by random` on a pipeline that `predicts future`, or on a base source
that has a `time` column when the pipeline does not say `predicts iid`.

## Why is this bad?
A random split puts tomorrow's rows in the training set and yesterday's in the test
set. The model learns from the future it will never see in production, and the test
score overstates what it will achieve.

## Example
```pipe
pipeline p {
  predicts future
  source events {
    from csv "events.csv"
    time at
    schema { id: string, at: timestamp }
  }
  split by random {
    test 20%
    seed 1
  }
}
```

## Use instead
```pipe
pipeline p {
  predicts future
  source events {
    from csv "events.csv"
    time at
    schema { id: string, at: timestamp }
  }
  split by time on at {
    train before 2026-03-01
    test from 2026-03-01
  }
}
```
'''


@rule("LEAK001", "error", "a random split on data that predicts the future", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    split = program.split
    if split is None or split.by != "random":
        return
    predicts = program.pipeline_word("predicts")
    time_col = program.source_word(program.base_source, "time") if program.base_source \
        else None
    timed = [s for s in program.base_candidates if program.source_word(s, "time")]
    if predicts == "future":
        reason = "the pipeline `predicts future`"
    elif time_col is not None and predicts != "iid":
        reason = (f"the base source `{program.base_source}` has a time column `{time_col}` "
                  "and the pipeline does not declare `predicts iid`")
    elif timed and timed == list(program.base_candidates) and predicts != "iid":
        # T007 leaves the base open, but whichever source is meant has a time column.
        reason = (f"each source that could be the base ({', '.join(f'`{s}`' for s in timed)}) "
                  "has a time column and the pipeline does not declare `predicts iid`")
    else:
        return
    on = f" on {time_col}" if time_col else " on TIME_COLUMN"
    yield error("LEAK001", f"a random split, but {reason}: training rows would come from "
                "after test rows", split.header,
                f"use `split by time{on} {{ train before ...; test from ... }}`"
                + ("" if predicts == "future" else ", or declare `predicts iid` if rows "
                   "are independent of time"))
