"""RETRAIN005: repeated retraining while every source is pinned to a fixed snapshot."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Warns when the pipeline retrains on a schedule, on a trigger or continuously while
every source has a fixed `snapshot DATE`.

## Why is this bad?
Each retrain reads exactly the same data: the schedule spends compute to reproduce the
same model. Either the retraining or the pinned snapshots are a mistake.

## Example
```pipe
pipeline p {
  retrain scheduled "0 3 * * 1"
  source events {
    from csv "events.csv"
    snapshot 2026-06-01
    schema { id: string }
  }
}
```

## Use instead
```pipe
pipeline p {
  retrain scheduled "0 3 * * 1"
  source events {
    from csv "events.csv"
    snapshot latest
    schema { id: string }
  }
}
```
'''


@rule("RETRAIN005", "warning", "retraining while every source has a fixed snapshot", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    retrain = program.retrain()
    sources = program.blocks("source")
    if retrain is None or retrain.mode == "manual" or not sources:
        return
    for source in sources:
        snapshot = source.setting("snapshot")
        if snapshot is None or not isinstance(snapshot.value, n.Date):
            return
    names = ", ".join(f"`{s.name.name}`" for s in sources)
    how = {"new_snapshot": "triggered on new_snapshot", "drift": "triggered on drift"}.get(
        retrain.mode, retrain.mode)
    yield warning("RETRAIN005", f"the pipeline retrains ({how}) but every source "
                  f"({names}) has a fixed snapshot date: each retrain sees the same data",
                  retrain.span,
                  "use `snapshot latest` on the sources that grow, or `retrain manual`")
