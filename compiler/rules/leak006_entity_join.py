"""LEAK006: a feature view whose `entity` column is missing from the base source or of
another type there, or a windowed label whose event source's entity has another type
than the base source's."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.diagnostics import with_article as _a
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import base_schema, ident_value, reads_source, view_entity

DOC = '''
## What it does
Checks the join key of every feature view: the base source must have a column named
like the view's `entity`, of the same type as in the view's source. Checks the join
key of a windowed label (`label L { from S; window W }`) too: the `entity` column of `S`
must have the type of the base source's `entity` column (their names may differ).

## Why is this bad?
The view is joined to the examples on that column. If the base source lacks it, the
join cannot happen; if the types differ (`int` against `string`), the join matches
nothing or matches by accident, and every feature silently becomes missing. A windowed
label that matches no event is false for every example.

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


@rule("LEAK006", "error", "a feature view's or windowed label's join key does not match "
      "the base source's", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    base = base_schema(program)
    if base is None:
        return
    yield from _views(program, base)
    yield from _labels(program, base)


def _views(program: Program, base: dict[str, n.ColumnDef]) -> Iterator[Diagnostic]:
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
                        f"{_a(own[entity.name].type)} in `{source}` but "
                        f"{_a(base[entity.name].type)} in the base source "
                        f"`{program.base_source}`", entity.span,
                        "declare the column with the same type in both schemas")


def _labels(program: Program, base: dict[str, n.ColumnDef]) -> Iterator[Diagnostic]:
    """A windowed label matches each example's `entity` with its events' `entity`
    (language.md "Labels"); the two columns may have different names."""
    base_name = program.base_source
    key = program.source_word(base_name, "entity") if base_name else None
    for label in program.labels():
        origin = ident_value(label, "from")
        if origin is None or label.setting("window") is None or key not in base:
            continue
        event_key = program.source_word(origin.name, "entity")
        events = program.schema(origin.name) or {}
        if event_key not in events or events[event_key].type == base[key].type:
            continue
        yield error("LEAK006", f"label `{label.name.name}` matches the base source's "
                    f"`{key}`, {_a(base[key].type)} in `{base_name}`, with the events' "
                    f"`{event_key}`, {_a(events[event_key].type)} in `{origin.name}`: no event "
                    "would match, and every label would be false", origin.span,
                    "declare both entity columns with the same type")

