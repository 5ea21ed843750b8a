"""OWN001: a stage (split included) with no owner and no pipeline default owner."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Reports a stage (the split included) that names no `owner` (an evaluate stage may use
`owners`) while the pipeline sets no default `owner`.

## Why is this bad?
When the stage fails at 3 a.m., nobody is paged; when its output is wrong, nobody is
accountable. Every stage of a production pipeline needs a team behind it.

## Example
```pipe
team ml { contact "#ml"; role ml }

pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string }
  }
}
```

## Use instead
```pipe
team ml { contact "#ml"; role ml }

pipeline p {
  owner ml
  source events {
    from csv "events.csv"
    schema { id: string }
  }
}
```
'''


@rule("OWN001", "error", "a stage with no owner and no pipeline default owner", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for stage in program.stages.values():
        if stage.block is None or stage.owner is not None:
            continue
        what = "the split" if stage.kind == "split" else f"stage `{stage.id}`"
        yield error("OWN001", f"{what} has no owner and the pipeline sets no default owner",
                    stage.block.header,
                    "add `owner TEAM` to the stage, or a default `owner TEAM` to the pipeline")
