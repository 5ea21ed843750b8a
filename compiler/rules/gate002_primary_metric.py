"""GATE002: an evaluate stage without a `primary` metric."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import at_use, lines_by_use, uses_unknown_set

DOC = '''
## What it does
Requires every evaluate stage (with the gate sets it uses) to declare a `primary`
metric and its threshold, and that threshold to block: a primary line that ends with
`warn` (and no other primary line) is reported too.

## Why is this bad?
The primary metric is what "better" means for this model: it is compared with the
champion, reported first and tracked over time. Without one, a model can pass every
guardrail while being worse at its job; with a `warn` one, it is blessed and registered
however badly it scores.

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
        primaries = [(gate, use) for gate, use in lines_by_use(program.gate_sets, evaluate,
                                                                n.Gate)
                     if isinstance(gate, n.Gate) and gate.kind == "primary"]
        if primaries and all(gate.warn for gate, _ in primaries):
            gate, use = primaries[0]
            yield from at_use([error(
                "GATE002", f"the primary metric of `{evaluate.id}` ends with `warn`: it never "
                "blocks, so a model is blessed and registered however badly it scores on it",
                gate.span,
                "drop `warn` from the primary line (keep `warn` for guardrails you only "
                "watch)")], use)
        if primaries or uses_unknown_set(program.gate_sets, evaluate):
            continue
        example = "rmse <= 10" if program.train_task(evaluate.name.name) == "regression" \
            else "roc_auc >= 0.8"
        yield error("GATE002", f"`{evaluate.id}` has no primary metric", evaluate.header,
                    f"add `primary METRIC op VALUE`, e.g. `primary {example}`")
