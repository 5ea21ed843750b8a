"""GATE006: a pipeline that deploys with no `latency` gate or no `size` gate."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import gates_of, misnamed, of_trained_models, uses_unknown_set

DOC = '''
## What it does
In a pipeline that deploys, requires the evaluate stage of each deployed model to
gate its serving cost: a `latency p50|p99 op DURATION` gate and a `size op SIZE` gate.
A deployed model without an evaluate stage is not reported while an evaluate stage
names no train stage (T001 or T004): its gates may be the ones meant for this model.

## Why is this bad?
A more accurate model that takes 300 ms per prediction or weighs 4 GB breaks the
service it is deployed into. Accuracy gates do not see it; the pager does.

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
    latency p99 <= 20ms
    size <= 50MB
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


@rule("GATE006", "error", "a deployed model with no latency or no size gate", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for deploy in of_trained_models(program, "deploy"):
        evaluate = program.block("evaluate", deploy.name.name)
        kinds = {g.kind for g in gates_of(program, evaluate)} if evaluate else set()
        missing = [k for k in ("latency", "size") if k not in kinds]
        # An unknown set may hold the gates; a misnamed evaluate stage may be this one.
        unknowable = uses_unknown_set(program.gate_sets, evaluate) if evaluate is not None \
            else bool(misnamed(program, "evaluate"))
        if not missing or unknowable:
            continue
        lines = {"latency": "`latency p99 <= 50ms`", "size": "`size <= 100MB`"}
        anchor = evaluate.header if evaluate is not None else deploy.header
        where = f"`{evaluate.id}`" if evaluate is not None else "an evaluate stage"
        yield error("GATE006", f"`{deploy.id}` deploys a model with no "
                    + " and no ".join(f"{k} gate" for k in missing), anchor,
                    f"add {' and '.join(lines[k] for k in missing)} (with your budget) to "
                    f"{where}")
