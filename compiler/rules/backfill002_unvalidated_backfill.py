"""BACKFILL002: a backfilled feature view not marked `validated`."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Reports a `backfill FROM..TO` line without the `validated` marker, which records that
the backfilled feature values were validated again after the backfill.

## Why is this bad?
A backfill rewrites history with new code. Until its output has been checked against
the values it replaces, a bug in the new definition silently changes every model
trained on that range.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    entity user
    schema { user: string, amount: float }
  }
  features spend version 2 {
    from events
    entity user
    columns [amount]
    backfill 2026-01-01..2026-03-01
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
  features spend version 2 {
    from events
    entity user
    columns [amount]
    backfill 2026-01-01..2026-03-01 validated
  }
}
```
'''


@rule("BACKFILL002", "error", "a backfill not marked validated", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for view in program.blocks("features"):
        for backfill in view.all(n.Backfill):
            if backfill.validated:
                continue
            yield error("BACKFILL002", f"the backfill {backfill.range.text} of "
                        f"`{view.name.name}` is not marked `validated`", backfill.span,
                        "validate the backfilled values, then write "
                        f"`backfill {backfill.range.text} validated`")
