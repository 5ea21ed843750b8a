"""T005: a metric that does not fit the task."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    at_use,
    lines_by_use,
)

DOC = '''
## What it does
Checks every gate metric against the task (from `task` on train, or the label's type:
windowed and `when` labels are binary): `rmse` on a classifier, `roc_auc` on a
regressor, calibration on a regressor, or a metric pipec does not know.

## Why is this bad?
The gate cannot be computed, so the model would never be blessed, or a meaningless
number would decide promotion.

## Example
```pipe
pipeline p {
  source flights {
    from csv "f.csv"
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
    seed 1
  }
  evaluate m {
    primary rmse <= 3
  }
}
```

## Use instead
```pipe
pipeline p {
  source flights {
    from csv "f.csv"
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
    seed 1
  }
  evaluate m {
    primary roc_auc >= 0.7
  }
}
```
'''

METRIC_GATES = {"primary", "guardrail", "slice", "compare_champion"}


@rule("T005", "error", "a metric that does not fit the task", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    task = program.task()
    for evaluate in program.blocks("evaluate"):
        for gate, use in lines_by_use(program.gate_sets, evaluate, n.Gate):
            assert isinstance(gate, n.Gate)
            if gate.kind in METRIC_GATES and gate.metric is not None \
                    and gate.metric.name not in CLASSIFICATION_METRICS | REGRESSION_METRICS:
                # Wrong wherever the line is used: reported at the line.
                yield error("T005", f"`{gate.metric.name}` is not a metric pipec knows",
                            gate.metric.span, "known metrics: " + ", ".join(sorted(
                                CLASSIFICATION_METRICS | REGRESSION_METRICS)))
            else:  # wrong for this model's task: reported at the `use` that brings it
                yield from at_use(_for_task(gate, task), use)


def _for_task(gate: n.Gate, task: str | None) -> Iterator[Diagnostic]:
    if gate.kind == "calibration" and task == "regression":
        yield error("T005", "a calibration gate on a regression model", gate.span,
                    "calibration gates apply to classifiers")
    if gate.kind not in METRIC_GATES or gate.metric is None:
        return
    metric = gate.metric.name
    if task == "regression" and metric not in REGRESSION_METRICS:
        yield error("T005", f"`{metric}` is a classification metric, but the task is "
                    "regression", gate.metric.span, "use rmse, mae, mse, r2 or mape")
    elif task in ("binary", "multiclass") and metric not in CLASSIFICATION_METRICS:
        yield error("T005", f"`{metric}` is a regression metric, but the task is {task}",
                    gate.metric.span, "use roc_auc, pr_auc, recall, precision or f1")
