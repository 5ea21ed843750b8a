"""REPRO004: a feature view without a `version`."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Requires every feature view to carry a version: `features NAME version N { ... }`.

## Why is this bad?
The lineage records which definition of a feature a model was trained with. Without a
version, a changed aggregate silently gives an old model new inputs, and a training
run cannot be matched with the features served next to it.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    entity user
    schema { user: string, amount: float }
  }
  features spend {
    from events
    entity user
    columns [amount]
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    entity user
    schema { user: string, amount: float }
  }
  features spend version 1 {
    from events
    entity user
    columns [amount]
  }
}
```
'''


@rule("REPRO004", "error", "a feature view without a version", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for view in program.blocks("features"):
        if isinstance(view, n.Features) and view.version is not None:
            continue
        yield error("REPRO004", f"feature view `{view.name.name}` has no version",
                    view.header, f"write `features {view.name.name} version 1 {{ ... }}` and "
                    "bump it whenever a definition changes")
