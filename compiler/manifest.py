"""The lineage manifest (docs/manifest.md): the checked program as plain data.

It is what every backend emits beside its code and what the runtime executes, so the
runtime never re-reads a `.pipe` file. Same program, same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from pipec import __version__
from pipec import nodes as n
from pipec.model import Program, Stage
from pipec.rules._support import (
    approval_of,
    checks_of,
    gates_of,
    ident_value,
    lines_by_use,
    used_sets,
)

SCHEMA_VERSION = 1

# Where a register stage with no `registry` keeps its versions (beside the .pipe file).
DEFAULT_REGISTRY = "registry/"


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_json(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def build_manifest(program: Program, base_dir: str = ".") -> dict[str, Any]:
    entries = {sid: stage_entry(program, program.stages[sid]) for sid in program.topological()}
    stages = list(entries.values())
    edges = [_edge(program, a, b, entries) for a, b in sorted(program.graph.edges)]
    return {
        "schema_version": SCHEMA_VERSION,
        "pipec_version": __version__,
        "pipeline": _pipeline(program),
        "base_dir": base_dir,
        "dag_hash": sha256_json({"stages": stages, "edges": edges}),
        "stages": stages,
        "edges": edges,
    }


def dump_manifest(manifest: dict[str, Any]) -> str:
    """`lineage.json`: compact (one line, no spaces), sorted keys, so the same program
    gives the same bytes; `json.loads` or `python -m json.tool` read it."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ pipeline


def _pipeline(program: Program) -> dict[str, Any]:
    return {
        "name": program.name,
        "owner": _ident_name(program.pipeline, "owner"),
        "risk": program.pipeline_word("risk", "low"),
        "predicts": program.pipeline_word("predicts"),
        "image": program.pipeline_word("image"),
        "code_commit": program.pipeline_word("code_commit"),
        "retrain": _retrain(program.retrain()),
        "base_source": program.base_source,
        "description": program.pipeline_word("description"),
        "teams": {name: _team(block) for name, block in sorted(program.teams.items())},
    }


def _team(block: n.Block) -> dict[str, Any]:
    return {keyword: _py(block.setting(keyword)) for keyword in ("contact", "role")}


def _retrain(retrain: n.Retrain | None) -> dict[str, Any]:
    if retrain is None or retrain.mode == "manual":
        return {"kind": "manual"}
    if retrain.mode == "scheduled":
        return {"kind": "scheduled", "cron": retrain.cron.value if retrain.cron else None}
    if retrain.mode == "new_snapshot":
        return {"kind": "triggered", "on": "new_snapshot"}
    if retrain.mode == "drift":
        return {"kind": "triggered", "on": "drift",
                "column": retrain.column.name if retrain.column else None,
                "op": retrain.op, "value": retrain.threshold.py if retrain.threshold else None}
    return {"kind": "continuous"}


# -------------------------------------------------------------------- stages
# `on_failure retry` with no `retries` on the stage or the pipeline: retry this often
# rather than not at all (what the policy asks for, bounded).
RETRY_POLICY_RETRIES = 2


def stage_entry(program: Program, stage: Stage) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": stage.id, "kind": stage.kind, "name": stage.name, "owner": stage.owner,
        "inputs": sorted(program.graph.predecessors(stage.id)),
    }
    entry.update(_runtime_policy(program, stage))
    entry.update(KIND_FIELDS[stage.kind](program, stage))
    entry["definition_hash"] = sha256_json(definition_fields(entry))
    return entry


# Who owns a stage, what it says about itself (a label's `definition` is prose) and how
# an orchestrator runs it, not what it computes or records: editing them keeps
# `definition_hash`, so a cached result stays cached, while `dag_hash` (over whole
# entries) and the run's records show the edit. `uses` names the sets whose lines
# `checks` holds. A validate stage's failure policy decides its verdict: there it is
# hashed (its retries and timeout, like every stage's, are not: `retries 2` for the
# pipeline must not retrain the model behind the validation).
METADATA_FIELDS = ("owner", "owners", "description", "definition", "uses")
POLICY_FIELDS = ("on_failure", "alert")
RUN_FIELDS = ("retries", "timeout_s")


def definition_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """The fields of a stage entry that `definition_hash` covers."""
    skipped = {"inputs", "definition_hash", *METADATA_FIELDS, *RUN_FIELDS}
    if entry["kind"] != "validate":
        skipped.update(POLICY_FIELDS)
    return {key: value for key, value in entry.items() if key not in skipped}


def _runtime_policy(program: Program, stage: Stage) -> dict[str, Any]:
    # A stage the program implies (the join, an approval) has no block of its own: it
    # takes the pipeline's defaults, as a declared stage without settings does.
    block = stage.block or program.pipeline
    if block is None:
        return {"on_failure": "block", "retries": 0, "timeout_s": None}
    on_failure = program.failure_policy(block) or "block"
    retries = program.effective(block, "retries")
    timeout = program.effective(block, "timeout")
    policy = {
        "on_failure": on_failure,
        "retries": int(retries.value.py) if retries is not None else (
            RETRY_POLICY_RETRIES if on_failure == "retry" else 0),
        "timeout_s": _seconds(timeout),
        "description": _py(stage.block.setting("description")) if stage.block else None,
    }
    message = program.failure_alert(block)
    if policy["on_failure"] == "alert" and message is not None:
        policy["alert"] = message  # only then: other stages' definition hashes stay put
    return policy


def _source(program: Program, stage: Stage) -> dict[str, Any]:
    block = stage.block
    assert block is not None
    origin = block.first(n.SourceFrom)
    fields: dict[str, Any] = {
        "format": origin.format if origin else None,
        "snapshot": _py(block.setting("snapshot")),
        "entity": _ident_name(block, "entity"), "time": _ident_name(block, "time"),
        "lag_s": _seconds(block.setting("lag")) or 0,
        "freshness_s": _seconds(block.setting("freshness")),
        "schema": [_column(c) for c in (program.schema(stage.name) or {}).values()],
    }
    key = "query" if origin is not None and origin.format == "sql" else "path"
    fields[key] = origin.location.value if origin else None
    return fields


def _column(column: n.ColumnDef) -> dict[str, Any]:
    constraint = None
    if column.constraint is not None:
        if column.constraint.range is not None:
            constraint = {"in": column.constraint.range.py}
        elif column.constraint.value is not None:
            constraint = {"op": column.constraint.op, "value": column.constraint.value.py}
    return {"name": column.name.name, "type": column.type, "constraint": constraint,
            "pii": column.pii, "after_event": column.after_event}


def _validate(program: Program, stage: Stage) -> dict[str, Any]:
    block = stage.block
    assert block is not None
    schema = [_column(c) for c in (program.schema(stage.name) or {}).values()]
    checks = [{"kind": "schema", "columns": schema, "severity": "block"}]
    checks += [check_entry(line) for line in checks_of(program, block)]
    return {"source": stage.name, "checks": checks,
            "uses": used_sets(program.check_sets, block)}


def check_entry(line: n.Stmt) -> dict[str, Any]:
    """A check line as the lineage manifest records it (durations in seconds)."""
    severity = "warn" if isinstance(line, n.Check) and line.warn else "block"
    if isinstance(line, n.Require):
        return {"kind": "require", "columns": [c.name for c in line.columns], "severity": severity}
    if isinstance(line, n.Unique):
        return {"kind": "unique", "columns": [c.name for c in line.columns], "severity": severity}
    if isinstance(line, n.RangeCheck):
        bound = {"in": line.range.py} if line.range else {"op": line.op, "value": line.value.py}
        return {"kind": "range", "column": line.column.name, "severity": severity, **bound}
    if isinstance(line, n.Completeness):
        return {"kind": "completeness", "column": line.column.name, "op": line.op,
                "value": line.value.py, "severity": severity}
    if isinstance(line, n.Drift):
        return {"kind": "drift", "stat": line.stat.name, "column": line.column.name,
                "factor": line.factor.factor, "severity": severity}
    assert isinstance(line, n.FreshnessCheck)
    return {"kind": "freshness", "column": line.column.name, "within_s": line.within.seconds,
            "severity": severity}


def _label(program: Program, stage: Stage) -> dict[str, Any]:
    block = stage.block
    assert block is not None
    when = block.first(n.LabelWhen)
    mode = "window" if block.setting("window") else "when" if when else "column"
    return {
        "mode": mode, "source": _ident_name(block, "from") or program.base_source,
        "window_s": _seconds(block.setting("window")),
        "column": program.label_column(block),
        "op": when.op if when else None, "value": when.value.py if when else None,
        "maturity_s": program.label_maturity(block),
        "definition": _py(block.setting("definition")),
    }


def _features(program: Program, stage: Stage) -> dict[str, Any]:
    block = stage.block
    assert isinstance(block, n.Features)
    # A view without `from` reads the base source (language.md "Features").
    source = _ident_name(block, "from") or program.base_source
    backfill = block.first(n.Backfill)  # one per view: a second is P003 (structure.py)
    return {
        "version": block.version.value if block.version else None,
        "source": source, "entity": _ident_name(block, "entity"),
        "time": _ident_name(block, "time") or (program.source_word(source, "time")
                                               if source else None),
        "point_in_time": block.flag("point_in_time") is not None,
        "lag_s": program.source_seconds(source, "lag") if source else 0,
        "aggregates": [
            {"name": f.name.name, "agg": f.agg.name,
             "column": f.column.name if f.column else None, "window_s": f.window.seconds}
            for f in block.all(n.FeatureDef)],
        "columns": [c.name for cols in block.all(n.Columns) for c in cols.columns],
        "backfill": {"from": backfill.range.low.py, "until": backfill.range.high.py,
                     "validated": backfill.validated} if backfill else None,
    }


def _join(program: Program, stage: Stage) -> dict[str, Any]:
    base = program.base_source
    labels = program.labels()
    return {
        "base": base,
        "entity": program.source_word(base, "entity") if base else None,
        "time": program.source_word(base, "time") if base else None,
        "label": labels[0].id if labels else None,
        "label_name": labels[0].name.name if labels else None,
        "feature_views": sorted(b.id for b in program.blocks("features")),
    }


def _split(program: Program, stage: Stage) -> dict[str, Any]:
    block = stage.block
    assert isinstance(block, n.Split)
    before = block.first(n.TrainBefore)
    test_from = block.first(n.TestFrom)
    on = block.on.name if block.on else None
    if on is None and block.by == "time" and program.base_source:
        on = program.source_word(program.base_source, "time")
    holdout = block.setting("holdout")
    return {
        "by": block.by, "on": on,
        "test": _py(block.setting("test")), "valid": _py(block.setting("valid")),
        "seed": _py(block.setting("seed")),
        "train_before": _date(before.date) if before else None,
        "gap_s": _seconds(block.setting("gap")),
        "test_from": _date(test_from.start) if test_from else None,
        "test_until": _date(test_from.until) if test_from and test_from.until else None,
        "holdout": holdout.value.py if holdout is not None else None,
    }


def _date(expr: n.Value) -> dict[str, Any]:
    if isinstance(expr, n.SnapshotRelative):
        return {"snapshot_minus_s": expr.minus.seconds if expr.minus else 0}
    if isinstance(expr, n.Timestamp):  # one spelling per instant: a date at 00:00 UTC
        utc = expr.value.astimezone(dt.UTC)
        if utc.time() == dt.time(0):
            return {"date": utc.date().isoformat()}
        return {"timestamp": utc.isoformat().removesuffix("+00:00") + "Z"}
    return {"date": expr.py}


def _train(program: Program, stage: Stage) -> dict[str, Any]:
    block = stage.block
    assert block is not None
    labels = program.labels()
    return {
        "model": _py(block.setting("model")), "task": program.train_task(stage.name),
        "label": labels[0].name.name if labels else None,
        "features": train_features(program, block),
        "params": _py(block.setting("params")) or {},
        "seed": _py(block.setting("seed")),
        "resources": _py(block.setting("resources")) or {},
        "distributed": _py(block.setting("distributed")),
        # What the model's lineage names as its environment and code: a new image or
        # commit trains (and registers) the model again.
        "image": program.pipeline_word("image"),
        "code_commit": program.pipeline_word("code_commit"),
    }


def train_features(program: Program, train: n.Block) -> list[str]:
    """Columns of the examples table the model reads (language.md defaults)."""
    views = {b.name.name: b for b in program.blocks("features")}
    listing = train.first(n.TrainFeatures)
    if listing is None:
        return sorted(_default_base_features(program) + [
            name for view in views.values() for name in _view_outputs(view)])
    chosen: list[str] = []
    for ref in listing.refs:
        view = views.get(ref.head.name)
        if view is None:
            chosen.append(ref.head.name)
        elif ref.star:
            chosen.extend(_view_outputs(view))
        elif ref.member is not None:
            chosen.append(f"{view.name.name}__{ref.member.name}")
        else:
            chosen.extend(_view_outputs(view))
    return sorted(dict.fromkeys(chosen))


def _view_outputs(view: n.Block) -> list[str]:
    names = [f.name.name for f in view.all(n.FeatureDef)]
    names += [c.name for cols in view.all(n.Columns) for c in cols.columns]
    return [f"{view.name.name}__{name}" for name in names]


def _default_base_features(program: Program) -> list[str]:
    """Every base column except entity, time, label, pii and after_event columns."""
    base = program.base_source
    schema = program.schema(base) if base else None
    if not schema:
        return []
    excluded = {program.source_word(base, "entity"), program.source_word(base, "time")}
    excluded |= {program.label_column(label) for label in program.labels()}
    return [name for name, col in schema.items()
            if name not in excluded and not col.pii and not col.after_event]


def _evaluate(program: Program, stage: Stage) -> dict[str, Any]:
    block = stage.block
    assert block is not None
    approval = approval_of(program, block)
    owners = [t.name for o in block.all(n.Owners) for t in o.teams]
    task = program.train_task(stage.name)
    return {
        "model": f"train.{stage.name}", "task": task,
        "owners": owners or ([stage.owner] if stage.owner else []),
        "threshold": _threshold(program, block, task),
        "gates": [gate_entry(g) for g in gates_of(program, block)],
        "approval_by": approval[0].team.name if approval else None,
    }


def _threshold(program: Program, evaluate: n.Block, task: str | None) -> float | None:
    """The stage's own `threshold`, else that of the first gate set it uses that has
    one (a set's threshold was dropped: its recall gate judged at 0.5), else 0.5.

    None for a multiclass or regression model: it gives no positive-class probability
    to cut, so a threshold means nothing there (T005 refuses one written), and a 0.5
    recorded by default read as one. A task known only from the data (None) keeps
    it: the model may turn out binary."""
    if task in ("multiclass", "regression"):
        return None
    for line, _use in lines_by_use(program.gate_sets, evaluate, n.Setting):
        assert isinstance(line, n.Setting)
        if line.keyword == "threshold":
            return line.value.py
    return 0.5


def gate_entry(gate: n.Gate) -> dict[str, Any]:
    """A gate line as the lineage manifest records it (bounds in seconds and bytes)."""
    return {
        "kind": gate.kind, "metric": gate.metric.name if gate.metric else None,
        "op": gate.op, "value": gate.value.py if gate.value is not None else None,
        "column": gate.column.name if gate.column else None,
        "min": gate.min_rows.value if gate.min_rows else (100 if gate.kind == "slice" else None),
        "blocking": not gate.warn,
    }


def _register(program: Program, stage: Stage) -> dict[str, Any]:
    block = stage.block
    assert block is not None
    registry = block.first(n.Registry)
    return {
        "model": f"train.{stage.name}", "evaluate": f"evaluate.{stage.name}",
        "registry": {"kind": registry.kind, "path": registry.location.value}
        if registry else {"kind": "local", "path": DEFAULT_REGISTRY},
        "rollback": _py(block.setting("rollback")),
    }


def _approval(program: Program, stage: Stage) -> dict[str, Any]:
    return {"model": f"train.{stage.name}", "approver": stage.owner,
            "register": f"register.{stage.name}"}


def _deploy(program: Program, stage: Stage) -> dict[str, Any]:
    block = stage.block
    assert block is not None
    canary = block.first(n.Canary)
    return {
        "model": f"train.{stage.name}",
        "canary": {"percent": canary.share.py, "for_s": canary.duration.seconds}
        if canary else None,
        "runtime": _py(block.setting("runtime")),
        "approval": f"approval.{stage.name}"
        if f"approval.{stage.name}" in program.stages else None,
    }


KIND_FIELDS = {
    "source": _source, "validate": _validate, "label": _label, "features": _features,
    "join": _join, "split": _split, "train": _train, "evaluate": _evaluate,
    "register": _register, "approval": _approval, "deploy": _deploy,
}


# --------------------------------------------------------------------- edges


def _edge(program: Program, source: str, target: str,
          entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    data = program.graph.edges[source, target]
    return {"source": source, "target": target, "artifact": data.get("artifact"),
            "lineage": edge_lineage(program, source, target, entries)}


def edge_lineage(program: Program, source: str, target: str,
                 entries: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the seed's lineage asks for, on the edge where it flows. `entries`: the
    stage entries already built (building one again per edge made builds quadratic)."""
    upstream = program.stages[source]
    lineage: dict[str, Any] = {}
    if upstream.kind in ("source", "validate"):
        lineage["dataset"] = {"source": upstream.name,
                              "snapshot": program.source_word(upstream.name, "snapshot")}
    if upstream.kind == "features" and isinstance(upstream.block, n.Features):
        entry = (entries or {}).get(source) or stage_entry(program, upstream)
        lineage["feature_version"] = entry["version"]
        lineage["definition_hash"] = entry["definition_hash"]
    if upstream.kind == "label" and upstream.block is not None:
        lineage["label_maturity_s"] = program.label_maturity(upstream.block)
    if upstream.kind == "train" and upstream.block is not None:
        lineage["params"] = _py(upstream.block.setting("params")) or {}
        lineage["seed"] = _py(upstream.block.setting("seed"))
        lineage["code_commit"] = program.pipeline_word("code_commit")
        lineage["image"] = program.pipeline_word("image")
    if upstream.kind == "evaluate":
        lineage["evaluation_report"] = f"{source}/report.json"
    if upstream.kind in ("register", "approval"):
        lineage["artifact_hash"] = None  # content hash of the model: known at run time
    return lineage


# ------------------------------------------------------------------- helpers


def _py(setting: n.Setting | None) -> Any:
    if setting is None:
        return None
    value = setting.value
    return value.name if isinstance(value, n.Ident) else value.py


def _ident_name(block: n.Block | None, keyword: str) -> str | None:
    ident = ident_value(block, keyword)
    return ident.name if ident else None


def _seconds(setting: n.Setting | None) -> float | None:
    if setting is None or not isinstance(setting.value, n.Duration):
        return None
    seconds = setting.value.seconds
    return int(seconds) if float(seconds).is_integer() else seconds
