"""GATE001: a register stage with no evaluate stage upstream of it."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import misnamed, of_trained_models

DOC = '''
## What it does
Reports a register stage that has no evaluate stage upstream of it in the stage DAG
(`register M` consumes the report of `evaluate M`). It reasons on the graph, not on
the order of statements. While an evaluate stage names no train stage (T001 or T004),
it stays silent: that stage was meant for some model, and the name error is the one
mistake to report.

## Why is this bad?
Only a blessed model may be registered. Without an evaluation gate, any model that
finishes training becomes a candidate for production, however bad it is.

## Example
```pipe
pipeline p {
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  register m {
    registry local "registry/"
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
  }
  register m {
    registry local "registry/"
  }
}
```
'''


@rule("GATE001", "error", "a register stage with no evaluate stage upstream", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for register in of_trained_models(program, "register"):
        upstream = program.upstream(register.id)
        if any(program.stages[s].kind == "evaluate" for s in upstream if s in program.stages) \
                or misnamed(program, "evaluate"):
            continue
        name = register.name.name
        yield error("GATE001", f"`{register.id}` has no evaluate stage upstream: an unchecked "
                    "model could be registered", register.header,
                    f"add `evaluate {name} {{ primary METRIC >= VALUE }}`")
