"""GATE005: a classification pipeline with no `calibration` gate."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import CLASSIFICATION_TASKS, gates_of, uses_unknown_set

DOC = '''
## What it does
For a classifier (from `task`, or a boolean or category label), reports an evaluate
stage with no `calibration ece|brier op V` gate.

## Why is this bad?
Classification gates and downstream consumers read predicted probabilities as
probabilities (a 0.8 fraud score is acted on as "80% likely"). A model can rank well
(high roc_auc) while its probabilities are far off, and every threshold built on them
is then wrong.

## Example
```pipe
pipeline p {
  train m {
    model "sklearn.linear_model.LogisticRegression"
    task binary
  }
  evaluate m {
    primary roc_auc >= 0.8
  }
}
```

## Use instead
```pipe
pipeline p {
  train m {
    model "sklearn.linear_model.LogisticRegression"
    task binary
  }
  evaluate m {
    primary roc_auc >= 0.8
    calibration ece <= 0.05
  }
}
```
'''


@rule("GATE005", "warning", "a classifier with no calibration gate", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for evaluate in program.blocks("evaluate"):
        task = program.train_task(evaluate.name.name)
        if task not in CLASSIFICATION_TASKS:
            continue
        if any(g.kind == "calibration" for g in gates_of(program, evaluate)) \
                or uses_unknown_set(program.gate_sets, evaluate):
            continue
        yield warning("GATE005", f"`{evaluate.id}` gates a {task} classifier "
                      "without checking its calibration", evaluate.header,
                      "add `calibration ece <= 0.05` (or `calibration brier <= ...`)")
