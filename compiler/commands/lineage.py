"""`pipec lineage MODEL[@VERSION]`: the seven reproducibility questions, answered from the
registry entry and the immutable record of the run that produced it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipec.commands._runtime import add_project_options, parse_model_ref, registry_dir


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="MODEL or MODEL@VERSION (default: production)")
    add_project_options(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from pipec.commands.registry import _version
    from pipec.stdlib.runtime.errors import PipecRuntimeError
    from pipec.stdlib.runtime.records import RunRecords
    from pipec.stdlib.runtime.registry import Registry
    from pipec.stdlib.runtime.serialize import ModelIntegrityError

    folder = registry_dir(args)
    if not (folder / "registry.sqlite").is_file():
        print(f"pipec: no registry at `{folder}`", file=sys.stderr)
        return 2
    registry = Registry(folder)
    try:
        entry = _version(registry, args.model)
        approval = registry.approval(entry.model, entry.version)
        _verify(registry, entry)
    except (PipecRuntimeError, ModelIntegrityError, ValueError) as exc:
        print(f"pipec: {exc}", file=sys.stderr)
        return 2
    finally:
        registry.close()
    records = RunRecords(Path(args.project))
    record = records.get(entry.run_id) if entry.run_id else None
    records.close()
    if record is None:
        print(f"pipec: the record of run {entry.run_id} is not in `{args.project}`",
              file=sys.stderr)
        return 2
    answers = answer(entry.as_json(), record, approval)
    if args.format == "json":
        print(json.dumps(answers, indent=2, sort_keys=True, default=str))
    else:
        print(render(parse_model_ref(args.model)[0], entry.version, answers))
    return 0


def _verify(registry: Any, entry: Any) -> None:
    """Lineage of a model whose bytes changed would describe another model: refuse it."""
    from pipec.stdlib.runtime.serialize import ModelIntegrityError, sha256

    path = registry.object_path(entry.sha256)
    if not path.is_file() or sha256(path.read_bytes()) != entry.sha256:
        raise ModelIntegrityError(f"{entry.model} v{entry.version}: the model file is missing "
                                  "or its bytes no longer match the recorded hash")


def answer(entry: dict[str, Any], record: dict[str, Any],
           approval: dict[str, Any] | None) -> dict[str, Any]:
    model = next(iter(record.get("models", {}).values()), {})
    evaluation = next(iter(record.get("evaluations", {}).values()), {})
    return {
        "1. which data snapshot": {
            name: {"snapshot": d.get("snapshot") or d.get("snapshot_declared"),
                   "content_hash": d.get("content_hash"), "rows": d.get("rows"),
                   "path": d.get("path")}
            for name, d in sorted(record.get("data", {}).items())},
        "2. which label window": record.get("labels", {}),
        "3. which feature versions": record.get("features", {}),
        "4. which parameters": {"model": model.get("model"), "params": model.get("params"),
                                "seed": model.get("seed"), "split": record.get("split")},
        "5. which image": record["environment"].get("image"),
        "6. which code commit": record.get("code"),
        "7. which gates and approvals": {
            "blessed": evaluation.get("blessed"),
            "gates": [f"{'pass' if g['passed'] else 'FAIL'} {g['line']} ({g['observed']})"
                      for g in evaluation.get("gates", [])],
            "evaluation_report": evaluation.get("report_sha256"),
            "approval": approval},
        "model": {"sha256": entry["sha256"], "state": entry["state"], "run_id": entry["run_id"],
                  "environment": record["environment"]},
    }


def render(name: str, version: int, answers: dict[str, Any]) -> str:
    lines = [f"lineage of {name}@{version}"]
    for question, value in answers.items():
        lines.append(f"\n{question}")
        lines.append(json.dumps(value, indent=2, sort_keys=True, default=str))
    return "\n".join(lines)
