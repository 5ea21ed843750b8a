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
stage) and a way back (`rollback previous|VERSION` on a register stage). A pipeline
without a deploy stage (or a register stage) has no place for them: the message says
so and names the stage to add.

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
    trains = program.blocks("train")
    model = trains[0].name.name if len(trains) == 1 else "MODEL"
    missing, fixes = [], []
    deploys, registers = program.blocks("deploy"), program.blocks("register")
    if not any(d.first(n.Canary) for d in deploys):
        missing.append("canary" if deploys else "deploy stage, so no canary")
        fixes.append("`canary 5% for 1h` on the deploy stage" if deploys else
                     f"a deploy stage with a canary (`deploy {model} {{ canary 5% for 1h }}`)")
    if not any(r.setting("rollback") for r in registers):
        missing.append("rollback" if registers else "register stage, so no rollback")
        fixes.append("`rollback previous` on the register stage" if registers else
                     f"a register stage with a rollback (`register {model} {{ registry local "
                     '"registry/"; rollback previous }`)')
    if missing:
        yield error("RETRAIN002", "`retrain continuous` ships models without review, but "
                    f"there is no {' and no '.join(missing)}", retrain.span,
                    "add " + " and ".join(fixes))
