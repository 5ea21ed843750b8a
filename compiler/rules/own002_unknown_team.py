"""OWN002: an owner or approver that is not a declared team."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import approvals_of, at_use, imports_broken

DOC = '''
## What it does
Checks that every `owner`, every team in an evaluate stage's `owners` and every
`approval by` names a declared `team` (in this file or an imported one). A gate set's
`approval by` is checked where an evaluate stage `use`s the set, and reported at that
`use` line: the program that uses the set must declare its approver.

## Why is this bad?
An owner that is not a team has no contact and no role: alerts go nowhere, and the
role checks (OWN003, GATE009) cannot be made.

## Example
```pipe
team ml { contact "#ml"; role ml }

pipeline p {
  owner ml_team
}
```

## Use instead
```pipe
team ml { contact "#ml"; role ml }

pipeline p {
  owner ml
}
```
'''


@rule("OWN002", "error", "an owner or approver that is not a declared team", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    if program.pipeline is None or imports_broken(program):
        return  # a failed import hides the teams it declares; P002 says so
    for ident, what, use in _team_references(program):
        if ident.name in program.teams:
            continue
        known = ", ".join(f"`{t}`" for t in sorted(program.teams)) or "none declared"
        yield from at_use([error(
            "OWN002", f"{what} `{ident.name}` is not a declared team", ident.span,
            f"declare `team {ident.name} {{ contact \"...\"; role ... }}` or name a "
            f"declared team ({known})")], use)


def _team_references(program: Program) -> Iterator[tuple[n.Ident, str, n.Use | None]]:
    """Each team a block names, with the `use` line that brings it in from a gate set
    (the approver of a set: the program using it must declare that team)."""
    for ident, what in _own_team_references(program):
        yield ident, what, None
    for evaluate in program.blocks("evaluate"):
        for approval, use in approvals_of(program, evaluate):
            if use is not None:
                yield approval.team, "approver", use


def _own_team_references(program: Program) -> Iterator[tuple[n.Ident, str]]:
    assert program.pipeline is not None
    blocks = [program.pipeline, *(s.block for s in program.stages.values() if s.block)]
    for block in blocks:
        for setting in block.settings("owner"):
            if isinstance(setting.value, n.Ident):
                yield setting.value, "owner"
        for owners in block.all(n.Owners):
            for team in owners.teams:
                yield team, "owner"
        for approval in block.all(n.Approval):
            yield approval.team, "approver"
