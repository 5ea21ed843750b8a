"""T003: a check, aggregate or split that does not fit the column's type."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import (
    NUMERIC_TYPES,
    TEMPORAL_TYPES,
    base_schema,
    checks_of,
    ident_value,
    reads_source,
)

DOC = '''
## What it does
Checks that each operation fits the type of the column it acts on: `range` needs a
number, date or timestamp; `drift mean(...)` and the aggregates `sum`, `mean`, `min`,
`max` need numbers (`min`/`max` also take dates); a time split and a source's `time`
need a date or timestamp column; a schema constraint needs a number.

## Why is this bad?
The data runtime would fail or, worse, compare strings lexically (`"9" > "10"`).

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string, country: category }
  }
  validate events {
    range country >= 0
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
    range amount >= 0
  }
}
```
'''

NUMERIC_AGGREGATES = {"sum", "mean", "avg", "std", "stddev"}
ORDERED_AGGREGATES = {"min", "max"}
KNOWN_AGGREGATES = {"count", "distinct"} | NUMERIC_AGGREGATES | ORDERED_AGGREGATES


@rule("T003", "error", "a check, aggregate or split that does not fit the column's type", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for block in program.blocks("source"):
        yield from _source_types(program, block)
    for block in program.blocks("validate"):
        schema = program.schema(block.name.name) or {}
        for line in checks_of(program, block):
            yield from _check_types(line, schema)
    for view in program.blocks("features"):
        source = reads_source(view)
        yield from _aggregate_types(view, program.schema(source) if source else None)
    yield from _split_type(program)


def _type_of(schema: dict[str, n.ColumnDef] | None, column: n.Ident | None) -> str | None:
    if schema is None or column is None or column.name not in schema:
        return None
    return schema[column.name].type


def _source_types(program: Program, block: n.Block) -> Iterator[Diagnostic]:
    schema = program.schema(block.name.name)
    time = ident_value(block, "time")
    col_type = _type_of(schema, time)
    if time is not None and col_type is not None and col_type not in TEMPORAL_TYPES:
        yield error("T003", f"the `time` column `{time.name}` is a {col_type}, not a date or "
                    "timestamp", time.span, "declare it as `timestamp` or `date`")
    for column in (schema or {}).values():
        constraint = column.constraint
        if constraint is not None and column.type not in NUMERIC_TYPES | TEMPORAL_TYPES:
            yield error("T003", f"a range constraint on `{column.name.name}`, a {column.type}",
                        constraint.span, "constraints apply to numbers, dates and timestamps")


def _check_types(line: n.Stmt, schema: dict[str, n.ColumnDef]) -> Iterator[Diagnostic]:
    if isinstance(line, n.RangeCheck):
        col_type = _type_of(schema, line.column)
        if col_type is not None and col_type not in NUMERIC_TYPES | TEMPORAL_TYPES:
            yield error("T003", f"`range` on `{line.column.name}`, a {col_type}", line.span,
                        "range checks apply to numbers, dates and timestamps")
    if isinstance(line, n.Drift):
        col_type = _type_of(schema, line.column)
        if col_type is not None and col_type not in NUMERIC_TYPES and line.stat.name != "count":
            yield error("T003", f"`{line.stat.name}({line.column.name})` of a {col_type}",
                        line.span, "drift statistics need a numeric column")
    if isinstance(line, n.FreshnessCheck):
        col_type = _type_of(schema, line.column)
        if col_type is not None and col_type not in TEMPORAL_TYPES:
            yield error("T003", f"`freshness` on `{line.column.name}`, a {col_type}", line.span,
                        "freshness needs a date or timestamp column")


def _aggregate_types(view: n.Block,
                     schema: dict[str, n.ColumnDef] | None) -> Iterator[Diagnostic]:
    for feature in view.all(n.FeatureDef):
        agg = feature.agg.name
        if agg not in KNOWN_AGGREGATES:
            yield error("T003", f"`{agg}` is not an aggregate", feature.agg.span,
                        "use count, sum, mean, min, max or distinct")
            continue
        if agg != "count" and feature.column is None:
            yield error("T003", f"`{agg}()` needs a column", feature.agg.span,
                        f"write `{agg}(COLUMN)`")
            continue
        col_type = _type_of(schema, feature.column)
        if col_type is None:
            continue
        allowed = NUMERIC_TYPES | (TEMPORAL_TYPES if agg in ORDERED_AGGREGATES else set())
        if agg in NUMERIC_AGGREGATES | ORDERED_AGGREGATES and col_type not in allowed:
            assert feature.column is not None
            yield error("T003", f"`{agg}({feature.column.name})` of a {col_type}",
                        feature.span, "use count() or distinct() for non-numeric columns")


def _split_type(program: Program) -> Iterator[Diagnostic]:
    split = program.split
    if split is None or split.by != "time":
        return
    column = split.on
    if column is None and program.base_source is not None:
        column = ident_value(program.block("source", program.base_source), "time")
    col_type = _type_of(base_schema(program), column)
    if column is not None and col_type is not None and col_type not in TEMPORAL_TYPES:
        yield error("T003", f"a time split on `{column.name}`, a {col_type}",
                    split.on.span if split.on else split.header,
                    "split by time on a date or timestamp column")
