"""RETRAIN003: automatic retraining of a `risk high` model without `approval by`."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import lacks_approval, risk_high

DOC = '''
## What it does
In a `risk high` pipeline that retrains on its own (`retrain triggered ...` or
`retrain continuous`), requires an `approval by TEAM` on every evaluate stage (its own,
or in a gate set it `use`s), so that each retrained model waits for a person before
promotion.

## Why is this bad?
The retraining loop would put a new high-risk model in production with no human
decision, every time the data moves.

## Example
```pipe
team ml { contact "#ml"; role ml }
team product { contact "#product"; role product }
team risk { contact "#risk"; role risk }

pipeline p {
  risk high
  retrain triggered on new_snapshot
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    owners ml, product, risk
    primary roc_auc >= 0.8
  }
}
```

## Use instead
```pipe
team ml { contact "#ml"; role ml }
team product { contact "#product"; role product }
team risk { contact "#risk"; role risk }

pipeline p {
  risk high
  retrain triggered on new_snapshot
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    owners ml, product, risk
    primary roc_auc >= 0.8
    approval by risk
  }
}
```
'''


@rule("RETRAIN003", "error", "automatic retraining of a high-risk model without approval", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    retrain = program.retrain()
    if retrain is None or retrain.mode == "manual" or retrain.mode == "scheduled":
        return
    if not risk_high(program):
        return
    evaluates = program.blocks("evaluate")
    # Each model is promoted by its own evaluate stage: one model's approval does not
    # hold back another's retrained model.
    bare = [e for e in evaluates if lacks_approval(program, e)]
    if evaluates and not bare:
        return
    if bare and len(bare) < len(evaluates):
        names = ", ".join(f"`{e.id}`" for e in bare)
        yield error("RETRAIN003", "a `risk high` pipeline retrains automatically, and "
                    f"{names} promote{'s' if len(bare) == 1 else ''} the retrained model with "
                    "no human approval", retrain.span,
                    f"add `approval by TEAM` (a team with the risk role) to {names}")
        return
    yield error("RETRAIN003", "a `risk high` pipeline retrains automatically with no human "
                "approval before promotion", retrain.span,
                "add `approval by TEAM` (a team with the risk role) to the evaluate stage")
