"""T003: a check, aggregate or split that does not fit the column's type."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.diagnostics import with_article as _a
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import (
    NUMERIC_TYPES,
    TEMPORAL_TYPES,
    at_use,
    base_schema,
    ident_value,
    lines_by_use,
    reads_source,
)

DOC = '''
## What it does
Checks that each operation fits the type of the column it acts on: `range` needs a
number, date or timestamp, and a bound of the same kind (a number for a number, a date
or timestamp for a date or timestamp column); `drift` takes the statistics `mean`,
`median`, `std`, `min`, `max`, `sum` of a number, and `count`, `distinct`, `null_rate`
of any column; a feature's aggregate is `count`, `distinct`, `sum`, `mean`, `min` or
`max` (the ones the runtime computes over a window), `sum` and `mean` of a number or a
bool (the count and the share of true values), `min` and `max` of a number, date or
timestamp; a time split, a source's `time` and a feature view's `time` need a
date or timestamp column; a schema constraint needs a number or a date like its column;
a label's `when COL op VALUE` and a market split's `holdout` values need values of the
column's kind (a number for a number, a date or timestamp for a date or timestamp, a
string or bare word for a string or category, `true` or `false` for a bool), and a
held-out value must be one a row can hold (not `1.5` in an int column, nor a timestamp
other than 00:00 UTC in a date column);
a train stage's `task binary` needs a bool or 0/1 int label column (a string's positive
class is unknowable: `when COL == "VALUE"` says it), and `task regression` a number.

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

# A feature's aggregates: the ones the runtime computes over a window
# (stdlib/runtime/features.py). A bool is summed as 1 and 0: `sum` counts its true
# values, `mean` is their share (a model reads a bool as 1 and 0 too).
NUMERIC_AGGREGATES = {"sum", "mean"}
ORDERED_AGGREGATES = {"min", "max"}
KNOWN_AGGREGATES = {"count", "distinct"} | NUMERIC_AGGREGATES | ORDERED_AGGREGATES
# Names a user reaches for that are not aggregates here, with what to write instead.
_OTHER_AGGREGATES = {
    "avg": "did you mean `mean`?",
    "average": "did you mean `mean`?",
    "std": "there is no windowed standard deviation: use count, sum, mean, min, max or "
           "distinct",
}
_OTHER_AGGREGATES["stddev"] = _OTHER_AGGREGATES["std"]
# `drift STAT(COL)`: the statistics the runtime computes (stdlib/runtime/validation.py).
NUMERIC_DRIFT_STATS = {"mean", "median", "std", "stddev", "min", "max", "sum"}
ANY_DRIFT_STATS = {"count", "distinct", "null_rate"}


@rule("T003", "error", "a check, aggregate or split that does not fit the column's type", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for block in program.blocks("source"):
        yield from _source_types(program, block)
    for block in program.blocks("validate"):
        schema = program.schema(block.name.name) or {}
        for line, use in lines_by_use(program.check_sets, block, n.Check):
            if isinstance(line, n.Drift):
                yield from _drift_stat(line)  # wrong wherever it is used: reported there
            yield from at_use(_check_types(line, schema), use)
    for view in program.blocks("features"):
        source = reads_source(view) or program.base_source
        schema = program.schema(source) if source else None
        yield from _aggregate_types(view, schema)
        yield from _view_time(view, schema)
    yield from _split_type(program)
    yield from _holdout_values(program)
    yield from _label_for_task(program)
    yield from _label_when_value(program)


# The label column types each declared `task` can learn from (a windowed or `when` label
# is a bool). Binary labels are read as 0/1: a string's positive class is unknowable.
TASK_LABEL_TYPES = {"binary": frozenset({"bool", "int"}), "regression": NUMERIC_TYPES}


def _label_for_task(program: Program) -> Iterator[Diagnostic]:
    for train in program.blocks("train"):
        task = train.setting("task")
        allowed = TASK_LABEL_TYPES.get(str(task.value.py)) if task is not None else None
        for label in program.labels() if allowed is not None else ():
            column = program.label_column(label)
            if label.first(n.LabelWhen) is not None or column is None:
                continue  # a window or a comparison: a bool
            schema = base_schema(program) or {}
            col_type = schema[column].type if column in schema else None
            if col_type is not None and col_type not in allowed:
                assert task is not None
                yield error("T003", f"`task {task.value.py}` on the label `{label.name.name}`, "
                            f"{_a(col_type)} column `{column}`", task.span,
                            _LABEL_HELP.get(str(task.value.py), ""))


_LABEL_HELP = {
    "binary": "a binary label is a bool or a 0/1 int; for a string, say which value is "
              "positive: `when COLUMN == \"VALUE\"`",
    "regression": "regression learns a number: use `task multiclass` for classes",
}



def _type_of(schema: dict[str, n.ColumnDef] | None, column: n.Ident | None) -> str | None:
    if schema is None or column is None or column.name not in schema:
        return None
    return schema[column.name].type


def _source_types(program: Program, block: n.Block) -> Iterator[Diagnostic]:
    schema = program.schema(block.name.name)
    time = ident_value(block, "time")
    col_type = _type_of(schema, time)
    if time is not None and col_type is not None and col_type not in TEMPORAL_TYPES:
        yield error("T003", f"the `time` column `{time.name}` is {_a(col_type)}, not a date or "
                    "timestamp", time.span, "declare it as `timestamp` or `date`")
    for column in (schema or {}).values():
        constraint = column.constraint
        if constraint is not None and column.type not in NUMERIC_TYPES | TEMPORAL_TYPES:
            yield error("T003", f"a range constraint on `{column.name.name}`, {_a(column.type)}",
                        constraint.span, "constraints apply to numbers, dates and timestamps")
        elif constraint is not None:
            yield from _bound_kinds(column.name.name, column.type, _bounds(constraint))


def _bounds(line: n.Constraint | n.RangeCheck) -> list[n.Value]:
    if line.range is not None:
        return [line.range.low, line.range.high]
    return [line.value] if line.value is not None else []


def _bound_kinds(column: str, col_type: str, bounds: list[n.Value]) -> Iterator[Diagnostic]:
    """A number bound for a number column, a date or timestamp bound for a temporal one
    (otherwise the runtime compares a timestamp with a number, or a number with a date)."""
    temporal = col_type in TEMPORAL_TYPES
    for bound in bounds:
        if isinstance(bound, n.Date | n.Timestamp) != temporal:
            want = "a date or timestamp" if temporal else "a number"
            yield error("T003", f"`{column}` is {_a(col_type)}, but the bound `{bound.text}` is "
                        f"not {want}", bound.span,
                        f"compare `{column}` with {want}, e.g. "
                        + ("`>= 2020-01-01`" if temporal else "`>= 0`"))
            return


def _check_types(line: n.Stmt, schema: dict[str, n.ColumnDef]) -> Iterator[Diagnostic]:
    if isinstance(line, n.RangeCheck):
        col_type = _type_of(schema, line.column)
        if col_type is not None and col_type not in NUMERIC_TYPES | TEMPORAL_TYPES:
            yield error("T003", f"`range` on `{line.column.name}`, {_a(col_type)}", line.span,
                        "range checks apply to numbers, dates and timestamps")
        elif col_type is not None:
            yield from _bound_kinds(line.column.name, col_type, _bounds(line))
    if isinstance(line, n.Drift):
        yield from _drift_type(line, _type_of(schema, line.column))
    if isinstance(line, n.FreshnessCheck):
        col_type = _type_of(schema, line.column)
        if col_type is not None and col_type not in TEMPORAL_TYPES:
            yield error("T003", f"`freshness` on `{line.column.name}`, {_a(col_type)}", line.span,
                        "freshness needs a date or timestamp column")


def _drift_stat(line: n.Drift) -> Iterator[Diagnostic]:
    stat = line.stat.name
    if stat not in NUMERIC_DRIFT_STATS | ANY_DRIFT_STATS:
        known = ", ".join(sorted(NUMERIC_DRIFT_STATS | ANY_DRIFT_STATS))
        yield error("T003", f"`{stat}` is not a drift statistic", line.stat.span,
                    f"use one of: {known}")


def _drift_type(line: n.Drift, col_type: str | None) -> Iterator[Diagnostic]:
    stat = line.stat.name
    if col_type is not None and col_type not in NUMERIC_TYPES \
            and stat in NUMERIC_DRIFT_STATS:
        yield error("T003", f"`{stat}({line.column.name})` of {_a(col_type)}", line.span,
                    "use count, distinct or null_rate for a non-numeric column")


def _view_time(view: n.Block, schema: dict[str, n.ColumnDef] | None) -> Iterator[Diagnostic]:
    time = ident_value(view, "time")
    col_type = _type_of(schema, time)
    if time is not None and col_type is not None and col_type not in TEMPORAL_TYPES:
        yield error("T003", f"the `time` column `{time.name}` of feature view "
                    f"`{view.name.name}` is {_a(col_type)}, not a date or timestamp", time.span,
                    "name the source's date or timestamp column")


def _aggregate_types(view: n.Block,
                     schema: dict[str, n.ColumnDef] | None) -> Iterator[Diagnostic]:
    for feature in view.all(n.FeatureDef):
        agg = feature.agg.name
        if agg not in KNOWN_AGGREGATES:
            yield error("T003", f"`{agg}` is not an aggregate of a feature", feature.agg.span,
                        _OTHER_AGGREGATES.get(agg, "use count, sum, mean, min, max or distinct"))
            continue
        if agg != "count" and feature.column is None:
            yield error("T003", f"`{agg}()` needs a column", feature.agg.span,
                        f"write `{agg}(COLUMN)`")
            continue
        col_type = _type_of(schema, feature.column)
        if col_type is None:
            continue
        allowed = NUMERIC_TYPES | (TEMPORAL_TYPES if agg in ORDERED_AGGREGATES else {"bool"})
        if agg in NUMERIC_AGGREGATES | ORDERED_AGGREGATES and col_type not in allowed:
            assert feature.column is not None
            yield error("T003", f"`{agg}({feature.column.name})` of {_a(col_type)}",
                        feature.span, _fits_instead(agg, col_type))


def _fits_instead(agg: str, col_type: str) -> str:
    """What a feature over a column of this type can aggregate instead."""
    if col_type == "bool":  # min/max of a bool: whether any, or every, value is true
        return f"`sum` counts the true values and `mean` is their share; `{agg}` needs a number"
    return "`count(COL)` counts its values and `distinct(COL)` its distinct values"


def _split_type(program: Program) -> Iterator[Diagnostic]:
    split = program.split
    if split is not None and split.by == "market" and split.on is not None and \
            _type_of(base_schema(program), split.on) == "timestamp":
        # A held-out value is an exact market; an instant written as a date matches no row.
        yield error("T003", f"a market split on `{split.on.name}`, a timestamp",
                    split.on.span, "hold out markets of a category, string, number or date "
                    "column; to test on a period, `split by time`")
    if split is None or split.by != "time":
        return
    column = split.on
    if column is None and program.base_source is not None:
        column = ident_value(program.block("source", program.base_source), "time")
    col_type = _type_of(base_schema(program), column)
    if column is not None and col_type is not None and col_type not in TEMPORAL_TYPES:
        yield error("T003", f"a time split on `{column.name}`, {_a(col_type)}",
                    split.on.span if split.on else split.header,
                    "split by time on a date or timestamp column")


# The literals a column of each type can be compared with, how to say so, and an example.
# The runtime hands them to DuckDB as they are: a string against a number column fails
# there (`arr_delay > 'late'`), and a held-out market of another kind matches no row.
_NUMBER = ((n.Int, n.Float, n.Percent), "a number", "15")
_MOMENT = ((n.Date, n.Timestamp), "a date or timestamp", "2020-01-01")
_TEXT = ((n.Str, n.Word), "a string", '"JFK"')
VALUE_FITS: dict[str, tuple[tuple[type, ...], str, str]] = {
    "int": _NUMBER, "float": _NUMBER, "date": _MOMENT, "timestamp": _MOMENT,
    "string": _TEXT, "category": _TEXT, "bool": ((n.Bool,), "true or false", "true"),
}
VALUE_KINDS: dict[type, str] = {
    n.Int: "a number", n.Float: "a number", n.Percent: "a percentage", n.Date: "a date",
    n.Timestamp: "a timestamp", n.Str: "a string", n.Word: "a bare word", n.Bool: "a bool",
    n.Duration: "a duration", n.Size: "a size", n.Multiplier: "a multiplier",
    n.ListValue: "a list", n.MapValue: "a map",
}


def _kind_of(value: n.Value) -> str:
    return VALUE_KINDS.get(type(value), "a value")


def _misfit(value: n.Value, col_type: str | None) -> tuple[str, str] | None:
    """(what the column takes, an example of it) when `value` does not fit `col_type`."""
    if col_type not in VALUE_FITS:
        return None  # an unknown column is T002's; a type the schema grammar lacks, no one's
    kinds, wanted, example = VALUE_FITS[col_type]
    return None if isinstance(value, kinds) else (wanted, example)


def _label_when_value(program: Program) -> Iterator[Diagnostic]:
    """`when COL op VALUE` compares a base column with a value of the column's kind."""
    schema = base_schema(program)
    for label in program.labels():
        when = label.first(n.LabelWhen)
        if when is not None:
            yield from _when_fits(label, when, _type_of(schema, when.column))


def _when_fits(label: n.Block, when: n.LabelWhen, col_type: str | None) -> Iterator[Diagnostic]:
    misfit = _misfit(when.value, col_type)
    if misfit is None:
        return
    wanted, example = misfit
    column = when.column.name
    yield error("T003", f"label `{label.name.name}` compares `{column}`, {_a(str(col_type))}, "
                f"with `{when.value.text}`, {_kind_of(when.value)}", when.value.span,
                f"compare `{column}` with {wanted}, e.g. `when {column} {when.op} {example}`")


def _holdout_values(program: Program) -> Iterator[Diagnostic]:
    """A market split's held-out values are values of its `on` column: of another kind
    they match no row, and the test set is empty. The first that does not fit is reported."""
    split = program.split
    holdout = split.setting("holdout") if split is not None and split.by == "market" else None
    if split is None or split.on is None or holdout is None or \
            not isinstance(holdout.value, n.ListValue):
        return
    col_type = _type_of(base_schema(program), split.on)
    for value in holdout.value.items:
        # Market codes are often digits (`holdout [75001]` on a string column): the
        # runtime compares them as text, so a whole number fits a text column here.
        digits = isinstance(value, n.Int) and col_type in ("string", "category")
        misfit = None if digits else _misfit(value, col_type) or _unheld(value, col_type)
        if misfit is not None:
            wanted, example = misfit
            yield error("T003", f"the market split holds out `{value.text}`, "
                        f"{_kind_of(value)}, but `{split.on.name}` is "
                        f"{_a(str(col_type))}", value.span,
                        f"hold out values of `{split.on.name}`: {wanted}, e.g. "
                        f"`holdout [{example}]`")
            return


def _unheld(value: n.Value, col_type: str | None) -> tuple[str, str] | None:
    """(what the column takes, an example) for a value of the right kind that no row of
    the column can hold: `1.5` in an int column, a timestamp other than 00:00 UTC in a
    date column (a date is 00:00 UTC). Held out, it matches nothing: an empty test set."""
    if col_type == "int" and isinstance(value, n.Float) and not value.value.is_integer():
        return "whole numbers", "3"
    if col_type == "date" and isinstance(value, n.Timestamp) and _not_midnight(value.value):
        return "dates (a date is 00:00 UTC)", "2026-01-01"
    return None


def _not_midnight(instant: dt.datetime) -> bool:
    utc = instant.replace(tzinfo=instant.tzinfo or dt.UTC).astimezone(dt.UTC)
    return utc.time() != dt.time(0)
