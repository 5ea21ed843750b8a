"""GATE003: a deploy stage with no register stage upstream of it."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import misnamed, of_trained_models

DOC = '''
## What it does
Reports a deploy stage that has no register stage upstream of it in the stage DAG
(`deploy M` consumes the model registered by `register M`). While a register stage
names no train stage (T001 or T004), it stays silent: the name error is the one
mistake to report.

## Why is this bad?
A deployment that does not come from the registry has no lineage, no approval record
and nothing to roll back to.

## Example
```pipe
pipeline p {
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  deploy m {
    canary 5% for 1h
  }
}
```

## Use instead
```pipe
pipeline p {
  image "r.example.com/t@sha256:4b1c0f9e2d7a8c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d"
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


@rule("GATE003", "error", "a deploy stage with no register stage upstream", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for deploy in of_trained_models(program, "deploy"):
        upstream = program.upstream(deploy.id)
        if any(program.stages[s].kind == "register" for s in upstream if s in program.stages) \
                or misnamed(program, "register"):
            continue
        yield error("GATE003", f"`{deploy.id}` has no register stage upstream: the deployed "
                    "model would have no registry entry to trace or roll back to",
                    deploy.header, f"add `register {deploy.name.name} {{ registry local "
                    "\"registry/\"; rollback previous }`")
