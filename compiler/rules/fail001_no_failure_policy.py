"""FAIL001: a stage with no failure policy and no pipeline default."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Reports a stage that has no `on_failure` while the pipeline sets no default
`on_failure` either.

## Why is this bad?
The seed asks that every stage have an owner and a failure policy. Without one, the
orchestrator's default decides whether a failing validation stops training or is
silently ignored.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string }
  }
}
```

## Use instead
```pipe
pipeline p {
  on_failure block
  source events {
    from csv "events.csv"
    schema { id: string }
  }
}
```
'''


@rule("FAIL001", "warning", "a stage with no failure policy and no pipeline default", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for stage in program.stages.values():
        if stage.block is None or program.failure_policy(stage.block) is not None:
            continue
        what = "the split" if stage.kind == "split" else f"stage `{stage.id}`"
        yield warning("FAIL001", f"{what} has no failure policy and the pipeline sets no "
                      "default", stage.block.header,
                      _fix(stage.kind))


def _fix(kind: str) -> str:
    """`warn` is offered only where it does something (FAIL002): on a validate stage, and
    as the pipeline's default, which its validate stages take."""
    policies = "block|warn|retry|alert \"...\"" if kind == "validate" else \
        "block|retry|alert \"...\""
    return f"add `on_failure {policies}` to the stage, or a default to the pipeline"
