"""GATE004: a `risk high` pipeline whose evaluate stage has no `approval by`."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import lacks_approval, risk_high

DOC = '''
## What it does
In a `risk high` pipeline, requires every evaluate stage to name a human approver:
`approval by TEAM`, its own or in a gate set it `use`s (directly or through another
set). A stage that uses an undeclared set is left to T001 (or to P002 for a failed
import): the set may hold the approval.

## Why is this bad?
Automated gates catch known failure modes only. For a high-risk model, promotion to
production must wait for a person who is accountable for the decision.

## Example
```pipe
pipeline p {
  risk high
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    primary roc_auc >= 0.8
  }
}
```

## Use instead
```pipe
team risk { contact "#risk"; role risk }

pipeline p {
  risk high
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    primary roc_auc >= 0.8
    approval by risk
  }
}
```
'''


@rule("GATE004", "error", "a high-risk evaluate stage without approval", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    if not risk_high(program):
        return
    for evaluate in program.blocks("evaluate"):
        if lacks_approval(program, evaluate):
            yield error("GATE004", f"`{evaluate.id}` gates a `risk high` model without human "
                        "approval", evaluate.header,
                        "add `approval by TEAM`, naming a team with the risk role, or `use` a "
                        "gate set that holds one")
