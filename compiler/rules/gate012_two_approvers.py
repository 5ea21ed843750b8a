"""GATE012: an evaluate stage whose `approval by` lines (its own and those of the gate
sets it uses) name different teams."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import approval_of, approvals_of, at_use

DOC = '''
## What it does
Collects the `approval by TEAM` lines an evaluate stage is under: its own and those of
the gate sets it `use`s, which may require a human approval as an organisation's
standard. Reports each line that names another team than the first set's line, the
one the model waits for: a stage's own line at that line, another set's at the stage's
`use` line that brings it in. A second line in one block (two of the stage's own, or
two in one set) is P003 instead.

## Why is this bad?
A model waits for one approval, by one team, before it is promoted: the other team's
line is dropped (the set's line wins, even with this rule suppressed), and an
organisation's standard (a set's `approval by risk`) must not be replaced one pipeline
at a time by a team of the stage's choosing.

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
        # The standard: a set's line, which the approval stage waits for (without one,
        # the stage's own first line, and a second own line is P003).
        standard = approval_of(program, evaluate)
        if standard is None:
            continue
        for approval, use in _first_of_each_block(program, evaluate):
            if approval.team.name != standard[0].team.name:
                yield from at_use([_report(program, evaluate, standard, approval, use)], use)


def _first_of_each_block(program: Program,
                         evaluate: n.Block) -> list[tuple[n.Approval, n.Use | None]]:
    """The stage's approval lines, but only the first of the stage's own and of each
    set's: a second line in one block is P003 already (the same mistake said once)."""
    blocks = (evaluate, *program.gate_sets.values())
    firsts = {id(line) for block in blocks if (line := block.first(n.Approval)) is not None}
    return [found for found in approvals_of(program, evaluate) if id(found[0]) in firsts]


def _report(program: Program, evaluate: n.Block,
            standard: tuple[n.Approval, n.Use | None], other: n.Approval,
            other_use: n.Use | None) -> Diagnostic:
    line, use = standard
    where = f"gate set `{_set_holding(program, line)}`" if use else "the stage's own line"
    fix = ("remove the stage's own `approval by` to keep the set's, or stop using the set "
           "(copying the lines you keep)" if other_use is None else
           "stop using one of the sets (copying the lines you keep), or make their "
           "`approval by` lines name the same team")
    return error(
        "GATE012", f"`{evaluate.id}` needs approval by `{other.team.name}` and by "
        f"`{line.team.name}` ({where}, {line.span}): a model waits for one "
        "approval, by one team", other.span, f"keep one approver: {fix}")


def _set_holding(program: Program, line: n.Approval) -> str:
    """The gate set whose body holds `line` (a set used through another names its own)."""
    return next(name for name, block in program.gate_sets.items()
                if any(stmt is line for stmt in block.body))
