"""GATE009: self-approval, or a high-risk approver without the risk role."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import approvals_of, at_use, imports_broken, risk_high, team_roles

DOC = '''
## What it does
Reports an `approval by TEAM` where TEAM owns the train stage of the model it
approves (the effective owner, including the pipeline default), and, in a `risk high`
pipeline, an approver team without the `risk` role. The line may be the evaluate
stage's own or a gate set's that the stage `use`s: a set's is reported at the stage's
`use` line, since only the stage makes it wrong (the message names the set's line).

## Why is this bad?
Approval is a second pair of eyes. The team that built the model approving it is no
check at all, and a high-risk model needs the risk function's sign-off.

## Example
```pipe
team ml { contact "#ml"; role ml }

pipeline p {
  owner ml
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    primary roc_auc >= 0.8
    approval by ml
  }
}
```

## Use instead
```pipe
team ml { contact "#ml"; role ml }
team risk { contact "#risk"; role risk }

pipeline p {
  owner ml
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


@rule("GATE009", "error", "a self-approval, or a high-risk approver without the risk role",
      DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for evaluate in program.blocks("evaluate"):
        for approval, use in approvals_of(program, evaluate):
            yield from at_use(_approval(program, evaluate, approval), use)


def _approval(program: Program, evaluate: n.Block,
              approval: n.Approval) -> Iterator[Diagnostic]:
    team = approval.team.name
    train = program.stages.get(f"train.{evaluate.name.name}")
    if train is not None and train.owner == team:
        yield error("GATE009", f"`{team}` owns `{train.id}` and approves it: a team cannot "
                    "approve its own model", approval.team.span, _another_approver(program))
    elif risk_high(program) and not imports_broken(program) and team in program.teams \
            and "risk" not in team_roles(program, team):
        yield error("GATE009", f"the approver `{team}` of a `risk high` model does not have "
                    "the risk role", approval.team.span,
                    "name a team with `role risk` as the approver")


def _another_approver(program: Program) -> str:
    """Who may approve instead: in a `risk high` pipeline only a risk team (the rule's
    second check would report any other)."""
    if risk_high(program):
        return ("name another team, one with `role risk`, as the approver: a `risk high` "
                "model needs the risk function's sign-off")
    return "name another team as the approver (risk or product)"
