"""Small queries that several rules share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from pipec import nodes as n
from pipec.diagnostics import Diagnostic
from pipec.literals import format_duration
from pipec.loader import imports_failed
from pipec.model import Program

CLASSIFICATION_METRICS = frozenset({
    "roc_auc", "pr_auc", "average_precision", "accuracy", "balanced_accuracy", "precision",
    "recall", "f1", "log_loss", "brier", "ece",
})
REGRESSION_METRICS = frozenset({"rmse", "mae", "mse", "r2", "mape", "median_ae"})
NUMERIC_TYPES = frozenset({"int", "float"})
TEMPORAL_TYPES = frozenset({"date", "timestamp"})


def ident_value(block: n.Block | None, keyword: str) -> n.Ident | None:
    setting = block.setting(keyword) if block is not None else None
    return setting.value if setting is not None and isinstance(setting.value, n.Ident) else None


def reads_source(block: n.Block) -> str | None:
    ident = ident_value(block, "from")
    return ident.name if ident else None


def base_schema(program: Program) -> dict[str, n.ColumnDef] | None:
    return program.schema(program.base_source) if program.base_source else None


def gates_of(program: Program, evaluate: n.Block) -> Iterator[n.Gate]:
    """The evaluate stage's own gate lines and those of the gate sets it uses."""
    return (gate for gate, _set in gates_with_origin(program, evaluate))


def gates_with_origin(program: Program,
                      evaluate: n.Block) -> Iterator[tuple[n.Gate, str | None]]:
    """`gates_of`, each line with the gate set it comes from (None: the stage's own)."""
    yield from ((gate, None) for gate in evaluate.all(n.Gate))
    for set_name in used_sets(program.gate_sets, evaluate):
        yield from ((gate, set_name) for gate in program.gate_sets[set_name].all(n.Gate))


def approvals_of(program: Program,
                 evaluate: n.Block) -> list[tuple[n.Approval, n.Use | None]]:
    """The evaluate stage's `approval by` lines, its own first, then those of the gate
    sets it uses (transitively), each with the stage's `use` line that brings it in."""
    found = lines_by_use(program.gate_sets, evaluate, n.Approval)
    return [(line, use) for line, use in found if isinstance(line, n.Approval)]


def approval_of(program: Program,
                evaluate: n.Block) -> tuple[n.Approval, n.Use | None] | None:
    """The approval the stage's model waits for: the first `approval by` of a gate set
    it uses, else its own. A set's line is an organisation's standard, which a stage's
    own line naming another team (GATE012, even suppressed) must not replace."""
    approvals = approvals_of(program, evaluate)
    from_sets = [found for found in approvals if found[1] is not None]
    return (from_sets or approvals or [None])[0]


def lacks_approval(program: Program, evaluate: n.Block) -> bool:
    """True when the stage's model waits for no approval: no `approval by` of its own or
    of a gate set it uses, and no set it uses is undeclared (T001, or P002 for a failed
    import), which may well hold the line a rule would otherwise report missing."""
    return approval_of(program, evaluate) is None and \
        not uses_unknown_set(program.gate_sets, evaluate)


def checks_of(program: Program, validate: n.Block) -> Iterator[n.Stmt]:
    """A validate stage's check lines, including those of the check sets it uses."""
    return (check for check, _set in checks_with_origin(program, validate))


def checks_with_origin(program: Program,
                       validate: n.Block) -> Iterator[tuple[n.Stmt, str | None]]:
    """`checks_of`, each line with the check set it comes from (None: the stage's own)."""
    yield from ((s, None) for s in validate.body if isinstance(s, n.Check))
    for set_name in used_sets(program.check_sets, validate):
        yield from ((s, set_name) for s in program.check_sets[set_name].body
                    if isinstance(s, n.Check))


def lines_by_use(table: dict[str, n.Block], block: n.Block,
                 kind: type[n.Stmt]) -> Iterator[tuple[n.Stmt, n.Use | None]]:
    """A stage's lines of one kind (checks, gates), each with the stage's own `use` line
    that brings it in from a set (transitively), or None for the stage's own lines."""
    yield from ((s, None) for s in block.body if isinstance(s, kind))
    seen: set[str] = set()
    for use in block.all(n.Use):
        pending = [use.set_name.name]
        while pending:
            name = pending.pop(0)
            if name in seen or name not in table:
                continue
            seen.add(name)
            yield from ((s, use) for s in table[name].body if isinstance(s, kind))
            pending.extend(u.set_name.name for u in table[name].all(n.Use))


def at_use(diagnostics: Iterable[Diagnostic], use: n.Use | None) -> Iterator[Diagnostic]:
    """Diagnostics about a set's line that only the using stage makes wrong (a column its
    source lacks, a metric its task does not have) point at the stage's `use` line: the
    set may be shared, or be in a file the user cannot edit or annotate with a
    suppression. The message keeps where the line is."""
    for diagnostic in diagnostics:
        if use is None:
            yield diagnostic
        else:
            yield replace(diagnostic, span=use.set_name.span,
                          message=f"{diagnostic.message} (a line of `use "
                          f"{use.set_name.name}`, at {diagnostic.span})")


def uses_unknown_set(table: dict[str, n.Block], block: n.Block) -> bool:
    """True when a block `use`s (transitively) a set that is not declared (T001, or P002
    for a failed import): what it lacks cannot be known, so rules about a missing line
    stay silent rather than echo that."""
    names = [u.set_name.name for u in block.all(n.Use)]
    names += [u.set_name.name for name in used_sets(table, block) for u in table[name].all(n.Use)]
    return any(name not in table for name in names)


def used_sets(table: dict[str, n.Block], block: n.Block) -> list[str]:
    """Names of the sets a block uses, transitively, each once, cycles ignored."""
    order: list[str] = []
    pending = [use.set_name.name for use in block.all(n.Use)]
    while pending:
        name = pending.pop(0)
        if name in order or name not in table:
            continue
        order.append(name)
        pending.extend(use.set_name.name for use in table[name].all(n.Use))
    return order


def feature_views(program: Program) -> list[n.Block]:
    return program.blocks("features")


def view_entity(view: n.Block) -> n.Ident | None:
    return ident_value(view, "entity")


def of_trained_models(program: Program, kind: str) -> list[n.Block]:
    """The `register`/`deploy`/`evaluate` stages whose `train NAME` is declared. One that
    names no train stage is T001 (or T004); gate rules about it would only echo that."""
    return [b for b in program.blocks(kind) if f"train.{b.name.name}" in program.stages]


def misnamed(program: Program, kind: str) -> list[n.Block]:
    """The `kind` stages that name no train stage (T001, or T004). Such a stage was meant
    for some model: a rule that finds a model without one stays silent while one exists,
    rather than echo the name error as a missing stage or its missing gates."""
    return [b for b in program.blocks(kind) if f"train.{b.name.name}" not in program.stages]


def deploys(program: Program) -> bool:
    return bool(program.blocks("deploy"))


def registers(program: Program) -> bool:
    return bool(program.blocks("register"))


CLASSIFICATION_TASKS = frozenset({"binary", "multiclass"})


def evaluate_owner_teams(evaluate: n.Block) -> list[n.Ident]:
    teams: list[n.Ident] = []
    for owners in evaluate.all(n.Owners):
        teams.extend(owners.teams)
    owner = ident_value(evaluate, "owner")
    if owner is not None:
        teams.append(owner)
    return teams


# ------------------------------------------------------------------ teams and roles


def team_roles(program: Program, team: str) -> set[str]:
    """Every `role` a declared team has (a team may list several)."""
    block = program.teams.get(team)
    if block is None:
        return set()
    return {str(s.value.py) for s in block.settings("role") if isinstance(s.value, n.Value)}


def imports_broken(program: Program) -> bool:
    """True when an import failed (P002) or an imported file did not parse (P001):
    declarations it would bring are unknowable."""
    return imports_failed(program.files, program.path, program.diagnostics)


def risk_high(program: Program) -> bool:
    return program.pipeline_word("risk") == "high"


# ------------------------------------------------------------------- validation


def blocking(program: Program, validate: n.Block) -> bool:
    """A validate stage's effective policy (its own `on_failure`, else the pipeline's)."""
    return program.failure_policy(validate) == "block"


def blocking_validates(program: Program) -> set[str]:
    return {b.id for b in program.blocks("validate") if blocking(program, b)}


def validate_policy_span(program: Program, validate: n.Block) -> n.Span:
    """Where to change a validate stage's policy: its own `on_failure`, else its header."""
    own = validate.first(n.OnFailure)
    return own.span if own is not None else validate.header


# ------------------------------------------------------------------ dates on the split

DAY = 86_400.0


@dataclass(frozen=True)
class Moment:
    """A point in time: absolute (`at`), or relative to the base source's `snapshot latest`
    (`at` is None), plus an offset in seconds. Two moments compare only in one frame."""

    at: dt.datetime | None
    offset: float = 0.0

    def plus(self, seconds: float) -> Moment:
        return Moment(self.at, self.offset + seconds)

    def comparable(self, other: Moment) -> bool:
        return (self.at is None) == (other.at is None)

    def seconds_after(self, other: Moment) -> float:
        """self - other in seconds; only for comparable moments."""
        base = (self.at - other.at).total_seconds() if self.at and other.at else 0.0
        return base + self.offset - other.offset

    def __str__(self) -> str:
        if self.at is None:
            if self.offset == 0:
                return "snapshot"
            sign = "-" if self.offset < 0 else "+"
            return f"snapshot {sign} {format_duration(abs(self.offset))}"
        try:
            stamp = self.at + dt.timedelta(seconds=self.offset)
        except OverflowError:  # past year 9999: say it relative to the date
            sign = "-" if self.offset < 0 else "+"
            return f"{Moment(self.at)} {sign} {format_duration(abs(self.offset))}"
        if stamp.time() == dt.time(0) and stamp.utcoffset() in (None, dt.timedelta(0)):
            return stamp.date().isoformat()
        return stamp.isoformat().replace("+00:00", "Z")


def snapshot_date(program: Program, source: str | None) -> dt.datetime | None | str:
    """A source's snapshot: a datetime (fixed date), None (`latest`), or "" (no snapshot
    or unknown source)."""
    block = program.block("source", source) if source else None
    setting = block.setting("snapshot") if block else None
    if setting is None:
        return ""
    if isinstance(setting.value, n.Date):
        return _midnight(setting.value.value)
    resolved = program.resolved_snapshots.get(source or "")
    return _midnight(resolved) if resolved else None


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def moment(program: Program, expr: n.Value | None) -> Moment | None:
    """A split date as a Moment; snapshot-relative dates resolve to an absolute date
    when the base source's snapshot is a fixed date. None when it cannot be known."""
    if isinstance(expr, n.Date):
        return Moment(_midnight(expr.value))
    if isinstance(expr, n.Timestamp):
        return Moment(expr.value.astimezone(dt.UTC))
    if isinstance(expr, n.RangeValue):
        return None
    if isinstance(expr, n.SnapshotRelative):
        minus = -(expr.minus.seconds if expr.minus else 0.0)
        snapshot = snapshot_date(program, program.base_source)
        if snapshot == "":
            return None
        return Moment(snapshot, minus) if snapshot is not None else Moment(None, minus)
    return None


def moment_of_value(value: n.Value) -> Moment | None:
    """An absolute date or timestamp literal (backfill ranges)."""
    if isinstance(value, n.Date):
        return Moment(_midnight(value.value))
    if isinstance(value, n.Timestamp):
        return Moment(value.value.astimezone(dt.UTC))
    return None


@dataclass(frozen=True)
class TimeSplit:
    """The dates of a time split; `start` is `test from`, or `before + gap` when absent."""

    split: n.Split
    before: n.TrainBefore | None
    test: n.TestFrom | None
    gap: n.Setting | None
    before_at: Moment | None
    start: Moment | None
    until: Moment | None


def time_split(program: Program) -> TimeSplit | None:
    split = program.split
    if split is None or split.by != "time":
        return None
    before = split.first(n.TrainBefore)
    test = split.first(n.TestFrom)
    gap = split.setting("gap")
    # An absent gap is none (the runtime's `from` defaults to `before + gap`, gap 0).
    gap_seconds = gap.value.seconds if gap and isinstance(gap.value, n.Duration) else 0.0
    before_at = moment(program, before.date) if before else None
    if test is not None:
        start = moment(program, test.start)
    elif before_at is not None:
        start = before_at.plus(gap_seconds)
    else:
        start = None
    until = moment(program, test.until) if test is not None and test.until else None
    return TimeSplit(split, before, test, gap, before_at, start, until)


def labels_mature_before(program: Program, maturity: float) -> Moment | None:
    """The moment before which examples have a matured label: the end of the snapshot
    (DATE + 1d) minus the maturity, on the label source's snapshot (censoring) when it is
    fixed. None when there is no maturity or the date cannot be known (LEAK007's bound,
    which LEAK002's advice must not cross)."""
    if maturity <= 0:
        return None
    sources = {reads_source(label) or program.base_source for label in program.labels()}
    dates = {snapshot_date(program, s) for s in sources if s}
    base = snapshot_date(program, program.base_source)
    if "" in dates or len(dates) != 1 or base == "":
        return None
    (date,) = dates
    if date is None and base is not None:
        return None  # the label source's `latest` is not the base's fixed date
    # The runtime censors against the end of the snapshot: `snapshot DATE` holds the rows
    # with `time < DATE + 1d`, so an example is labelled when `t + M <= DATE + 1d`.
    return Moment(date, DAY - maturity)


def days(seconds: float) -> str:
    return format_duration(seconds) if seconds > 0 else "0d"


def label_sources(program: Program) -> set[str]:
    """Sources that a windowed label reads events from (`label L { from S }`)."""
    return {s for s in (reads_source(label) for label in program.labels()) if s}


def plain_feature_refs(program: Program) -> Iterator[n.FeatureRef]:
    """Entries of the train stages' feature lists that name a column by itself: not a
    view, not `view.feature`, not `view.*`."""
    views = {v.name.name for v in program.blocks("features")}
    for train in program.blocks("train"):
        for listing in train.all(n.TrainFeatures):
            for ref in listing.refs:
                if ref.member is None and not ref.star and ref.head.name not in views:
                    yield ref


def marked_inputs(program: Program, marker: str) -> Iterator[tuple[n.Ident, str]]:
    """Columns carrying `marker` (`pii`, `after_event`) that reach a model as they are:
    named in a train stage's feature list (`"list"`) or copied by a feature view's
    `columns [...]` (`"columns"`). Aggregates of them are not inputs of their values."""
    base = base_schema(program) or {}
    for ref in plain_feature_refs(program):
        name = ref.head.name
        if name in base and marker in base[name].markers:
            yield ref.head, "list"
    for view in program.blocks("features"):
        source = reads_source(view) or program.base_source
        schema = (program.schema(source) if source else None) or {}
        for columns in view.all(n.Columns):
            for column in columns.columns:
                if column.name in schema and marker in schema[column.name].markers:
                    yield column, "columns"


def split_off_event_time(program: Program) -> n.Ident | None:
    """The `on` column of a time split when it is not the base source's `time`: rows are
    then placed by that column, while labels mature and features are seen from the
    event time, so the split's dates bound neither (LEAK011). None otherwise, and when
    the base source declares no `time` (the split column is then the only time)."""
    split = program.split
    if split is None or split.by != "time" or split.on is None or program.base_source is None:
        return None
    event_time = program.source_word(program.base_source, "time")
    if event_time is None or split.on.name == event_time:
        return None
    return split.on
