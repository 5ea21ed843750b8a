"""VAL002: a source with no validate stage at all."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Reports a source that has no `validate` stage of the same name.

## Why is this bad?
Nothing checks the data's shape, completeness or freshness: a silent upstream change
(a renamed column, a day of missing rows) flows into labels and features unnoticed.

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
  source events {
    from csv "events.csv"
    schema { id: string }
  }
  validate events {
    require id
  }
}
```
'''


@rule("VAL002", "warning", "a source with no validate stage", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for source in program.blocks("source"):
        name = source.name.name
        if program.block("validate", name) is None:
            yield warning("VAL002", f"source `{name}` has no validate stage", source.header,
                          f"add `validate {name} {{ require ...; unique ...; freshness ... }}`")
