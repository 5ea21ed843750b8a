"""What every target needs from the checked program, read from the lineage manifest.

All three backends lower from the same `Plan`, so they agree on stages, edges, owners,
retries, timeouts, schedule and approval points by construction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from pipec.manifest import build_manifest
from pipec.model import Program
from pipec.stdlib.runtime.errors import RETRY_DELAY_S as RETRY_DELAY_S  # for the backends


@dataclass(frozen=True)
class StagePlan:
    id: str
    kind: str
    owner: str | None
    retries: int
    timeout_s: float | None
    inputs: tuple[str, ...]
    description: str | None
    resources: dict[str, Any]
    register: str | None = None  # an approval stage's: the register stage it guards

    @property
    def is_approval(self) -> bool:
        return self.kind == "approval"


@dataclass(frozen=True)
class Plan:
    name: str
    owner: str | None
    risk: str | None
    image: str | None
    code_commit: str | None
    description: str | None
    retrain: dict[str, Any]
    base_source: str | None
    dag_hash: str
    pipec_version: str
    stages: tuple[StagePlan, ...]  # lexicographical topological order
    edges: tuple[tuple[str, str], ...]  # sorted
    manifest: dict[str, Any]

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted(s.id.partition(".")[2] for s in self.stages if s.kind == "source"))

    @property
    def owners(self) -> tuple[str, ...]:
        return tuple(sorted({s.owner for s in self.stages if s.owner} |
                            ({self.owner} if self.owner else set())))


def plan_of(program: Program, manifest: dict[str, Any] | None = None) -> Plan:
    """The plan of `program`, from `manifest` when the caller already built it (a build
    builds the manifest once, for `lineage.json` and for every backend)."""
    return plan_from_manifest(manifest if manifest is not None else build_manifest(program))


def plan_from_manifest(manifest: dict[str, Any]) -> Plan:
    pipeline = manifest["pipeline"]
    return Plan(
        name=pipeline["name"], owner=pipeline.get("owner"), risk=pipeline.get("risk"),
        image=pipeline.get("image"), code_commit=pipeline.get("code_commit"),
        description=pipeline.get("description"), retrain=pipeline["retrain"],
        base_source=pipeline.get("base_source"), dag_hash=manifest["dag_hash"],
        pipec_version=manifest["pipec_version"],
        stages=tuple(_stage(entry) for entry in manifest["stages"]),
        edges=tuple(sorted((e["source"], e["target"]) for e in manifest["edges"])),
        manifest=manifest,
    )


def _stage(entry: dict[str, Any]) -> StagePlan:
    return StagePlan(
        id=entry["id"], kind=entry["kind"], owner=entry.get("owner"),
        retries=int(entry.get("retries") or 0), timeout_s=entry.get("timeout_s"),
        inputs=tuple(entry.get("inputs") or ()), description=entry.get("description"),
        resources=dict(entry.get("resources") or {}),
        register=_guarded_register(entry),
    )


def _guarded_register(entry: dict[str, Any]) -> str | None:
    """The register stage an approval stage guards (the manifest names it)."""
    return entry["register"] if entry["kind"] == "approval" else None


def most_common(values: list[Any], empty: Any) -> Any:
    """The most frequent of `values` (ties: the smallest `repr`, so deterministic); `empty`
    when there are none. Targets make it a default and list only the exceptions."""
    if not values:
        return empty
    counts = Counter(values)
    return min(counts, key=lambda value: (-counts[value], repr(value)))


def lineage_summary(plan: Plan) -> dict[str, Any]:
    """The lineage that generated code carries as documentation: short and plain JSON.
    It grows with sources, models, teams and approvals, never with every stage: stages
    are counted by kind, and every stage, edge and definition hash is in the manifest
    (`lineage.json`), which `dag_hash` identifies."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for entry in plan.manifest["stages"]:
        by_kind.setdefault(entry["kind"], []).append(entry)
    pipeline = plan.manifest["pipeline"]
    return {
        "pipeline": plan.name, "description": plan.description, "owner": plan.owner,
        "risk": plan.risk, "image": plan.image, "code_commit": plan.code_commit,
        "dag_hash": plan.dag_hash, "pipec_version": plan.pipec_version,
        "retrain": plan.retrain, "base_source": plan.base_source,
        "teams": pipeline.get("teams") or {},
        "stages": {kind: len(entries) for kind, entries in by_kind.items()},
        "edges": len(plan.edges),
        "sources": {e["name"]: {k: e.get(k) for k in ("format", "path", "query", "snapshot")
                                if k in e} for e in by_kind.get("source", [])},
        "models": {e["id"]: {"model": e.get("model"), "params": e.get("params"),
                             "seed": e.get("seed")} for e in by_kind.get("train", [])},
        "approvals": {e["id"]: e.get("approver") for e in by_kind.get("approval", [])},
    }
