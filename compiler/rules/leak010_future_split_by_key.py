"""LEAK010: a pipeline that `predicts future` split by entity, group or market."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Reports a pipeline that declares `predicts future` while its split is `split by entity`,
`split by group` or `split by market`: a split by key, not by time.

## Why is this bad?
A split by key puts the same days in training and test, for different keys. The model
is scored on a period it has learned from: it has seen other accounts' behaviour on the
test days (a fraud wave, a holiday, an outage), and on days after the test examples.
The test score overstates what it will achieve on the future it is meant to predict.
(When the model will in fact score keys it has never seen, the pipeline `predicts
new_entities`, and a split by entity or group is the one LEAK005 asks for.)

## Example
```pipe
pipeline p {
  predicts future
  source events {
    from csv "events.csv"
    entity account
    time at
    schema { account: string, at: timestamp }
  }
  split by entity on account {
    test 20%
    seed 7
  }
}
```

## Use instead
```pipe
pipeline p {
  predicts future
  source events {
    from csv "events.csv"
    entity account
    time at
    schema { account: string, at: timestamp }
  }
  split by time on at {
    train before 2026-03-01
    test from 2026-03-01
  }
}
```
'''

_KEYED = ("entity", "group", "market")


@rule("LEAK010", "warning", "predicts future with a split by entity, group or market", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    split = program.split
    if split is None or split.by not in _KEYED or program.pipeline_word("predicts") != "future":
        return
    time_col = program.source_word(program.base_source, "time") if program.base_source \
        else None
    on = f" on {time_col}" if time_col else " on TIME_COLUMN"
    # LEAK005 accepts `predicts new_entities` with an entity or group split only.
    unseen = "" if split.by == "market" else (
        f"`predicts new_entities` if production scores {_keys(split.by)} the model has never "
        "seen, or ")
    yield warning(
        "LEAK010", f"the pipeline `predicts future` but splits by {split.by}: training and "
        "test cover the same period, so the model is tested on days it has learned from "
        f"(other {_keys(split.by)}' rows of the same days, and later ones)", split.header,
        f"use `split by time{on} {{ train before ...; test from ... }}`, or declare "
        f"{unseen}`predicts iid` if rows are independent of time")


def _keys(by: str) -> str:
    return {"entity": "entities", "group": "groups", "market": "markets"}[by]
