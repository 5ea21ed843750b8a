"""LEAK004: target leakage through a label used as a feature, or the label's data."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.literals import format_duration
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import ident_value, plain_feature_refs, reads_source

DOC = '''
## What it does
Reports target leakage: a train stage that lists a label (or the base-source column a
label reads) among its `features`; a feature view that aggregates the label's column
without `point_in_time`, or whose rows become visible (its source's `lag`) before the
label matures, or as of another `time` than its source's own (a trip counted by its
booking date, though its delay is known only after it departs); a feature view that
reads a windowed label's source without `point_in_time`, or as of another `time` than
the events' own (a chargeback counted by the purchase it is about, though reported after
the example).

## Why is this bad?
The model is given the answer. It scores perfectly in evaluation and is useless in
production, where the label is not known at prediction time.

## Example
```pipe
pipeline p {
  source loans {
    from csv "loans.csv"
    schema { id: string, amount: float, defaulted: bool }
  }
  label defaulted {
    column defaulted
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    features [amount, defaulted]
  }
}
```

## Use instead
```pipe
pipeline p {
  source loans {
    from csv "loans.csv"
    schema { id: string, amount: float, defaulted: bool }
  }
  label defaulted {
    column defaulted
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    features [amount]
  }
}
```
'''


@rule("LEAK004", "error", "a label, or its data, used as a feature (target leakage)", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    yield from _train_lists(program)
    for view in program.blocks("features"):
        yield from _view(program, view)


def _label_names(program: Program) -> dict[str, str]:
    """Feature-list names that are the target -> what they are."""
    names: dict[str, str] = {}
    for label in program.labels():
        names[label.name.name] = f"the label `{label.name.name}`"
        column = program.label_column(label)
        if column is not None:
            names[column] = f"the column label `{label.name.name}` reads"
    return names


def _train_lists(program: Program) -> Iterator[Diagnostic]:
    targets = _label_names(program)
    for ref in plain_feature_refs(program):
        name = ref.head.name
        if name in targets:
            yield error("LEAK004", f"`{name}` is {targets[name]}: the model would be "
                        "given the answer as an input", ref.span,
                        f"remove `{name}` from the feature list")
    yield from _label_shadows_a_default_feature(program)


def _label_shadows_a_default_feature(program: Program) -> Iterator[Diagnostic]:
    """A label named like another column of the base source takes that column's place in
    the examples table; a train stage with no `features` list reads every base column,
    so it would read the label under the column's name."""
    base = program.base_source
    columns = program.schema(base) if base else None
    defaults = [t.name.name for t in program.blocks("train") if t.first(n.TrainFeatures) is None]
    if not columns or not defaults:
        return
    for label in program.labels():
        name = label.name.name
        if name in columns and program.label_column(label) != name:
            yield error("LEAK004", f"label `{name}` has the name of the base source's column "
                        f"`{name}`, which the examples table replaces with the label: "
                        f"train `{defaults[0]}` reads every base column by default, so the "
                        "model would be given the answer as an input", label.name.span,
                        "rename the label, or list the train stage's `features`")


def _view(program: Program, view: n.Block) -> Iterator[Diagnostic]:
    pit = view.flag("point_in_time") is not None
    source = reads_source(view) or program.base_source
    for label in program.labels():
        if source is not None and reads_source(label) == source:
            yield from _reads_label_events(program, view, label, source, pit)
        column = program.label_column(label)
        if column is None or source != program.base_source:
            continue
        yield from _aggregates_label(program, view, label, column, pit)


def _reads_label_events(program: Program, view: n.Block, label: n.Block, source: str,
                        pit: bool) -> Iterator[Diagnostic]:
    """A view over a windowed label's events sees only those before each example when it
    is point-in-time along the events' own `time`: along another column (the purchase a
    chargeback is about), events reported after the example, the label's, are counted."""
    own_time = ident_value(view, "time")
    event_time = program.source_word(source, "time")
    if not pit:
        setting = view.setting("from")
        yield error("LEAK004", f"feature view `{view.name.name}` reads `{source}`, the "
                    f"source of label `{label.name.name}`, without `point_in_time`: its "
                    "features would count the events that define the label",
                    setting.span if setting else view.header,
                    "add `point_in_time` so only events before each example are seen")
    elif own_time is not None and event_time is not None and own_time.name != event_time:
        yield error("LEAK004", f"feature view `{view.name.name}` reads `{source}`, the "
                    f"source of label `{label.name.name}`, as of `{own_time.name}`, while the "
                    f"label's events are timed by `{event_time}`: an event at `{event_time}` "
                    "after an example (its label) would be counted when its "
                    f"`{own_time.name}` is before it", own_time.span,
                    f"remove `time {own_time.name}` so the view reads `{source}` as of "
                    f"`{event_time}`")


def _aggregates_label(program: Program, view: n.Block, label: n.Block, column: str,
                      pit: bool) -> Iterator[Diagnostic]:
    maturity = program.label_maturity(label)
    source = reads_source(view) or program.base_source
    lag = program.source_seconds(source, "lag") if source else 0.0
    # `feature X = AGG(COL)` aggregates earlier rows' labels; `columns [COL]` copies the
    # latest visible row's: both leak when a row is visible before its label is known.
    uses = [(f"feature `{f.name.name}` aggregates", f.column.span, "aggregate another column",
             "drop the feature")
            for f in view.all(n.FeatureDef) if f.column is not None and f.column.name == column]
    uses += [(f"`columns` of feature view `{view.name.name}` copies", c.span,
              f"remove `{column}` from `columns`", f"remove `{column}` from `columns`")
             for listing in view.all(n.Columns) for c in listing.columns if c.name == column]
    own_time = ident_value(view, "time")
    event_time = program.source_word(source, "time") if source else None
    for what, span, other, drop in uses:
        if not pit:
            why = "without `point_in_time`, so it includes each example's own label"
            fix = f"add `point_in_time`, or {other}"
        elif own_time is not None and event_time is not None and own_time.name != event_time:
            # The label is known `maturity` after `event_time`; a row seen as of another
            # column (a booking before the trip) may be seen before that, even before
            # its own event: its label is the answer for a later example.
            why = (f"as of `{own_time.name}`, while the label is known "
                   f"{format_duration(maturity) if maturity else '0s'} after `{event_time}`: "
                   f"a row whose `{own_time.name}` is before an example would show a label "
                   "not yet known then")
            fix = f"remove `time {own_time.name}` so the view reads rows as of `{event_time}`"
        elif maturity > lag:
            why = (f"and rows become visible after {format_duration(lag) if lag else '0s'} "
                   f"while the label matures after {format_duration(maturity)}")
            fix = _lag_fix(program, source, column, maturity, drop)
        else:
            continue
        yield error("LEAK004", f"{what} `{column}`, the column of label "
                    f"`{label.name.name}`, {why}", span, fix)


def _lag_fix(program: Program, source: str | None, column: str, maturity: float,
             drop: str) -> str:
    """Set the source's `lag` to the maturity, unless that would empty other features:
    a lag hides a row from every view of the source, and a window no longer than the lag
    never sees one (`[t - W, t)` with `time + lag < t`)."""
    lag = f"`lag {format_duration(maturity)}`"
    emptied = [f"`{view.name.name}.{f.name.name}`" for view in program.blocks("features")
               if (reads_source(view) or program.base_source) == source
               for f in view.all(n.FeatureDef)
               if f.window.seconds <= maturity and (f.column is None or f.column.name != column)]
    if not emptied:
        return f"set {lag} on the source, or {drop}"
    return (f"{drop}: {lag} on `{source}` would leave {', '.join(emptied)} with no row "
            "to aggregate (a window no longer than the lag sees none)")
