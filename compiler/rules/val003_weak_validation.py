"""VAL003: a validate stage that covers none of the basic checks."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import checks_of, uses_unknown_set

DOC = '''
## What it does
Reports a validate stage (with the check sets it uses) that has none of: `require`
(required columns), `completeness`, `unique`, `freshness`.

## Why is this bad?
Range and drift checks alone pass on an empty table or on yesterday's data. The basic
checks are what catch a broken extract.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string, amount: float }
  }
  validate events {
    range amount >= 0
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string, amount: float }
  }
  validate events {
    require id, amount
    range amount >= 0
  }
}
```
'''

BASIC = (n.Require, n.Completeness, n.Unique, n.FreshnessCheck)


@rule("VAL003", "warning", "a validate stage without required, completeness, uniqueness or "
      "freshness checks", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for validate in program.blocks("validate"):
        if any(isinstance(line, BASIC) for line in checks_of(program, validate)) \
                or uses_unknown_set(program.check_sets, validate):
            continue
        yield warning("VAL003", f"`{validate.id}` checks none of: required columns, "
                      "completeness, uniqueness, freshness", validate.header,
                      "add at least `require COLS`, and `completeness`, `unique` or "
                      "`freshness` where they apply")
