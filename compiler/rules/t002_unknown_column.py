"""T002: a column that is not in the referenced schema."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.analyze import declared_kinds
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import (
    at_use,
    base_schema,
    ident_value,
    label_sources,
    lines_by_use,
    reads_source,
)

DOC = '''
## What it does
Checks that every column a statement names exists in the schema it refers to: a
source's `entity` and `time`, a validate stage's checks, a label's `column`/`when`,
a feature view's entity, time and aggregated columns, the split's `on`, slice gates
and the train stage's feature list.

## Why is this bad?
A misspelt column fails at run time, hours into a pipeline, or worse: silently
yields an empty feature.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    entity user_id
    schema { id: string }
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    entity id
    schema { id: string }
  }
}
```
'''


@rule("T002", "error", "a column that is not in the referenced schema", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for block in program.blocks("source"):
        schema = program.schema(block.name.name)
        for keyword in ("entity", "time"):
            yield from _missing(ident_value(block, keyword), schema, f"source `{block.name.name}`")
    for block in program.blocks("validate"):
        schema = program.schema(block.name.name)
        for check_line, use in lines_by_use(program.check_sets, block, n.Check):
            for column in _check_columns(check_line):
                yield from at_use(_missing(column, schema, f"source `{block.name.name}`"), use)
    yield from _label_columns(program)
    yield from _feature_columns(program)
    yield from _split_and_gates(program)


def _missing(column: n.Ident | None, schema: dict[str, n.ColumnDef] | None,
             where: str, program: Program | None = None) -> Iterator[Diagnostic]:
    """T002 for a column `schema` lacks; with `program`, the schema is the base source's,
    and the help names another source that has the column when the base was inferred."""
    if column is None or schema is None or column.name in schema:
        return
    known = ", ".join(sorted(schema)) or "none"
    help_ = f"the columns there are: {known}"
    if program is not None:
        help_ += _inferred_base(program, column.name)
    yield error("T002", f"column `{column.name}` is not in the schema of {where}",
                column.span, help_)


def _inferred_base(program: Program, column: str) -> str:
    """With no `examples from`, the base source is inferred (language.md "Base source":
    a source read by no label or view wins over one a view reads). A column of another
    source then often means the examples were meant to be that source's rows."""
    pipeline = program.pipeline
    if pipeline is None or pipeline.first(n.ExamplesFrom) is not None:
        return ""
    base = program.base_source
    labelled = label_sources(program)
    others = [b.name.name for b in program.blocks("source")
              if b.name.name not in (base, *labelled)
              and column in (program.schema(b.name.name) or {})]
    if base is None or len(others) != 1:
        return ""
    read = any(reads_source(v) == base for v in program.blocks("features"))
    why = "it feeds no label" if read else "it feeds no label or feature view"
    return (f"; `{column}` is a column of `{others[0]}`: if its rows are the examples, add "
            f"`examples from {others[0]}` to the pipeline (the base `{base}` was inferred: "
            f"{why})")


def _check_columns(stmt: n.Stmt) -> list[n.Ident]:
    if isinstance(stmt, n.Require | n.Unique):
        return list(stmt.columns)
    if isinstance(stmt, n.RangeCheck | n.Completeness | n.Drift | n.FreshnessCheck):
        return [stmt.column]
    return []


def _label_columns(program: Program) -> Iterator[Diagnostic]:
    schema = base_schema(program)
    where = f"base source `{program.base_source}`"
    for label in program.labels():
        yield from _missing(ident_value(label, "column"), schema, where, program)
        when = label.first(n.LabelWhen)
        if when is not None:
            yield from _missing(when.column, schema, where, program)


def _feature_columns(program: Program) -> Iterator[Diagnostic]:
    for view in program.blocks("features"):
        source = reads_source(view) or program.base_source  # no `from`: the base source
        schema = program.schema(source) if source else None
        where = f"source `{source}`"
        for keyword in ("entity", "time"):
            yield from _missing(ident_value(view, keyword), schema, where)
        for feature in view.all(n.FeatureDef):
            yield from _missing(feature.column, schema, where)
        for columns in view.all(n.Columns):
            for column in columns.columns:
                yield from _missing(column, schema, where)


def _split_and_gates(program: Program) -> Iterator[Diagnostic]:
    schema = base_schema(program)
    where = f"base source `{program.base_source}`"
    split = program.split
    if split is not None:
        yield from _missing(split.on, schema, where, program)
    retrain = program.retrain()
    if retrain is not None:  # `retrain triggered on drift(COL) > V` watches a base column
        yield from _missing(retrain.column, schema, where, program)
    for evaluate in program.blocks("evaluate"):
        for gate, use in lines_by_use(program.gate_sets, evaluate, n.Gate):
            assert isinstance(gate, n.Gate)
            yield from at_use(_missing(gate.column, schema, where, program), use)
    for train in program.blocks("train"):
        yield from _train_features(program, train, schema, where)


def _train_features(program: Program, train: n.Block, schema: dict[str, n.ColumnDef] | None,
                    where: str) -> Iterator[Diagnostic]:
    views = {v.name.name: v for v in program.blocks("features")}
    # A label's name is a column of the examples table, not a misspelt base column:
    # listing it is target leakage, which LEAK004 reports with the right fix.
    labels = {label.name.name for label in program.labels()}
    for listing in train.all(n.TrainFeatures):
        for ref in listing.refs:
            if ref.head.name in views:
                if ref.member is not None:
                    yield from _view_member(views[ref.head.name], ref.member)
                continue
            if ref.member is not None or ref.star:
                yield _not_a_view(program, ref)
                continue
            if ref.head.name not in labels:
                yield from _missing(ref.head, schema, where, program)


def _not_a_view(program: Program, ref: n.FeatureRef) -> Diagnostic:
    """`x.y` or `x.*` where `x` is no feature view: T004 when `x` is a declaration of
    another kind (a label, a source), else T001."""
    name = ref.head.name
    written = f"{name}.{ref.member.name}" if ref.member is not None else f"{name}.*"
    kinds = [k for k in declared_kinds(program, name) if k != "features"]
    if kinds:
        what = kinds[0].replace("train", "train stage")
        column = f" (a column is named by itself: `{ref.member.name}`)" \
            if ref.member is not None and kinds[0] == "source" else ""
        return error("T004", f"`{written}` in the feature list names `{name}`, which is a "
                     f"{what}, not a feature view{column}", ref.head.span,
                     "name a declared `features` view, or a base-source column by itself")
    return error("T001", f"`{name}` in the feature list is not a feature view", ref.head.span,
                 "name a declared `features` view")


def _view_member(view: n.Block, member: n.Ident) -> Iterator[Diagnostic]:
    names = {f.name.name for f in view.all(n.FeatureDef)}
    for columns in view.all(n.Columns):
        names.update(c.name for c in columns.columns)
    if member.name not in names:
        known = ", ".join(sorted(names)) or "none"
        yield error("T002", f"feature view `{view.name.name}` has no feature `{member.name}`",
                    member.span, f"its features are: {known}")
