"""RETRAIN002: `retrain continuous` without `canary` or without `rollback`."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
For `retrain continuous`, requires a gradual rollout (`canary PCT for DUR` on a deploy
stage) and a way back (`rollback previous|VERSION` on a register stage).

## Why is this bad?
Continuous retraining ships models nobody looked at. A canary limits the damage of a
bad one; a rollback ends it.

## Example
```pipe
pipeline p {
  retrain continuous
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  register m {
    registry local "registry/"
  }
  deploy m {
    runtime "python"
  }
}
```

## Use instead
```pipe
pipeline p {
  retrain continuous
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  register m {
    registry local "registry/"
    rollback previous
  }
  deploy m {
    canary 5% for 1h
  }
}
```
'''


@rule("RETRAIN002", "error", "continuous retraining without canary or rollback", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    retrain = program.retrain()
    if retrain is None or retrain.mode != "continuous":
        return
    has_canary = any(d.first(n.Canary) for d in program.blocks("deploy"))
    has_rollback = any(r.setting("rollback") for r in program.blocks("register"))
    missing = [what for what, present in (("a canary", has_canary),
                                          ("a rollback", has_rollback)) if not present]
    if not missing:
        return
    fixes = []
    if not has_canary:
        fixes.append("`canary 5% for 1h` on the deploy stage")
    if not has_rollback:
        fixes.append("`rollback previous` on the register stage")
    yield error("RETRAIN002", "`retrain continuous` ships models without review, but there is "
                f"no {' and no '.join(m.removeprefix('a ') for m in missing)}", retrain.span,
                "add " + " and ".join(fixes))
