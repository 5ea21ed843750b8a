"""GATE008: a deploying pipeline whose evaluate stage has no `features compatible`."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import gates_of, uses_unknown_set

DOC = '''
## What it does
In a pipeline that deploys, reports the evaluate stage of a deployed model when it has
no `features compatible` line (the gate that compares the model's feature set and
feature view versions with what serving provides).

## Why is this bad?
A model trained on `account_risk` version 12 served next to version 11 receives
inputs with the same names and different meanings. Nothing crashes; predictions are
quietly wrong.

## Example
```pipe
pipeline p {
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    primary roc_auc >= 0.8
  }
  register m {
    registry local "registry/"
  }
  deploy m {
    canary 5% for 1h
  }
}
```

## Use instead
```pipe
pipeline p {
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    primary roc_auc >= 0.8
    features compatible
  }
  register m {
    registry local "registry/"
  }
  deploy m {
    canary 5% for 1h
  }
}
```
'''


@rule("GATE008", "warning", "a deployed model without a features compatible gate", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for deploy in program.blocks("deploy"):
        evaluate = program.block("evaluate", deploy.name.name)
        if evaluate is None:
            continue  # GATE001/GATE003 report the missing gate itself
        if any(g.kind == "features_compatible" for g in gates_of(program, evaluate)) \
                or uses_unknown_set(program.gate_sets, evaluate):
            continue
        yield warning("GATE008", f"`{evaluate.id}` gates a deployed model without checking "
                      "that serving provides the features it was trained on",
                      evaluate.header, "add `features compatible`")
