"""Runners of the data stages: source, validate, label, features, join, split.

Each runner reads its inputs through the context (this run's upstream outputs), does its
work in a fresh in-memory DuckDB, and returns artifact ids plus a report. `reads_*`
name the upstream stages whose outputs or definitions a runner reads; the stage cache
key covers them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pipec.literals import format_duration

from .context import StageContext, StageOutput
from .dates import micros, snapshot_end, to_us
from .errors import RunStopped, SourceError
from .paths import local_path
from .store import file_sha256

# The DuckDB modules are imported inside the runners: a run whose stages are all cached
# decides so from hashes and the index, and need not load any data library.

# source ---------------------------------------------------------------------------------
NOT_CACHEABLE = object()


def source_salt(ctx: StageContext) -> object:
    """The sha256 of the source's file: an unchanged file keeps the stage cached.

    The snapshot is part of the stage definition; `latest` resolves from the data, so
    the file's bytes decide it too. A `sql` source may read any file: never cached.
    """
    if ctx.stage.get("format") == "sql" or not ctx.stage.get("path"):
        return NOT_CACHEABLE
    # The file itself: resolved for DuckDB, a folder such as `runs [1]/` is escaped.
    path = local_path(ctx.stage["path"], ctx.base_dir)
    if not path.is_file():
        return NOT_CACHEABLE  # let the stage run and report the missing file
    return file_sha256(path)


def run_source(ctx: StageContext) -> StageOutput:
    from .sources import load_source

    con = ctx.connect()
    loaded = load_source(con, ctx.stage, ctx.base_dir, "data")
    dataset = ctx.put_query(con, "data")
    meta = loaded.as_json() | {"content_hash": dataset}
    # The run records the resolved snapshot together with the data's content hash.
    return StageOutput({"dataset": dataset, "meta": ctx.store.put_json(meta)}, meta)


# validate -------------------------------------------------------------------------------
def reads_validate(ctx: StageContext) -> list[str]:
    return [f"source.{ctx.stage['source']}"]


def run_validate(ctx: StageContext) -> StageOutput:
    from .alerts import alert_for
    from .validation import CheckContext, ValidationBlocked, raise_if_blocked, run_checks

    source_id = f"source.{ctx.stage['source']}"
    upstream = ctx.outputs_of(source_id)
    meta = ctx.store.get_json(upstream["meta"])
    con = ctx.connect()
    ctx.open_output(con, source_id, "dataset", "data")
    stage_id, scope = ctx.stage["id"], baseline_scope(ctx)
    measured: list[tuple[str, str, float | None]] = []
    checks = CheckContext(
        table="data",
        snapshot=date.fromisoformat(meta["snapshot"]) if meta["snapshot"] else None,
        missing_columns=meta["missing_columns"],
        type_errors=meta["type_errors"],
        default_severity=ctx.stage.get("on_failure") or "block",
        baseline=lambda stat, col: ctx.index.baseline(scope, stat, col, ctx.run_id),
        record=lambda stat, col, v: measured.append((stat, col, v)),
        null_time=(ctx.source_def(ctx.stage["source"]).get("time") or "",
                   int(meta.get("null_time_rows") or 0)),
    )
    entries = run_checks(con, ctx.stage["checks"], checks)
    report = {
        "stage": stage_id,
        "rows": meta["row_count"],
        "snapshot": meta["snapshot"],
        "passed": all(e["passed"] for e in entries),
        "checks": entries,
    }
    if without_time := int(meta.get("null_time_rows") or 0):
        # Left out by the source (no time, no place in time): said even when no
        # `require` names the time column, so no row goes missing unreported.
        report["rows_without_time"] = without_time
    report["policy"] = ctx.stage.get("on_failure") or "block"
    try:
        raise_if_blocked(stage_id, report, report["policy"])
    except ValidationBlocked:
        _nothing_recorded(entries)
        raise
    _record_baselines(ctx, measured)
    failed = sum(not e["passed"] for e in entries)
    if failed and (alert := alert_for(ctx.stage, f"{failed} check(s) failed")) is not None:
        report["alert"] = alert
    report_id = ctx.store.put_json(report)
    # Validation does not change the data: the validated dataset is the same artifact.
    return StageOutput(
        {"dataset": upstream["dataset"], "meta": upstream["meta"], "report": report_id}, report
    )


def validate_hit(ctx: StageContext, report: dict[str, Any]) -> bool:
    """On a cache hit: does the cached report still hold? Records this run's baselines,
    and says in the report what its drift checks compared with in this run.

    A drift check compares with the newest blessed run's value, which a later run can
    move without changing any input in the cache key: the hit holds only while every
    drift verdict against today's baseline is the cached one. The values are recorded
    for this run as a run would, so that blessing this run makes them the baseline.
    """
    drifts = [(check, entry, _anew(ctx, check, entry))
              for check, entry in _measured_drifts(ctx, report)]
    if any(anew["passed"] != entry["passed"] for _check, entry, anew in drifts):
        return False
    for _check, entry, anew in drifts:
        entry.update(anew)
    _record_baselines(ctx, [(check["stat"], check["column"], entry["detail"]["current"])
                            for check, entry, _anew in drifts])
    return True


def _anew(ctx: StageContext, check: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """A cached drift entry as this run measures it: against today's baseline. The cached
    one says what the run that made it compared with (often the first run's "recorded as
    the baseline"), which `runs show` and `runs diff` would report for this run."""
    from .drift import drift_entry

    baseline = ctx.index.baseline(baseline_scope(ctx), check["stat"], check["column"],
                                  ctx.run_id)
    return drift_entry(check, entry["detail"]["current"], baseline)


def _record_baselines(ctx: StageContext, measured: list[tuple[str, str, float | None]]) -> None:
    """This run's drift statistics, which a later run compares with (once this run is
    blessed, or as the first run's before any is). Only data that passed its checks
    gets here: a blocked run's (an empty file, a broken export) would make every later
    run drift from it, and no run could be blessed to replace it. A statistic with no
    value (no rows) is no baseline either."""
    for stat, column, value in measured:
        if value is not None:
            ctx.index.record_baseline(ctx.run_id, baseline_scope(ctx), stat, column, value)


def _nothing_recorded(entries: list[dict[str, Any]]) -> None:
    """A blocked validation records no baseline: its report must not say it did."""
    for entry in entries:
        if (entry.get("detail") or {}).get("recorded"):
            entry["detail"]["recorded"] = False


def baseline_scope(ctx: StageContext) -> str:
    """Whose drift baselines a validate stage reads and writes: its pipeline's. Two
    pipelines sharing a run store (a project's folder) have stages of the same id, and
    one pipeline's data is no baseline for the other's first run."""
    return f"{ctx.manifest['pipeline']['name']}:{ctx.stage['id']}"


def _measured_drifts(
    ctx: StageContext, report: dict[str, Any]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(check, cached report entry) of each drift check that measured a value."""
    checks = [c for c in ctx.stage["checks"] if c["kind"] == "drift"]
    if not checks:
        return []
    from .drift import drift_name

    entries = {e["check"]: e for e in report.get("checks") or []}
    pairs = [(check, entries.get(drift_name(check)) or {}) for check in checks]
    # A check on a missing column fails whatever the baseline: nothing to re-check.
    return [(check, entry) for check, entry in pairs if "current" in (entry.get("detail") or {})]


# label ----------------------------------------------------------------------------------
def _label_source(ctx: StageContext) -> str:
    return ctx.stage["source"] if ctx.stage["mode"] == "window" else ctx.base_source()


def reads_label(ctx: StageContext) -> list[str]:
    # The source stages too: their `entity` and `time` decide the labels, and a validate
    # stage's definition does not cover them.
    sources = {ctx.base_source(), _label_source(ctx)}
    return sorted({ctx.dataset_stage(s) for s in sources} | {f"source.{s}" for s in sources})


def run_label(ctx: StageContext) -> StageOutput:
    from .labels import build_labels

    con = ctx.connect()
    base_name, source_name = ctx.base_source(), _label_source(ctx)
    ctx.open_dataset(con, base_name, "spine", row_id=True)
    ctx.open_dataset(con, source_name, "events")
    source = ctx.source_def(source_name)
    end_us = _data_end_us(con, "events", source, ctx.source_meta(source_name)["snapshot"])
    base = ctx.source_def(base_name)
    if ctx.stage["mode"] == "window":
        require_columns(ctx, con, "events", source_name, [source.get("entity"), source.get("time")])
        require_columns(ctx, con, "spine", base_name, [base.get("entity"), base.get("time")])
    else:
        require_columns(ctx, con, "spine", base_name, [ctx.stage.get("column"), base.get("time")])
    events = ("events", source) if ctx.stage["mode"] == "window" else None
    build_labels(con, ctx.stage, base, "spine", events, end_us, "labels")
    censored, rows = con.execute(
        "SELECT count(*) FILTER (censored), count(*) FROM labels"
    ).fetchall()[0]
    report = {
        "rows": rows,
        "censored": censored,
        "censor_end_us": end_us,
        "maturity_s": ctx.stage.get("maturity_s") or 0,
    }
    return StageOutput({"labels": ctx.put_query(con, "labels")}, report)


def _data_end_us(con: Any, table: str, source: dict[str, Any], snapshot: str | None) -> int:
    """End of the label source's snapshot; without one, of its newest time's date. A
    source without a `time` (a static base table whose label is a column) has no end:
    its labels are known at once, and nothing is censored (0, as for an empty source)."""
    if snapshot is not None:
        return to_us(snapshot_end(date.fromisoformat(snapshot)))
    if not source.get("time"):
        return 0
    from .db import ident

    newest = con.execute(
        f"SELECT max(CAST({ident(source['time'])} AS TIMESTAMP))::DATE FROM {ident(table)}"
    ).fetchall()[0][0]
    return to_us(snapshot_end(newest)) if newest else 0


def require_columns(ctx: StageContext, con: Any, table: str, source: str,
                    columns: list[str | None], holder: str = "") -> None:
    """Stop the stage, saying which, when the data of `source` (opened as `table`; the
    examples built from it, `holder` says) lacks a column the stage reads: a source
    without a `schema` is read as its file has it, and a column renamed there stopped
    the stage on DuckDB's Binder Error, with SQL the user never wrote. Names match
    exactly, as a declared schema's do: DuckDB's SQL would take `X` for `x`, but the
    runtime's own lookups (and the examples) would not."""
    present = [c for c in con.table(table).columns if not c.startswith("__")]
    missing = [c for c in dict.fromkeys(columns) if c and c not in present]
    if not missing:
        return
    names = ", ".join(f"`{c}`" for c in missing)
    declare = "" if ctx.source_def(source).get("schema") else (
        ", or declare the source's `schema` to have its columns checked when it is read")
    raise SourceError(
        f"{holder or f'source {source!r}'} has no column {names}, which {ctx.stage['id']} "
        f"reads (its columns: {', '.join(present)}); rename it in the data or in the "
        f"program{declare}")


# features -------------------------------------------------------------------------------
def reads_features(ctx: StageContext) -> list[str]:
    # The base source stage too: its `time` is the spine's point in time.
    base = ctx.base_source()
    return sorted({ctx.dataset_stage(base), ctx.dataset_stage(ctx.stage["source"]),
                   f"source.{base}"})


def run_features(ctx: StageContext) -> StageOutput:
    from .features import ViewSpec, build_features

    con = ctx.connect()
    ctx.open_dataset(con, ctx.base_source(), "spine", row_id=True)
    # A view over the base source reads the spine itself: build_features then takes
    # its single-pass route instead of a union of the rows with themselves.
    source = "spine"
    if ctx.stage["source"] != ctx.base_source():
        ctx.open_dataset(con, ctx.stage["source"], "view_source")
        source = "view_source"
    view = ViewSpec.from_stage(ctx.stage, ctx.source_def(ctx.base_source()))
    require_columns(ctx, con, source, ctx.stage["source"], [
        view.key, view.time, *(a.column for a in view.aggregates), *view.columns])
    require_columns(ctx, con, "spine", ctx.base_source(), [view.key, view.spine_time])
    build_features(con, view, "spine", source, "features")
    rows = con.execute("SELECT count(*) FROM features").fetchall()[0][0]
    report = {
        "rows": rows,
        "version": ctx.stage.get("version"),
        "definition_hash": ctx.stage.get("definition_hash"),
    }
    return StageOutput({"features": ctx.put_query(con, "features")}, report)


# join -----------------------------------------------------------------------------------
def reads_join(ctx: StageContext) -> list[str]:
    label = [ctx.stage["label"]] if ctx.stage.get("label") else []
    return sorted({ctx.dataset_stage(ctx.stage["base"]), *label, *ctx.stage["feature_views"]})


def run_join(ctx: StageContext) -> StageOutput:
    from .join import build_examples

    con = ctx.connect()
    ctx.open_dataset(con, ctx.stage["base"], "spine", row_id=True)
    label_id = ctx.stage.get("label")
    if label_id:
        ctx.open_output(con, label_id, "labels", "labels")
    tables = []
    for i, view_id in enumerate(ctx.stage["feature_views"]):
        ctx.open_output(con, view_id, "features", f"features_{i}")
        tables.append(f"features_{i}")
    label_name = ctx.stage.get("label_name") or (label_id or "").split(".")[-1] or None
    counts = build_examples(
        con, "spine", "labels" if label_id else None, label_name, tables, "examples"
    )
    report = {
        "base_rows": counts.base_rows,
        "censored": counts.censored,
        "examples": counts.examples,
    }
    return StageOutput({"examples": ctx.put_query(con, "examples")}, report)


# split ----------------------------------------------------------------------------------
def reads_split(ctx: StageContext) -> list[str]:
    # The label too: its maturity decides the LEAK002 check on the resolved dates.
    join = ctx.stage_def("join")
    label = [join["label"]] if join.get("label") else []
    return sorted({"join", ctx.dataset_stage(join["base"]), *label})


def run_split(ctx: StageContext) -> StageOutput:
    from .splits import side_sql, split_tables

    join = ctx.stage_def("join")
    base = ctx.source_def(join["base"])
    snapshot = ctx.source_meta(join["base"])["snapshot"]
    con = ctx.connect()
    ctx.open_output(con, "join", "examples", "examples")
    identity = _identity(ctx, con, join["base"], base["schema"])
    on = ctx.stage.get("on") or _default_on(ctx.stage["by"], join)
    require_columns(ctx, con, "examples", join["base"], [on],
                    f"the examples table of source {join['base']!r}")
    resolved = date.fromisoformat(snapshot) if snapshot else None
    _dates_need_a_snapshot(ctx, join["base"], resolved)
    _check_gap(ctx, join, resolved)
    expr = side_sql(ctx.stage, resolved, on, identity)
    sides = split_tables(con, "examples", expr)
    outputs = {
        side: ctx.store.put_table(t) for side, t in sides.items() if side != "valid" or t.num_rows
    }
    report = {side: t.num_rows for side, t in sides.items()}
    report["dropped"] = con.execute("SELECT count(*) FROM examples").fetchall()[0][0] - sum(
        report.values()
    )
    report["snapshot"] = snapshot
    return StageOutput(outputs, report)


def _identity(ctx: StageContext, con: Any, base: str,
              schema: list[dict[str, Any]]) -> list[str]:
    """The columns a row's hash reads (a random split, a `valid` share): the base
    source's columns, as the examples table holds them. Those its schema declares, or,
    for a source that declares none, every column its data has: with no column at all,
    every row hashed alike and `test 20%` put every row on one side."""
    columns = set(con.table("examples").columns)
    if schema:
        return [c["name"] for c in schema if c["name"] in columns]
    ctx.open_dataset(con, base, "base_rows")
    return sorted(c for c in con.table("base_rows").columns if c in columns)


def _dates_need_a_snapshot(ctx: StageContext, base: str, snapshot: date | None) -> None:
    """A split date written `snapshot - D` has no date when `snapshot latest` found no
    time in the base source (no rows): the run stops there and says so, as for a check
    that failed, not as a broken environment."""
    relative = [key for key in ("train_before", "test_from", "test_until")
                if isinstance(ctx.stage.get(key), dict)
                and "snapshot_minus_s" in ctx.stage[key]]
    if snapshot is not None or not relative:
        return
    raise RunStopped(ctx.stage["id"], {"snapshot": None}, (
        f"{ctx.stage['id']}: source `{base}` has no rows with a time, so `snapshot latest` "
        f"resolved to no date, and the split's {', '.join(k.replace('_', ' ') for k in relative)} "
        "(`snapshot - D`) has none either; check the source's data"))


def _check_gap(ctx: StageContext, join: dict[str, Any], snapshot: date | None) -> None:
    """LEAK002 again, on the resolved dates: with `snapshot latest` and `test from
    snapshot - D`, the checker cannot know where the test period starts (language.md:
    such a rule is checked again by `run`). Training must end the label's maturity
    before the test period starts, or its last labels were computed from test-period
    events."""
    from .splits import shifted, time_bounds

    if ctx.stage["by"] != "time" or not join.get("label"):
        return
    maturity = timedelta(microseconds=micros(ctx.stage_def(join["label"]).get("maturity_s")))
    before, start, _until = time_bounds(ctx.stage, snapshot)
    if shifted(before, maturity) > start:  # `train before 9999-12-30`: no overflow
        report = {"train_before": str(before), "test_from": str(start),
                  "label_maturity_s": _seconds(maturity), "snapshot": str(snapshot)}
        raise RunStopped(ctx.stage["id"], report, (
            f"{ctx.stage['id']}: LEAK002 on the resolved dates (snapshot {snapshot}): training "
            f"ends {_instant(before)} and its labels mature {_duration(maturity)} later, after "
            f"the test period starts at {_instant(start)}; widen the gap or move `test from`"))
    _check_test_labels(ctx, join, start)


def _check_test_labels(ctx: StageContext, join: dict[str, Any], start: datetime) -> None:
    """LEAK007 again, on the resolved dates, when a snapshot it depends on is `latest`:
    a test period that starts at or after the end of the label source's snapshot minus
    the label's maturity has no example with a matured label (the join censors them)."""
    label = ctx.stage_def(join["label"])
    maturity = timedelta(microseconds=micros(label.get("maturity_s")))
    source = label.get("source") or join["base"]
    declared = {ctx.source_def(s).get("snapshot") for s in (source, join["base"])}
    resolved = ctx.source_meta(source)["snapshot"]
    if maturity <= timedelta(0) or "latest" not in declared or not resolved:
        return
    cutoff = snapshot_end(date.fromisoformat(resolved)) - maturity
    if start >= cutoff:
        report = {"test_from": str(start), "label_maturity_s": _seconds(maturity),
                  "snapshot": resolved, "labelled_before": str(cutoff)}
        raise RunStopped(ctx.stage["id"], report, (
            f"{ctx.stage['id']}: LEAK007 on the resolved dates (`{source}` snapshot "
            f"{resolved}): the test period starts {_instant(start)}, but labels mature "
            f"{_duration(maturity)} after an example, so only examples before {_instant(cutoff)} "
            "have one and no test example does; move `test from` earlier"))


def _default_on(by: str, join: dict[str, Any]) -> str | None:
    """`on` defaults to the base time (time split) or the base entity (entity split)."""
    return {"time": join.get("time"), "entity": join.get("entity")}.get(by)


def _duration(span: timedelta) -> str:
    """A duration as a `.pipe` file writes it (`15d`), not Python's `15 days, 0:00:00`."""
    return format_duration(span.total_seconds())


def _instant(instant: datetime) -> str:
    """A UTC instant as a `.pipe` file writes it: the date alone at 00:00 UTC, else an
    ISO timestamp (`2026-04-14T06:30:00Z`)."""
    utc = instant.astimezone(UTC)
    if utc.time() == datetime.min.time():
        return utc.date().isoformat()
    return utc.isoformat().replace("+00:00", "Z")


def _seconds(span: timedelta) -> int | float:
    """A duration as a report states it: whole seconds as an int."""
    seconds = span.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds
