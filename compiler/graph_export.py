"""The checked DAG as json, mermaid or dot (`pipec graph`). Deterministic: nodes in
lexicographical topological order, edges sorted."""

from __future__ import annotations

import json
from typing import Any

from pipec import nodes as n
from pipec.manifest import build_manifest
from pipec.model import Program

# The `$id` of docs/graph.schema.json, which the json output validates against.
GRAPH_SCHEMA_ID = "urn:pipec:schema:graph:1"


def graph_json(program: Program) -> dict[str, Any]:
    manifest = build_manifest(program)
    nodes = []
    for stage in manifest["stages"]:
        node = {k: v for k, v in stage.items() if k != "inputs"}
        nodes.append(node)
    edges = [{"source": e["source"], "target": e["target"], "artifact": e["artifact"],
              **e["lineage"]} for e in manifest["edges"]]
    return {"schema": GRAPH_SCHEMA_ID, "pipeline": manifest["pipeline"]["name"],
            "dag_hash": manifest["dag_hash"], "nodes": nodes, "edges": edges}


def render_json(program: Program) -> str:
    return json.dumps(graph_json(program), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _mermaid_id(stage_id: str) -> str:
    # Mermaid ids cannot contain dots; `__` never occurs in a stage id's kind prefix.
    return stage_id.replace(".", "__")


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def _owner_line(program: Program, stage_id: str) -> str:
    """`owner: TEAM`, or `owners: A, B, C` for a co-owned stage (an evaluate stage's
    `owners [...]`), as the JSON output and the docs list them."""
    stage = program.stages[stage_id]
    block = stage.block
    owners = [t.name for o in block.all(n.Owners) for t in o.teams] if block else []
    if len(owners) > 1:
        return "owners: " + ", ".join(owners)
    return f"owner: {stage.owner}" if stage.owner else ""


def render_mermaid(program: Program) -> str:
    lines = ["flowchart LR"]
    for stage_id in program.topological():
        owner = _owner_line(program, stage_id)
        owner = f"<br/>{owner}" if owner else ""
        lines.append(f'  {_mermaid_id(stage_id)}["{_label(stage_id)}{_label(owner)}"]')
    for source, target in sorted(program.graph.edges):
        artifact = program.graph.edges[source, target].get("artifact", "")
        lines.append(f"  {_mermaid_id(source)} -->|{_label(artifact)}| {_mermaid_id(target)}")
    return "\n".join(lines) + "\n"


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(program: Program) -> str:
    lines = [f"digraph {_dot_string(program.name)} {{", "  rankdir=LR;",
             "  node [shape=box, style=rounded];"]
    for stage_id in program.topological():
        owner = _owner_line(program, stage_id)
        label = stage_id + (f"\n{owner}" if owner else "")
        lines.append(f"  {_dot_string(stage_id)} [label={_dot_string(label)}];")
    for source, target in sorted(program.graph.edges):
        artifact = program.graph.edges[source, target].get("artifact", "")
        lines.append(f"  {_dot_string(source)} -> {_dot_string(target)} "
                     f"[label={_dot_string(artifact)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


RENDERERS = {"json": render_json, "mermaid": render_mermaid, "dot": render_dot}
