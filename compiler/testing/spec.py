"""What the split properties need to know about a program, as plain data.

A `SplitSpec` is read from the lineage manifest (docs/manifest.md), the same data the
runtime executes, so the properties test exactly the split the runtime would run. The
bounds of a time split are resolved here again, independently of the runtime, so that a
bug in the runtime's date arithmetic cannot hide itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipec.model import Program

KINDS = ("random", "time", "entity", "group", "market")
HASHED = frozenset({"random", "entity", "group"})


class SpecError(ValueError):
    """The program cannot be property-tested (errors, or no split)."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    constraint: dict[str, Any] | None = None
    nullable: bool = True


@dataclass(frozen=True)
class SplitSpec:
    """The split of one program and the base source it splits.

    `split` is the manifest's split entry; `on` the resolved column (a time split
    defaults to the base time, an entity split to the base entity); `columns` the base
    source's schema (plus `on` when the split names a column the schema lacks);
    `snapshot` the declared snapshot date, or None for `snapshot latest` (the strategies
    then draw one); `maturity_s` the longest label maturity; `identity` the columns a
    row hash reads (random splits, `valid` shares), as the runtime's split stage picks
    them: the declared schema columns, or, for a source that declares none, every column
    its rows have (here, those the strategies draw).
    """

    split: dict[str, Any]
    columns: tuple[Column, ...]
    on: str | None
    entity: str | None = None
    time: str | None = None
    snapshot: date | None = None
    maturity_s: float = 0.0
    name: str = "split"
    identity: tuple[str, ...] = field(default=())
    # The pipeline's `predicts` (future | new_entities | iid), None when not declared.
    predicts: str | None = None

    @property
    def kind(self) -> str:
        return str(self.split["by"])

    def column(self, name: str | None) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def test_share(self) -> float:
        test = self.split.get("test")
        return 0.2 if test is None else float(test)

    @property
    def valid_share(self) -> float:
        return float(self.split.get("valid") or 0.0)


@dataclass(frozen=True)
class TimeBounds:
    """A time split's resolved instants: train `t < before`, test `start <= t < until`."""

    before: datetime | None
    start: datetime
    until: datetime | None


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def resolve_date(obj: dict[str, Any] | None, snapshot: date | None) -> datetime | None:
    """A manifest date object as an aware UTC instant (a date is 00:00 UTC)."""
    if obj is None:
        return None
    if "date" in obj:
        return midnight(date.fromisoformat(str(obj["date"])))
    if "timestamp" in obj:
        text = str(obj["timestamp"]).replace("Z", "+00:00")
        return datetime.fromisoformat(text).astimezone(UTC)
    if snapshot is None:
        raise SpecError("a date relative to the snapshot needs a snapshot")
    return midnight(snapshot) - timedelta(seconds=float(obj["snapshot_minus_s"]))


def time_bounds(spec: SplitSpec, snapshot: date | None) -> TimeBounds:
    """`test from` defaults to `train before + gap` (language.md, "Splits"), and
    `train before` to `test from - gap`: with `test from` alone, training still ends
    where the gap before the test period begins (the runtime's documented reading)."""
    split = spec.split
    gap = timedelta(seconds=float(split.get("gap_s") or 0))
    before = resolve_date(split.get("train_before"), snapshot)
    start = resolve_date(split.get("test_from"), snapshot)
    if start is None:
        if before is None:
            raise SpecError("a time split needs `train before` or `test from`")
        start = shifted(before, gap)
    if before is None:
        before = shifted(start, -gap)
    return TimeBounds(before, start, resolve_date(split.get("test_until"), snapshot))


def shifted(instant: datetime, delta: timedelta) -> datetime:
    """`instant + delta`, held at the ends of the calendar: `train before 9999-12-01;
    gap 365d` starts its test period after every instant a row can hold, which is an
    empty test period, not an OverflowError."""
    try:
        return instant + delta
    except OverflowError:
        end = datetime.max if delta > timedelta(0) else datetime.min
        return end.replace(tzinfo=UTC)


# ------------------------------------------------------------------ loading


def load_program(path: str | Path) -> Program:
    """Compile a `.pipe` file; `SpecError` with the rendered diagnostics on errors."""
    from pipec.check import compile
    from pipec.config import options_for

    path = Path(path)
    if not path.is_file():
        raise SpecError(f"cannot read `{path}`: no such file")
    program = compile(path, options=options_for(path))
    if not program.ok:
        raise SpecError(f"`{path}` does not check:\n{render_diagnostics(program)}")
    return program


def render_diagnostics(program: Program) -> str:
    from pipec.render.text import render_plain

    sources = {f.display: f.text for f in program.files}
    return render_plain(program.diagnostics, sources)


def split_spec(program_or_path: Program | str | Path) -> SplitSpec | None:
    """The program's split, or None when it declares none (a library file)."""
    from pipec.manifest import build_manifest

    program = program_or_path
    if isinstance(program_or_path, str | Path):
        program = load_program(program_or_path)
    if not program.ok:  # type: ignore[union-attr]
        raise SpecError(f"the program does not check:\n{render_diagnostics(program)}")
    manifest = build_manifest(program)  # type: ignore[arg-type]
    return spec_from_manifest(manifest)


def spec_from_manifest(manifest: dict[str, Any]) -> SplitSpec | None:
    stages = {s["id"]: s for s in manifest["stages"]}
    split = stages.get("split")
    if split is None:
        return None
    base = stages.get(f"source.{manifest['pipeline'].get('base_source')}") or {}
    entity, time_col = base.get("entity"), base.get("time")
    on = split.get("on") or {"time": time_col, "entity": entity}.get(split["by"])
    required = _required(stages, base.get("name"))
    columns = [Column(c["name"], c["type"], c.get("constraint"),
                      nullable=c["name"] not in required | {entity, time_col})
               for c in base.get("schema") or []]
    names = {c.name for c in columns}
    declared = sorted(names)
    for extra, kind in ((entity, "string"), (time_col, "timestamp"), (on, _on_type(split))):
        if extra and extra not in names:
            columns.append(Column(extra, kind, nullable=False))
            names.add(extra)
    maturities = [s.get("maturity_s") or 0 for s in stages.values() if s["kind"] == "label"]
    snapshot = base.get("snapshot")
    return SplitSpec(
        split=dict(split), columns=tuple(columns), on=on, entity=entity, time=time_col,
        snapshot=date.fromisoformat(snapshot) if snapshot not in (None, "latest") else None,
        maturity_s=float(max(maturities, default=0)),
        name=str(manifest["pipeline"].get("name") or "split"),
        identity=tuple(declared or sorted(names)),
        predicts=manifest["pipeline"].get("predicts"),
    )


def _on_type(split: dict[str, Any]) -> str:
    return "timestamp" if split["by"] == "time" else "string"


def _required(stages: dict[str, dict[str, Any]], source: str | None) -> set[str]:
    validate = stages.get(f"validate.{source}") or {}
    return {col for check in validate.get("checks") or [] if check["kind"] == "require"
            for col in check["columns"]}


# ------------------------------------------------------------------ `snapshot latest`


@dataclass(frozen=True)
class _Bound:
    """One end of a time split as a function of the snapshot S: the fixed instant `at`,
    or (`at` None) `midnight(S) - lag`."""

    at: datetime | None
    lag: timedelta = timedelta(0)

    def plus(self, delta: timedelta) -> _Bound:
        if self.at is not None:
            return _Bound(shifted(self.at, delta))
        return _Bound(None, self.lag - delta)


def _bound(obj: dict[str, Any] | None) -> _Bound | None:
    if obj is None:
        return None
    if "snapshot_minus_s" in obj:
        return _Bound(None, timedelta(seconds=float(obj["snapshot_minus_s"])))
    return _Bound(resolve_date(obj, None))


def earliest_real_snapshot(spec: SplitSpec) -> date | None:
    """The first date a `snapshot latest` run of `spec`'s time split can resolve to,
    None when the split names no fixed date (or is not a time split).

    `latest` resolves to the newest data, and a run's data reaches every fixed date its
    split names: the snapshot is no earlier than each of them, and a date relative to
    the snapshot that the split orders after a fixed one (`test from snapshot - 30d`
    after `train before 2026-01-01`) lies after it, by the label maturity (or the
    `gap`, when longer) between the train end and the test start. Earlier snapshots only
    mean the data has not reached the split's own dates yet; `pipec run` checks LEAK002
    again on the resolved date. A relative date ordered before a fixed one (`train
    before snapshot - 10d` before `test from 2026-01-01`) bounds the snapshot from
    above, which no run outgrows: it leaves the floor alone, so such a split still
    fails at the snapshots after it."""
    if spec.kind != "time":
        return None
    split = spec.split
    gap = timedelta(seconds=float(split.get("gap_s") or 0))
    before, start = _bound(split.get("train_before")), _bound(split.get("test_from"))
    if start is None and before is not None:
        start = before.plus(gap)
    if before is None and start is not None:
        before = start.plus(-gap)
    if before is None or start is None:
        return None
    until = _bound(split.get("test_until"))
    apart = max(gap, timedelta(seconds=spec.maturity_s))
    reached = [b.at for b in (before, start, until) if b is not None and b.at is not None]
    for earlier, later, distance in ((before, start, apart), (start, until, timedelta(0))):
        if earlier.at is not None and later is not None and later.at is None:
            reached.append(shifted(shifted(earlier.at, distance), later.lag))
    return _day_reaching(max(reached)) if reached else None


def _day_reaching(instant: datetime) -> date:
    """The first date whose midnight is at or after `instant` (held at the calendar's
    end)."""
    day = instant.astimezone(UTC).date()
    if midnight(day) < instant and day < date.max:
        day += timedelta(days=1)
    return day
