"""`pipec stage run --manifest lineage.json --stage ID`: run one stage, the entry point
every generated task calls. Stages of the same run share a run id: `--run-id`, else
PIPEC_RUN_ID, else the orchestrator's run id (Airflow's AIRFLOW_CTX_DAG_RUN_ID, Argo's
PIPEC_WORKFLOW_UID), else a new one. Upstream stages that did not run under that id
reuse their latest outputs. Exit: 0 done, 1 blocked, 2 failed, 3 waiting for approval."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from pipec.commands._runtime import EXIT_CODES

RUN_ID_VARIABLES = ("PIPEC_RUN_ID", "AIRFLOW_CTX_DAG_RUN_ID", "PIPEC_WORKFLOW_UID")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("run", help="run one stage")
    run_parser.add_argument("--manifest", required=True, help="the build's lineage.json")
    run_parser.add_argument("--stage", required=True, help="a stage id")
    run_parser.add_argument("--run-id", help="the run this stage belongs to")
    run_parser.add_argument("--project", help="run store folder (default: the .pipe folder)")


def run(args: argparse.Namespace) -> int:
    from pipec.commands.stage_names import resolve_stage
    from pipec.render.text import visible

    manifest_path = Path(args.manifest)
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        stage_id = resolve_stage(manifest, args.stage)
    except (OSError, ValueError) as exc:
        print(f"pipec: {exc}", file=sys.stderr)
        return 2
    manifest_dir = manifest_path.resolve().parent
    base_dir = (manifest_dir / manifest.get("base_dir", ".")).resolve()
    project = Path(args.project or os.environ.get("PIPEC_PROJECT") or base_dir).resolve()
    run_id = args.run_id or _run_id_from_environment()
    status, message = _run_one(manifest, manifest_dir, base_dir, project, stage_id, run_id)
    print(visible(f"{stage_id}: {message}"))  # an error may quote data or a file name
    return EXIT_CODES.get(status, 2)


def _run_id_from_environment() -> str:
    for name in RUN_ID_VARIABLES:
        if os.environ.get(name):
            return _safe(os.environ[name])
    return uuid.uuid4().hex[:16]


def _safe(run_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_.:+" else "_" for ch in run_id)[:120]


def _run_one(manifest: dict[str, Any], manifest_dir: Path, base_dir: Path, project: Path,
             stage_id: str, run_id: str) -> tuple[str, str]:
    from pipec.config import load_config
    from pipec.render.text import visible
    from pipec.stdlib.runtime.alerts import alert_for, alert_line
    from pipec.stdlib.runtime.context import manifest_stage
    from pipec.stdlib.runtime.errors import RunStopped
    from pipec.stdlib.runtime.records import write_run_record
    from pipec.stdlib.runtime.runner import reuse_missing_upstream
    from pipec.stdlib.runtime.stage import run_stage

    reuse_missing_upstream(manifest, project, run_id, stage_id)
    options = {"allowed_model_modules": list(load_config(base_dir).allowed_model_modules)}
    status, report = "succeeded", {}
    alert = None
    try:
        result = run_stage(manifest, manifest_dir, stage_id, project, run_id, options)
        message, alert = result.status, result.report.get("alert")
    except RunStopped as exc:
        status, message, report = exc.status, str(exc), {"reason": str(exc)}
    except Exception as exc:  # recorded in the index by run_stage; reported, not raised
        status, message, report = "failed", f"{type(exc).__name__}: {exc}", {"error": str(exc)}
        alert = alert_for(manifest_stage(manifest, stage_id), message)
    if alert is not None:  # into the task's log, where the orchestrator's alerting looks
        print(visible(alert_line(alert)), file=sys.stderr)
    # A failure is not the end of a run: the orchestrator may retry the task.
    if status in ("blocked", "waiting") or (status == "succeeded"
                                            and stage_id == manifest["stages"][-1]["id"]):
        write_run_record(manifest, base_dir, project, run_id, status, report)
    return status, message
