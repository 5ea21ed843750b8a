"""Declarations that parse but cannot run, or say one thing twice.

- P003: a single-valued statement given twice in one block (`owner`, `primary`,
  `registry`, `approval by`, `canary`, `backfill`...), a schema column declared twice, two features
  of one name in a view. Which one wins would be an accident of file order.
- P001: a stage without the statement that defines it, or with two that contradict
  each other: a label that defines no value or mixes the windowed and column forms, a
  feature view without `entity`, a split that cannot assign rows (a time split with
  neither `train before` nor `test from`, a group or market split without `on`, a
  market split without `holdout`, a test period that ends before it starts, a backfill
  range that is not dates or ends before it starts), or that needs a column its sources
  do not declare (a windowed label needs the entity and time of the base and of the
  event source; a maturing label, an as-of view and a windowed aggregate need times).
  Shares that leave no rows to train on are `value_ranges`'.

A diagnostic about a missing statement points at the header of the block that lacks it
(language.md "Lexical shape").
"""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules._support import Moment, ident_value, moment, moment_of_value, reads_source

# (`role` is not one: a team may fill several owner columns, `team_roles`.)
SINGLE_SETTINGS = frozenset({
    "contact", "owner", "retries", "timeout", "snapshot", "entity", "time", "lag", "window",
    "model", "task", "seed", "test", "valid", "gap", "threshold", "from", "known_after", "column",
    "image", "risk", "predicts", "code_commit", "freshness", "definition", "description",
    "params", "resources", "distributed", "runtime", "rollback", "holdout",
})
# Statements a block holds at most once: class -> how the message names it.
SINGLE_STATEMENTS: dict[type, str] = {
    n.SourceFrom: "`from`", n.Schema: "`schema`", n.Registry: "`registry`",
    n.Canary: "`canary`", n.Approval: "`approval by`", n.TrainBefore: "`train before`",
    n.TestFrom: "`test from`", n.Retrain: "`retrain`", n.ExamplesFrom: "`examples from`",
    n.OnFailure: "`on_failure`", n.LabelWhen: "`when`", n.TrainFeatures: "`features [...]`",
    n.Backfill: "`backfill`",
}
# A view version records one backfill (language.md: `backfill RANGE [validated]`, the
# marker saying the view was validated again after it); the manifest carries that one.
TWICE_FIX: dict[type, str] = {
    n.Backfill: "keep one: a feature view records one backfill (write one range that "
                "covers both)",
}
# A gate line of these kinds appears once per evaluate stage (or gate set).
SINGLE_GATES = frozenset({"primary", "features_compatible"})


def structure_diagnostics(program: Program) -> Iterator[Diagnostic]:
    """P003 and P001 for the pipeline and its stages (stages declared twice excluded)."""
    if program.pipeline is None:
        return
    yield from _repeated(program.pipeline)
    for stage in program.stages.values():
        block = stage.block
        if block is None:
            continue
        yield from _repeated(block)
        if block.kind == "source":
            yield from _schema_columns(block)
        elif block.kind == "label":
            yield from _reserved(block.name, "label")
            shape = list(_label_shape(block))
            yield from shape
            if not shape:
                yield from _label_needs(program, block)
        elif block.kind == "features":
            yield from _view_shape(program, block)
        elif isinstance(block, n.Split):
            yield from _split_shape(program, block)


def declaration_diagnostics(program: Program) -> Iterator[Diagnostic]:
    """P003 inside the teams, check sets and gate sets of every file read, with or
    without a pipeline: a file of shared declarations is checked on its own too."""
    for table in (program.teams, program.check_sets, program.gate_sets):
        for block in table.values():
            yield from _repeated(block)


def describe(block: n.Block) -> str:
    if block.kind == "split":
        return "the split"
    if block.kind == "pipeline":
        return "the pipeline"
    kind = {"gates": "gate set", "checks": "check set"}.get(block.kind, block.kind)
    return f"{kind} `{block.name.name}`"


# ------------------------------------------------------------------------ P003


def _twice(what: str, block: n.Block, first: n.Node, again: n.Node) -> Diagnostic:
    fix = TWICE_FIX.get(type(again), "keep one of them: which one would win is an accident "
                        "of order")
    return error("P003", f"{what} is given twice in {describe(block)} (first at {first.span})",
                 again.span, fix)


def _repeated(block: n.Block) -> Iterator[Diagnostic]:
    seen: dict[object, n.Stmt] = {}
    for stmt in block.body:
        key: object
        if isinstance(stmt, n.Setting) and stmt.keyword in SINGLE_SETTINGS:
            key, what = stmt.keyword, f"`{stmt.keyword}`"
        elif isinstance(stmt, n.Gate) and stmt.kind in SINGLE_GATES:
            key, what = ("gate", stmt.kind), f"`{stmt.kind.replace('_', ' ')}`"
        elif type(stmt) in SINGLE_STATEMENTS:
            key, what = type(stmt), SINGLE_STATEMENTS[type(stmt)]
        else:
            continue
        if key in seen:
            yield _twice(what, block, seen[key], stmt)
        else:
            seen[key] = stmt


# Names that pipec's own columns use (`__row_id`, `__side`...): a user's column or label
# of this form would collide with them in the tables the runtime and `pipec test` build.
RESERVED_PREFIX = "__"


def _reserved(name: n.Ident, what: str) -> Iterator[Diagnostic]:
    if name.name.startswith(RESERVED_PREFIX):
        yield _p001(f"{what} `{name.name}` starts with `{RESERVED_PREFIX}`, which is kept for "
                    "pipec's own columns (row ids, split sides)", name.span,
                    f"rename it (a `from sql` source can select `{name.name} AS "
                    "another_name`)")


def _schema_columns(source: n.Block) -> Iterator[Diagnostic]:
    for schema in source.all(n.Schema):
        seen: dict[str, n.ColumnDef] = {}
        for column in schema.columns:
            yield from _reserved(column.name, "column")
            first = seen.setdefault(column.name.name, column)
            if first is not column:
                yield error("P003", f"column `{column.name.name}` is declared twice in the "
                            f"schema of source `{source.name.name}` (first at {first.span})",
                            column.name.span, "keep one declaration of each column")


def _feature_names(view: n.Block) -> Iterator[Diagnostic]:
    seen: dict[str, n.Ident] = {}
    for feature in view.all(n.FeatureDef):
        first = seen.setdefault(feature.name.name, feature.name)
        if first is not feature.name:
            yield error("P003", f"feature `{feature.name.name}` is defined twice in feature "
                        f"view `{view.name.name}` (first at {first.span})", feature.name.span,
                        "rename one of them: a train stage names a feature as "
                        f"`{view.name.name}.{feature.name.name}`")


# ------------------------------------------------------------------------ P001


def _p001(message: str, span: n.Span, fix: str) -> Diagnostic:
    return error("P001", message, span, fix)


def _label_shape(label: n.Block) -> Iterator[Diagnostic]:
    """`from S` + `window W`, or `column COL` / `when COL op V` (+ `known_after`)."""
    name = label.name.name
    source, window = label.setting("from"), label.setting("window")
    column, when = label.setting("column"), label.first(n.LabelWhen)
    known_after = label.setting("known_after")
    windowed = [s for s in (source, window) if s is not None]
    read = [s for s in (column, when) if s is not None]
    if not windowed and not read:
        yield _p001(f"label `{name}` defines no value: a label is `from SOURCE` with "
                    "`window DUR`, or `column COL`, or `when COL op V`", label.header,
                    "add `column COL` to read it from the base source, or `from SOURCE` and "
                    "`window DUR` for an event after the example")
        return
    if windowed and read:
        yield _p001(f"label `{name}` mixes a windowed label (`from`/`window`) with one read "
                    "from a column (`column`/`when`); only one of them could be the label",
                    read[0].span, "keep `from` + `window`, or `column`/`when`, not both")
        return
    if column is not None and when is not None:
        yield _p001(f"label `{name}` has both `column` and `when`: the label is the column "
                    "itself or a condition on it, not both", when.span,
                    f"keep `when {when.column.name} {when.op} ...` or `column`")
    if source is not None and window is None:
        yield _p001(f"label `{name}` reads events `from {_text(source.value)}` but has no "
                    "`window`: the label is whether an event follows within the window",
                    label.header, "add `window DUR`, e.g. `window 30d`")
    if windowed and known_after is not None:
        yield _p001(f"`known_after` does not apply to a windowed label: label `{name}` "
                    "matures after its `window` plus its source's `lag`", known_after.span,
                    "remove `known_after` (or set the source's `lag`)")


def _view_shape(program: Program, view: n.Block) -> Iterator[Diagnostic]:
    yield from _feature_names(view)
    if view.setting("entity") is None:
        source = view.setting("from")
        reads = _text(source.value) if source else program.base_source or "the base source"
        yield _p001(f"feature view `{view.name.name}` has no `entity`: its rows join the "
                    "base rows on the entity column, so it needs one", view.header,
                    f"add `entity COL`, the column of `{reads}` to aggregate by")
    yield from _view_needs(program, view)
    for backfill in view.all(n.Backfill):
        yield from _backfill_range(backfill)


def _missing(program: Program, source: str | None, keyword: str,
             why: str) -> Iterator[Diagnostic]:
    """P001 at a source's header when it lacks `entity` or `time` that `why` needs."""
    block = program.block("source", source) if source else None
    if block is not None and block.setting(keyword) is None:
        what = "the base source" if source == program.base_source else "source"
        yield _p001(f"{why}, but {what} `{source}` declares no `{keyword}`", block.header,
                    f"add `{keyword} COL` to source `{source}`")


def _label_needs(program: Program, label: n.Block) -> Iterator[Diagnostic]:
    """A windowed label matches each example's entity and time with its events'
    (`(t, t + W]`); a label with `known_after` is censored by each example's time."""
    name, base = label.name.name, program.base_source
    if label.setting("window") is not None:
        why = f"label `{name}` looks for an event of the same entity in the window after " \
            "each example"
        for source in dict.fromkeys((base, reads_source(label))):
            for keyword in ("entity", "time"):
                yield from _missing(program, source, keyword, why)
        return
    known_after = label.setting("known_after")
    if known_after is not None and isinstance(known_after.value, n.Duration) \
            and known_after.value.seconds > 0:
        yield from _missing(program, base, "time", f"label `{name}` is known "
                            f"{known_after.value.text} after each example's time")


def _view_needs(program: Program, view: n.Block) -> Iterator[Diagnostic]:
    """Windowed aggregates run along the view's time; a view with a time is joined as of
    each example's time (the base source's)."""
    name, source = view.name.name, reads_source(view) or program.base_source
    own = ident_value(view, "time")
    time = own.name if own else program.source_word(source, "time") if source else None
    aggregate = view.first(n.FeatureDef)
    if aggregate is not None and time is None and program.block("source", source or ""):
        yield _p001(f"feature view `{name}` aggregates over a window (`{aggregate.name.name}` "
                    f"over {aggregate.window.text}) but its rows have no `time`: a window "
                    "is a span of the rows' times",
                    view.header, f"add `time COL` to the view or to source `{source}`")
    if time is not None:
        yield from _missing(program, program.base_source, "time",
                            f"feature view `{name}` is joined as of each example's time")


def _backfill_range(backfill: n.Backfill) -> Iterator[Diagnostic]:
    value = backfill.range
    low, high = moment_of_value(value.low), moment_of_value(value.high)
    if low is None or high is None:
        yield _p001(f"a backfill range is dates or timestamps, not `{value.text}`", value.span,
                    "write `backfill 2026-01-01..2026-03-01`")
    elif high.seconds_after(low) <= 0:
        yield _p001(f"the backfill range {_ends(low, high, value.low.text, value.high.text)}"
                    ": it backfills nothing", value.high.span,
                    f"end the backfill after {value.low.text}")


def _ends(start: Moment, end: Moment, start_text: str, end_text: str) -> str:
    """How an empty range ends. The end is excluded, so `A..A` is empty too: "ends
    before it starts" would be false there, and would not say why nothing is in it."""
    if end.seconds_after(start) == 0:
        return f"ends where it starts ({start_text}), and its end is excluded"
    return f"ends ({end_text}) before it starts ({start_text})"


def _split_shape(program: Program, split: n.Split) -> Iterator[Diagnostic]:
    yield from _split_key(program, split)
    yield from _unused_split_lines(split)
    if split.by == "time":
        yield from _time_dates(program, split)
    if split.by == "market":
        holdout = split.setting("holdout")
        items = holdout.value.items if holdout and isinstance(holdout.value, n.ListValue) \
            else None
        if holdout is None or items == ():
            yield _p001("a market split with no `holdout` values has an empty test set",
                        holdout.span if holdout else split.header,
                        "list the held-out markets, e.g. `holdout [fr, de]`")


# What places a row in each kind of split: any other line would be ignored, and its
# reader would believe it holds (a `test 20%` on a time split, a `gap` on a random one).
_HASHED = "a hash of each row's {unit} places it, by `test`, `valid` and `seed`"
_SPLIT_LINES: dict[str, tuple[frozenset[str], str]] = {
    "random": (frozenset({"test", "valid", "seed"}), _HASHED.format(unit="identity")),
    "entity": (frozenset({"test", "valid", "seed"}), _HASHED.format(unit="entity")),
    "group": (frozenset({"test", "valid", "seed"}), _HASHED.format(unit="group")),
    "time": (frozenset({"train before", "gap", "test from", "valid", "seed"}),
             "its dates place each row (`train before`, `gap`, `test from`); `valid` and "
             "`seed` carve validation rows out of the train period"),
    "market": (frozenset({"holdout", "valid", "seed"}),
               "`holdout` names the test markets; `valid` and `seed` carve validation rows "
               "out of the others"),
}


def _unused_split_lines(split: n.Split) -> Iterator[Diagnostic]:
    used, how = _SPLIT_LINES.get(split.by, (None, ""))
    if used is None:
        return
    for stmt in split.body:
        line = _split_line(stmt)
        if line is not None and line not in used:
            article = "an" if split.by == "entity" else "a"
            yield _p001(f"{article} {split.by} split takes no `{line}`: {how}", stmt.span,
                        f"drop the `{line}` line, or split by another kind")


def _split_line(stmt: n.Stmt) -> str | None:
    """The split keyword a statement of a split block is (None: owner and the like)."""
    if isinstance(stmt, n.TrainBefore):
        return "train before"
    if isinstance(stmt, n.TestFrom):
        return "test from"
    if isinstance(stmt, n.Setting) and stmt.keyword in ("test", "valid", "seed", "gap",
                                                        "holdout"):
        return stmt.keyword
    return None


def _split_key(program: Program, split: n.Split) -> Iterator[Diagnostic]:
    if split.by == "random" and split.on is not None:
        # A random split places each row by its identity; a key here would be ignored,
        # and a reader would believe the key's rows stay on one side.
        yield _p001(f"a random split takes no `on` column: rows are placed one by one, "
                    f"so rows with the same `{split.on.name}` land on both sides",
                    split.on.span, f"write `split by group on {split.on.name}` to keep them "
                    "together, or drop the `on`")
    if split.on is not None or split.by == "random":
        return
    if split.by in ("group", "market"):
        yield _p001(f"a {split.by} split needs an `on` column (the {split.by} of each row)",
                    split.header, f"write `split by {split.by} on COLUMN`")
        return
    keyword = "time" if split.by == "time" else "entity"
    base = program.base_source
    if base is not None and program.block("source", base) is not None \
            and program.source_word(base, keyword) is None:
        article = "a" if split.by == "time" else "an"
        yield _p001(f"{article} {split.by} split without `on` uses the base source's "
                    f"`{keyword}` column, but source `{base}` declares no `{keyword}`",
                    split.header,
                    f"write `split by {split.by} on COLUMN`, or add `{keyword} COL` to "
                    f"source `{base}`")


def _time_dates(program: Program, split: n.Split) -> Iterator[Diagnostic]:
    before, test = split.first(n.TrainBefore), split.first(n.TestFrom)
    if before is None and test is None:
        yield _p001("a time split needs `train before DATE` or `test from DATE`: without "
                    "them no row can be placed", split.header,
                    "add `train before DATE` (the test period then starts after the gap)")
    if test is not None and test.until is not None:
        start, until = moment(program, test.start), moment(program, test.until)
        if start is not None and until is not None and start.comparable(until) \
                and until.seconds_after(start) <= 0:
            yield _p001(f"the test period {_ends(start, until, test.start.text, test.until.text)}"
                        ": the test set is empty", test.until.span,
                        f"end the test period after {test.start.text}, or drop `until`")


def _text(value: n.Value | n.Ident) -> str:
    return value.name if isinstance(value, n.Ident) else value.text
