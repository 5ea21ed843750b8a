"""REPRO001: a pipeline that registers a model from a source with no `snapshot`."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
In a pipeline that registers a model, reports every source upstream of a register
stage that has no `snapshot` (a date, or `latest`, which is resolved and recorded at
run time).

## Why is this bad?
Without a snapshot the registered model cannot say which data it was trained on: the
same file re-run next week trains on different rows, and an incident cannot be
reproduced.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string, late: bool }
  }
  label late {
    column late
  }
  split by random {
    test 20%
    seed 1
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    primary roc_auc >= 0.7
  }
  register m {
    registry local "registry/"
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    snapshot latest
    schema { id: string, late: bool }
  }
  label late {
    column late
  }
  split by random {
    test 20%
    seed 1
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    primary roc_auc >= 0.7
  }
  register m {
    registry local "registry/"
  }
}
```
'''


@rule("REPRO001", "error", "a registered model from a source with no snapshot", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    registers = [s.id for s in program.stages.values() if s.kind == "register"]
    if not registers:
        return
    upstream = set().union(*(program.upstream(r) for r in registers))
    for source in program.blocks("source"):
        if source.setting("snapshot") is not None or source.id not in upstream:
            continue
        yield error("REPRO001", f"source `{source.name.name}` feeds a registered model but has "
                    "no snapshot: the model's training data could not be identified again",
                    source.header,
                    "add `snapshot latest` (resolved and recorded at run time) or "
                    "`snapshot YYYY-MM-DD`")
