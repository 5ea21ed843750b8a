"""One pipeline's part of the docs manifest, built from the checked `Program`.

The lineage manifest (`pipec.manifest.build_manifest`) already holds each stage's
fields; this module adds what a reader needs around it: owners with contact and role,
each stage's contract (artifacts in and out), parent and child maps, the reproducibility
contract, validation rules, gates, approvals and the open diagnostics.
"""

from __future__ import annotations

from typing import Any

from pipec import __version__, spelling
from pipec import nodes as n
from pipec.docsite import describe
from pipec.docsite.names import FileNames, portable
from pipec.model import PRODUCES, Program
from pipec.rules._support import checks_with_origin, gates_with_origin

# Lifted out of the lineage entry into the node itself; the rest becomes `spec`.
COMMON = ("id", "kind", "name", "owner", "inputs", "on_failure", "alert", "retries",
          "timeout_s", "description", "definition_hash")


__all__ = ["FileNames", "pipeline_entry", "portable", "team_entries"]


def team_entries(program: Program, names: FileNames | None = None) -> dict[str, dict[str, Any]]:
    """The teams the program sees, by name; `names` names their files (default: plain)."""
    names = FileNames() if names is None else names
    teams = {}
    for name, block in program.teams.items():
        contact, description = block.setting("contact"), block.setting("description")
        teams[name] = {"contact": contact.value.py if contact is not None else None,
                       "role": program.team_role(name),
                       "description": description.value.py if description is not None
                       else None,
                       "file": names(block.header.file)}
    return teams


def pipeline_entry(program: Program, lineage: dict[str, Any], slug: str,
                   names: FileNames | None = None) -> dict[str, Any]:
    """The docs of one pipeline, from its checked program and its lineage manifest;
    `names` names its files (qualified by project when a site spans several)."""
    names = FileNames() if names is None else names
    head = lineage["pipeline"]
    edges = lineage["edges"]
    into, out_of = _edges_by(edges, "target"), _edges_by(edges, "source")
    nodes = {stage["id"]: _node(stage, into.get(stage["id"], []), out_of.get(stage["id"], []))
             for stage in lineage["stages"]}
    for stage_id, node in nodes.items():
        node["on_failure_from"] = _policy_origin(program, stage_id)
    return {
        "name": head["name"], "slug": slug, "file": names(program.display),
        "description": head["description"], "owner": head["owner"], "risk": head["risk"],
        "predicts": head["predicts"],
        "retrain": {**head["retrain"], "summary": describe.retrain(head["retrain"])},
        "dag_hash": lineage["dag_hash"],
        "teams": team_entries(program, names),
        "order": [stage["id"] for stage in lineage["stages"]],
        "nodes": nodes,
        "parent_map": {sid: sorted(program.graph.predecessors(sid)) for sid in nodes},
        "child_map": {sid: sorted(program.graph.successors(sid)) for sid in nodes},
        "edges": edges,
        "reproducibility": _reproducibility(program, head, lineage),
        "validation": _validation(program, nodes),
        "gates": _gates(program, nodes),
        "approvals": [_approval(node) for node in nodes.values() if node["kind"] == "approval"],
        "diagnostics": _diagnostics(program, names),
    }


def _edges_by(edges: list[dict[str, Any]], end: str) -> dict[str, list[dict[str, Any]]]:
    """The edges by the stage at one end (`source` or `target`), in their order: looked
    up per stage, not filtered from all edges for each (quadratic in the stages)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for edge in edges:
        found.setdefault(edge[end], []).append(edge)
    return found


def _node(stage: dict[str, Any], incoming: list[dict[str, Any]],
          outgoing_edges: list[dict[str, Any]]) -> dict[str, Any]:
    outgoing = {e["artifact"] for e in outgoing_edges}
    owners = stage.get("owners") or ([stage["owner"]] if stage["owner"] else [])
    node = {key: stage.get(key) for key in COMMON if key != "inputs"}
    node.update({
        "owners": owners,
        "consumes": [{"from": e["source"], "artifact": e["artifact"]} for e in incoming],
        # A sink (deploy) has no outgoing edge: say what it produces anyway.
        "produces": sorted(outgoing) or [PRODUCES[stage["kind"]]],
        "spec": {k: v for k, v in stage.items() if k not in COMMON},
    })
    return node


def _policy_origin(program: Program, stage_id: str) -> str:
    """Where the effective failure policy comes from: an undeclared one is `default`
    (the runtime blocks), which FAIL001 reports and the ownership table shows. A stage
    the program implies (the join, an approval) has no block of its own and takes the
    pipeline's policy, as the runtime does; without one it is `implicit`."""
    block = program.stages[stage_id].block
    if block is not None and block.first(n.OnFailure) is not None:
        return "stage"
    if program.pipeline is not None and program.pipeline.first(n.OnFailure) is not None:
        return "pipeline"
    return "default" if block is not None else "implicit"


def _reproducibility(program: Program, head: dict[str, Any],
                     lineage: dict[str, Any]) -> dict[str, Any]:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for stage in lineage["stages"]:
        by_kind.setdefault(stage["kind"], []).append(stage)
    split = _resolved_split(program, by_kind.get("split", [None])[0])
    return {
        "image": head["image"], "code_commit": head["code_commit"],
        "pipec_version": __version__, "dag_hash": lineage["dag_hash"],
        "sources": [_source(s) for s in by_kind.get("source", [])],
        "labels": [_label(s) for s in by_kind.get("label", [])],
        "features": [_features(s) for s in by_kind.get("features", [])],
        "split": {**_pick(split, "by", "on"), "summary": describe.split(split)}
        if split else None,
        "training": [_training(s) for s in by_kind.get("train", [])],
        "registry": [{"stage": s["id"], "registry": s["registry"], "rollback": s["rollback"]}
                     for s in by_kind.get("register", [])],
        "deployments": [_deploy(s) for s in by_kind.get("deploy", [])],
    }


def _pick(stage: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: stage.get(key) for key in keys}


def _source(stage: dict[str, Any]) -> dict[str, Any]:
    entry = _pick(stage, "name", "format", "snapshot", "entity", "time", "lag_s",
                  "freshness_s")
    entry["location"] = stage.get("path") or stage.get("query")
    entry["stage"] = stage["id"]
    return entry


def _label(stage: dict[str, Any]) -> dict[str, Any]:
    entry = _pick(stage, "name", "mode", "source", "window_s", "maturity_s", "definition")
    entry["stage"] = stage["id"]
    if stage["mode"] == "window":
        window = spelling.duration(stage["window_s"])
        entry["summary"] = f"event in {stage['source']} within {window}"
    elif stage["mode"] == "when":
        entry["summary"] = f"{stage['column']} {stage['op']} {spelling.value(stage['value'])}"
    else:
        entry["summary"] = f"column {stage['column']}"
    return entry


def _features(stage: dict[str, Any]) -> dict[str, Any]:
    entry = _pick(stage, "name", "version", "definition_hash", "source", "entity",
                  "point_in_time", "backfill")
    entry["stage"] = stage["id"]
    entry["outputs"] = [a["name"] for a in stage["aggregates"]] + list(stage["columns"])
    return entry


def _training(stage: dict[str, Any]) -> dict[str, Any]:
    entry = _pick(stage, "model", "task", "label", "params", "seed", "resources",
                  "distributed", "features")
    entry["stage"] = stage["id"]
    return entry


def _deploy(stage: dict[str, Any]) -> dict[str, Any]:
    canary = stage.get("canary")
    summary = (f"canary {spelling.share(canary['percent'])} for "
               f"{spelling.duration(canary['for_s'])}") if canary else "full rollout"
    return {"stage": stage["id"], "runtime": stage.get("runtime"),
            "approval": stage.get("approval"), "summary": summary}


def _validation(program: Program, nodes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for node in nodes.values():
        if node["kind"] != "validate":
            continue
        origins = _check_origins(program, node["id"])
        checks = [{"kind": c["kind"], "severity": c["severity"], "summary": spelling.check_line(c),
                   "from": origin}
                  for c, origin in zip(node["spec"]["checks"], origins, strict=True)]
        found.append({"stage": node["id"], "source": node["spec"]["source"],
                      "on_failure": node["on_failure"], "alert": node["alert"],
                      "uses": node["spec"]["uses"],
                      "checks": checks})
    return found


def _gates(program: Program, nodes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for node in nodes.values():
        if node["kind"] != "evaluate":
            continue
        spec = node["spec"]
        origins = _gate_origins(program, node["id"])
        gates = [{"kind": g["kind"], "blocking": g["blocking"], "summary": describe.gate(g),
                  "from": origin} for g, origin in zip(spec["gates"], origins, strict=True)]
        found.append({"stage": node["id"], "model": spec["model"],
                      "threshold": spec["threshold"], "approval_by": spec["approval_by"],
                      "owners": node["owners"], "gates": gates})
    return found


def _check_origins(program: Program, stage_id: str) -> list[str | None]:
    """Per check of a validate stage, in the lineage manifest's order (the schema's
    types first, then the stage's own lines, then each check set's it uses), the set it
    comes from (None: the stage's own): `unique a, b` beside `unique a, b (warn)` says
    which one the team wrote."""
    block = program.stages[stage_id].block
    lines = [] if block is None else [name for _c, name in checks_with_origin(program, block)]
    return [None, *lines]


def _gate_origins(program: Program, stage_id: str) -> list[str | None]:
    """Per gate line of an evaluate stage, in the lineage manifest's order (the stage's
    own lines, then each gate set's it uses), the set it comes from (None: its own): a
    reader seeing `ece <= 0.05` and `ece <= 0.1` side by side learns why."""
    block = program.stages[stage_id].block
    return [] if block is None else [name for _gate, name in gates_with_origin(program, block)]


def _approval(node: dict[str, Any]) -> dict[str, Any]:
    return {"stage": node["id"], "approver": node["spec"]["approver"],
            "register": node["spec"]["register"]}


def _diagnostics(program: Program, names: FileNames) -> list[dict[str, Any]]:
    """Open findings that do not stop the build (warnings and notes), with their codes."""
    return [{"code": d.code, "severity": str(d.severity), "message": d.message,
             "file": names(d.span.file), "line": d.span.line, "column": d.span.col,
             "help": d.help} for d in program.diagnostics if str(d.severity) != "error"]


def _resolved_split(program: Program, split: dict[str, Any] | None) -> dict[str, Any] | None:
    """The split with the column an entity split without `on` uses (the base source's
    `entity`, as the runtime resolves it); the lineage resolves a time split's itself."""
    if split is None or split["by"] != "entity" or split.get("on") or not program.base_source:
        return split
    return {**split, "on": program.source_word(program.base_source, "entity")}
