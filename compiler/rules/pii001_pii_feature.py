"""PII001: a `pii` column used as a feature or a split key."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import base_schema, ident_value, marked_inputs, reads_source

DOC = '''
## What it does
Reports a schema column marked `pii` that a train stage lists in its `features`, that
a feature view copies with `columns [...]` or aggregates (`feature n = distinct(email)
over 30d`), or that the split uses as its key (`on`).
Slice gates on a `pii` column are allowed: fairness gates need them.

## Why is this bad?
A model that takes personal data as input memorises it (and can leak it), and a split
keyed on it writes it into run records and test sets. Data-protection reviews reject
both.

## Example
```pipe
pipeline p {
  source users {
    from csv "users.csv"
    schema { id: string, email: string pii, age: int, churned: bool }
  }
  label churned {
    column churned
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    features [age, email]
  }
}
```

## Use instead
```pipe
pipeline p {
  source users {
    from csv "users.csv"
    schema { id: string, email: string pii, age: int, churned: bool }
  }
  label churned {
    column churned
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    features [age]
  }
}
```
'''


@rule("PII001", "error", "a pii column used as a feature or split key", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for column, where in marked_inputs(program, "pii"):
        fix = (f"remove `{column.name}` from the feature list" if where == "list" else
               f"drop `{column.name}` from `columns`")
        yield _feature(column.name, column.span, fix)
    yield from _aggregates(program)
    yield from _split_key(program, base_schema(program) or {})


def _aggregates(program: Program) -> Iterator[Diagnostic]:
    """`feature X = AGG(COL)` of a pii column: a per-entity min, max or mean of it is
    the personal value itself, and any aggregate is derived from it (only `after_event`
    columns may be aggregated: the concern there is time, not whose data it is)."""
    for view in program.blocks("features"):
        source = reads_source(view) or program.base_source
        schema = (program.schema(source) if source else None) or {}
        for feature in view.all(n.FeatureDef):
            column = feature.column
            if column is not None and column.name in schema and schema[column.name].pii:
                yield error("PII001", f"`{column.name}` is marked `pii`: feature "
                            f"`{view.name.name}.{feature.name.name}` aggregates it, so personal "
                            "data would be a model input", column.span,
                            f"drop the feature or aggregate another column (a slice gate on "
                            f"`{column.name}` is allowed)")


def _feature(column: str, span: n.Span, fix: str) -> Diagnostic:
    return error("PII001", f"`{column}` is marked `pii`: personal data cannot be a model "
                 "input", span, fix + " (a slice gate on it is allowed)")


def _split_key(program: Program, base: dict[str, n.ColumnDef]) -> Iterator[Diagnostic]:
    split = program.split
    if split is None or split.by == "random":
        return
    key = split.on
    if key is None and split.by == "entity" and program.base_source:
        key = ident_value(program.block("source", program.base_source), "entity")
        span = split.header
    else:
        span = key.span if key is not None else split.header
    if key is not None and key.name in base and base[key.name].pii:
        yield error("PII001", f"the split is keyed on `{key.name}`, which is marked `pii`",
                    span, "split on a surrogate key (an id derived without the personal "
                    "data), or by time")
