"""GATE007: no `slice` gate although the base source has a category column."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import base_schema, gates_of, ident_value, uses_unknown_set

DOC = '''
## What it does
When the base source has a `category` column (other than a label's, its `entity`, or
the column of a market split that holds out one market, which every test row shares),
reports an evaluate stage with no `slice COL: METRIC op V` gate.

## Why is this bad?
An aggregate metric hides a model that fails one country, carrier or segment: a 0.90
overall roc_auc can be 0.60 on a small market. Slice gates are also how fairness
requirements are enforced.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string, country: category, late: bool }
  }
  label late {
    column late
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    primary roc_auc >= 0.8
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string, country: category, late: bool }
  }
  label late {
    column late
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    primary roc_auc >= 0.8
    slice country min 200: roc_auc >= 0.75
  }
}
```
'''


@rule("GATE007", "warning", "no slice gate although the base source has a category column",
      DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    schema = base_schema(program) or {}
    # Neither a label's column nor the entity (one slice per account is no segment, and
    # `min` rows per slice would leave nothing gated) is a column to slice on.
    label_columns = {program.label_column(label) for label in program.labels()}
    entity = ident_value(program.block("source", program.base_source), "entity") \
        if program.base_source else None
    skipped = label_columns | ({entity.name} if entity is not None else set()) \
        | _one_held_market(program)
    categories = [c for c, d in schema.items() if d.type == "category" and c not in skipped]
    if not categories:
        return
    for evaluate in program.blocks("evaluate"):
        if any(g.kind == "slice" for g in gates_of(program, evaluate)) \
                or uses_unknown_set(program.gate_sets, evaluate):
            continue
        names = ", ".join(f"`{c}`" for c in categories)
        yield warning("GATE007", f"`{evaluate.id}` has no slice gate, but the base source "
                      f"has the category column{'s' if len(categories) > 1 else ''} {names}",
                      evaluate.header,
                      f"add `slice {categories[0]} min 100: METRIC op VALUE`")


def _one_held_market(program: Program) -> set[str]:
    """The column of a market split that holds out one market: every test row has the
    same value there, so a slice gate on it is the overall gate again. (With several
    held-out markets it is a real slice, one per market.)"""
    split = program.split
    holdout = split.setting("holdout") if split is not None and split.by == "market" else None
    if split is None or split.on is None or holdout is None \
            or not isinstance(holdout.value, n.ListValue) or len(holdout.value.items) != 1:
        return set()
    return {split.on.name}
