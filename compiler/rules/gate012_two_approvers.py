"""GATE012: an evaluate stage whose `approval by` lines (its own and those of the gate
sets it uses) name different teams."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import approvals_of, at_use

DOC = '''
## What it does
Collects the `approval by TEAM` lines an evaluate stage is under: its own and those of
the gate sets it `use`s, which may require a human approval as an organisation's
standard. Reports each line that names another team than the first set's (or, with no
set's line, than the stage's own first one).

## Why is this bad?
A model waits for one approval, by one team, before it is promoted: a second team's
line would be dropped without a word, and an organisation's standard (a set's
`approval by risk`) must not be replaced one pipeline at a time by a team of the
stage's choosing.

## Example
```pipe
team ml { contact "#ml"; role ml }
team risk { contact "#risk"; role risk }
team product { contact "#product"; role product }

gates reviewed {
  primary roc_auc >= 0.7
  approval by risk
}

pipeline p {
  owner ml
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    use reviewed
    approval by product
  }
}
```

## Use instead
```pipe
team ml { contact "#ml"; role ml }
team risk { contact "#risk"; role risk }
team product { contact "#product"; role product }

gates reviewed {
  primary roc_auc >= 0.7
  approval by risk
}

pipeline p {
  owner ml
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    use reviewed
  }
}
```
'''


@rule("GATE012", "error", "an evaluate stage whose approvals name different teams", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for evaluate in program.blocks("evaluate"):
        found = approvals_of(program, evaluate)
        # A second own line is P003 already: the stage's first line stands for them.
        approvals = [a for a in found if a[1] is None][:1] + [a for a in found if a[1]]
        if not approvals:
            continue
        # A set's line is the standard the stage's own lines are measured against.
        standard = next((found for found in approvals if found[1] is not None), approvals[0])
        for approval, use in approvals:
            if approval.team.name != standard[0].team.name:
                yield from at_use([_report(evaluate, *standard, approval)], use)


def _report(evaluate: n.Block, standard: n.Approval, standard_use: n.Use | None,
            other: n.Approval) -> Diagnostic:
    where = (f"gate set `{standard_use.set_name.name}`" if standard_use
             else "the stage's own line")
    return error(
        "GATE012", f"`{evaluate.id}` needs approval by `{other.team.name}` and by "
        f"`{standard.team.name}` ({where}, {standard.span}): a model waits for one "
        "approval, by one team", other.span,
        "keep one approver: remove the stage's own `approval by` to keep the set's, or "
        "stop using the set (copying the lines you keep)")
