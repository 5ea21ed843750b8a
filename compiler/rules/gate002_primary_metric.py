"""GATE002: an evaluate stage without a `primary` metric."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import gates_of, is_classification

DOC = '''
## What it does
Requires every evaluate stage (with the gate sets it uses) to declare a `primary`
metric and its threshold.

## Why is this bad?
The primary metric is what "better" means for this model: it is compared with the
champion, reported first and tracked over time. Without one, a model can pass every
guardrail while being worse at its job.

## Example
```pipe
pipeline p {
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    guardrail recall >= 0.6
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
    guardrail recall >= 0.6
  }
}
```
'''


@rule("GATE002", "error", "an evaluate stage without a primary metric", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for evaluate in program.blocks("evaluate"):
        if any(g.kind == "primary" for g in gates_of(program, evaluate)):
            continue
        example = "roc_auc >= 0.8" if is_classification(program) or program.task() is None \
            else "rmse <= 10"
        yield error("GATE002", f"`{evaluate.id}` has no primary metric", evaluate.header,
                    f"add `primary METRIC op VALUE`, e.g. `primary {example}`")
