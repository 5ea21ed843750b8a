"""LEAK006: a feature view whose `entity` column is missing from the base source or of
another type there."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import base_schema, reads_source, view_entity

DOC = '''
## What it does
Checks the join key of every feature view: the base source must have a column named
like the view's `entity`, of the same type as in the view's source.

## Why is this bad?
The view is joined to the examples on that column. If the base source lacks it, the
join cannot happen; if the types differ (`int` against `string`), the join matches
nothing or matches by accident, and every feature silently becomes missing.

## Example
```pipe
pipeline p {
  examples from orders
  source orders {
    from csv "orders.csv"
    schema { id: string, customer: string }
  }
  source payments {
    from csv "payments.csv"
    schema { customer: int, paid: float }
  }
  features history version 1 {
    from payments
    entity customer
    columns [paid]
  }
}
```

## Use instead
```pipe
pipeline p {
  examples from orders
  source orders {
    from csv "orders.csv"
    schema { id: string, customer: string }
  }
  source payments {
    from csv "payments.csv"
    schema { customer: string, paid: float }
  }
  features history version 1 {
    from payments
    entity customer
    columns [paid]
  }
}
```
'''


@rule("LEAK006", "error", "a feature view's entity is not a base-source column of its type",
      DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    base = base_schema(program)
    if base is None:
        return
    for view in program.blocks("features"):
        entity = view_entity(view)
        source = reads_source(view) or program.base_source
        if entity is None or source is None:
            continue
        own = program.schema(source) or {}
        if entity.name not in base:
            yield error("LEAK006", f"feature view `{view.name.name}` joins on `{entity.name}`, "
                        f"but the base source `{program.base_source}` has no such column: "
                        "the join would match nothing", entity.span,
                        "join on a column the base source has (`entity COL`), or add it to "
                        "the base source's schema")
        elif entity.name in own and own[entity.name].type != base[entity.name].type:
            yield error("LEAK006", f"feature view `{view.name.name}` joins on `{entity.name}`, "
                        f"a {own[entity.name].type} in `{source}` but a "
                        f"{base[entity.name].type} in the base source "
                        f"`{program.base_source}`", entity.span,
                        "declare the column with the same type in both schemas")
