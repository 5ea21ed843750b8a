"""`pipec lineage MODEL[@VERSION]`: the seven reproducibility questions, answered from the
registry entry and the immutable record of the run that produced it."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from pipec.commands._runtime import (
    add_project_options,
    no_registry,
    parse_model_ref,
)
from pipec.render.text import as_typed, shown_lines
from pipec.spelling import measured


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="MODEL or MODEL@VERSION (default: production)")
    add_project_options(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from pipec.commands.registry import _version, registry_for
    from pipec.stdlib.runtime.errors import PipecRuntimeError
    from pipec.stdlib.runtime.registry import Registry
    from pipec.stdlib.runtime.serialize import ModelIntegrityError

    try:
        folder = registry_for(args)
    except ValueError as exc:  # a model no registry of the project holds
        print(as_typed(f"pipec: {exc}"), file=sys.stderr)
        return 2
    if not (folder / "registry.sqlite").is_file():
        print(f"pipec: {no_registry(args, folder)}", file=sys.stderr)
        return 2
    try:
        registry = Registry(folder)
        try:
            entry = _version(registry, args.model)
            approval = registry.approval(entry.model, entry.version)
            registry.verify(entry)
        finally:
            registry.close()
        record = _record(Path(args.project), entry.run_id)
    except (PipecRuntimeError, ModelIntegrityError, ValueError) as exc:
        # An unknown MODEL typed with bytes that are not UTF-8 is shown as those bytes.
        print(as_typed(f"pipec: {exc}"), file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:  # a damaged registry or run store
        print(f"pipec: cannot read the registry or the run records ({exc})", file=sys.stderr)
        return 2
    if record is None:
        print(f"pipec: the record of run {entry.run_id} is not in `{args.project}`",
              file=sys.stderr)
        return 2
    answers = answer(entry.as_json(), record, approval)
    if args.format == "json":
        print(json.dumps(answers, indent=2, sort_keys=True, default=str))
    else:
        print(shown_lines(render(parse_model_ref(args.model)[0], entry.version,
                                 answers).split("\n")))
    return 0


def _record(project: Path, run_id: str | None) -> dict[str, Any] | None:
    """The run's record; a project without a run store has none (and gets no empty
    `.pipec/` from a read-only command)."""
    from pipec.stdlib.runtime.records import RunRecords

    if not run_id or not (project / ".pipec").is_dir():
        return None
    records = RunRecords(project)
    try:
        return records.get(run_id)  # a damaged record raises RecordDamaged: one line
    finally:
        records.close()


def _produced(entries: dict[str, Any], key: str, value: Any, name: str) -> dict[str, Any]:
    """The stage entry that produced this version: a run may train and evaluate several
    models, and the first one is not necessarily the one asked about."""
    for entry in entries.values():  # a stage that did not run in that run records None
        if value is not None and entry and entry.get(key) == value:
            return entry
    return entries.get(name) or {}


def _views_read(views: dict[str, Any], features: list[str] | None) -> dict[str, Any]:
    """The feature views the model reads (its inputs are `VIEW__FEATURE`): a run of
    several models records every view, and one that only another model reads is not in
    this model's lineage. A record without the model's inputs keeps them all."""
    if not features:
        return views
    return {name: view for name, view in views.items()
            if any(feature.startswith(f"{name}__") for feature in features)}


def answer(entry: dict[str, Any], record: dict[str, Any],
           approval: dict[str, Any] | None) -> dict[str, Any]:
    model = _produced(record.get("models", {}), "model_sha256", entry["sha256"],
                      entry["model"])
    evaluation = _produced(record.get("evaluations", {}), "report_sha256",
                           entry["report_sha256"], entry["model"])
    approvals = {"approval_required_by": (entry.get("info") or {}).get("approval_by"),
                 "approval": approval}
    # A reviewer's Reject at the orchestrator's human step, recorded by that run; of this
    # model: with two models, another one's v1 is not this one's.
    steps = {name: step for name, step in (record.get("approval") or {}).items()
             if step and step.get("model") == entry["model"]}
    rejection = _produced(steps, "version", entry["version"], entry["model"]).get("rejected_by")
    if rejection:
        approvals["rejected_by"] = rejection
    return {
        "1. which data snapshot": {
            name: {"snapshot": d.get("snapshot") or d.get("snapshot_declared"),
                   "content_hash": d.get("content_hash"), "rows": d.get("rows"),
                   "path": d.get("path")}
            for name, d in sorted(record.get("data", {}).items())},
        "2. which label window": record.get("labels", {}),
        "3. which feature versions": _views_read(record.get("features", {}),
                                                 model.get("features")),
        # The task from the registry's entry: a run record's model says no task.
        "4. which parameters": {"model": model.get("model"),
                                "task": (entry.get("info") or {}).get("task"),
                                "params": model.get("params"),
                                "seed": model.get("seed"), "split": record.get("split"),
                                # the columns it was fitted on (`VIEW__FEATURE` from a view)
                                "features": model.get("features")},
        "5. which image": record["environment"].get("image"),
        "6. which code commit": record.get("code"),
        "7. which gates and approvals": {
            "blessed": evaluation.get("blessed"),
            "gates": _gate_lines(evaluation.get("gates") or []),
            "evaluation_report": evaluation.get("report_sha256"),
            # `approval: null` alone cannot tell "none needed" from "still waiting".
            **approvals},
        "model": {"sha256": entry["sha256"], "state": entry["state"], "run_id": entry["run_id"],
                  "environment": record["environment"]},
    }


def _gate_lines(gates: list[dict[str, Any]]) -> list[str]:
    """Each gate's result, once: a stage's own line and its gate set's that say the same
    (`features compatible` in both) are one answer, as in `pipec run` and `runs show`;
    the run record keeps both."""
    return list(dict.fromkeys(f"{'pass' if g['passed'] else 'FAIL'} {g['line']} "
                              f"({_observed(g)})" for g in gates))


def _observed(gate: dict[str, Any]) -> str:
    if gate.get("kind") in ("latency", "size"):  # `12.2ms`, not 0.012245 (seconds)
        return measured(gate["kind"], gate["observed"])
    return json.dumps(gate["observed"], sort_keys=True, default=str)


def render(name: str, version: int, answers: dict[str, Any]) -> str:
    lines = [f"lineage of {name}@{version}"]
    for question, value in answers.items():
        lines.append(f"\n{question}")
        # Letters as they are (`Zoë`, not `Zo\u00eb`); the caller shows control characters
        # as their pictures.
        lines.append(json.dumps(value, indent=2, sort_keys=True, default=str,
                                ensure_ascii=False))
    return "\n".join(lines)
