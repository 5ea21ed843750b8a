"""OWN003: a `risk high` pipeline whose evaluate stage lacks ml, product and risk owners."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import evaluate_owner_teams, imports_broken, risk_high, team_roles

DOC = '''
## What it does
In a `risk high` pipeline, checks that each evaluate stage is co-owned (`owners`) by
teams that together have the roles `ml`, `product` and `risk`. Owners that include an
undeclared team are left to OWN002: that team's roles are unknown.

## Why is this bad?
The promotion gate of a high-risk model decides what reaches customers. The seed's
ownership table requires the model builders, the product owner and the risk function
to sign the gate together; a gate owned by the ML team alone marks its own homework.

## Example
```pipe
team ml { contact "#ml"; role ml }

pipeline p {
  owner ml
  risk high
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    owners ml
    primary roc_auc >= 0.8
  }
}
```

## Use instead
```pipe
team ml { contact "#ml"; role ml }
team product { contact "#product"; role product }
team risk { contact "#risk"; role risk }

pipeline p {
  owner ml
  risk high
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    owners ml, product, risk
    primary roc_auc >= 0.8
  }
}
```
'''

REQUIRED = ("ml", "product", "risk")


@rule("OWN003", "error", "a high-risk evaluate stage not co-owned by ml, product and risk",
      DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    if not risk_high(program) or imports_broken(program):
        return
    for evaluate in program.blocks("evaluate"):
        teams = [t.name for t in evaluate_owner_teams(evaluate)]
        if not teams:
            stage = program.stages.get(evaluate.id)
            teams = [stage.owner] if stage is not None and stage.owner else []
        if any(t not in program.teams for t in teams):
            continue  # an undeclared owner's roles are unknown (OWN002 names it)
        roles = set().union(*(team_roles(program, t) for t in teams)) if teams else set()
        missing = [role for role in REQUIRED if role not in roles]
        if not missing:
            continue
        owners = evaluate.first(n.Owners)
        span = owners.span if owners is not None else evaluate.header
        listed = ", ".join(f"`{t}`" for t in teams) or "no team"
        yield error("OWN003", f"`{evaluate.id}` gates a `risk high` model but its owners "
                    f"({listed}) lack the role{'s' if len(missing) > 1 else ''} "
                    + ", ".join(missing), span,
                    "co-own it: `owners ML_TEAM, PRODUCT_TEAM, RISK_TEAM` with teams whose "
                    "roles are ml, product and risk")
