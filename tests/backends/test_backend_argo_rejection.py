"""Argo's `record-rejection` step runs as the approval stage it stands for: with its
retries and its deadline (the pipeline's `timeout`, which every stage the program
implies takes). It had no `activeDeadlineSeconds`, so a rejection record that hung held
the workflow for ever, past the timeout every other step had."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from .backend_argo import dag_errors, schema_errors
from .backend_helpers import EXAMPLES, build

REJECTED = "approval-fraud-gbm--rejected"
APPROVAL = "approval-fraud-gbm"


def _workflow(folder: Path, timeout: str | None) -> dict:
    """The fraud example's Argo document, with `timeout` for the whole pipeline."""
    for source in (EXAMPLES / "fraud").glob("*.pipe"):
        shutil.copy(source, folder / source.name)
    path = folder / "fraud.pipe"
    if timeout is not None:
        text = path.read_text("utf-8")
        path.write_text(text.replace("  on_failure block\n",
                                     f"  on_failure block\n  timeout {timeout}\n", 1), "utf-8")
    (text,) = [t for name, t in build(path, "argo", folder / "build").files.items()
               if name.endswith(".yaml")]
    (document,) = yaml.safe_load_all(text)
    assert schema_errors(document) == [] and dag_errors(document) == []
    return document


def _passed(task: dict, template: dict) -> dict[str, str]:
    """Each parameter as the task passes it, else as its template's default."""
    found = {p["name"]: p.get("default") for p in template["inputs"]["parameters"]}
    found.update((p["name"], p["value"]) for p in task.get("arguments", {}).get("parameters", []))
    return found


def _tasks_and_templates(document: dict) -> tuple[dict[str, dict], dict[str, dict]]:
    spec = document["spec"]["workflowSpec"]
    templates = {t["name"]: t for t in spec["templates"]}
    tasks = {t["name"]: t for t in templates["pipeline"]["dag"]["tasks"]}
    return tasks, templates


@pytest.mark.parametrize("timeout, seconds", [("90m", "5400"), (None, None)])
def test_the_rejection_step_has_the_approval_stages_deadline(tmp_path: Path,
                                                             timeout: str | None,
                                                             seconds: str | None) -> None:
    tasks, templates = _tasks_and_templates(_workflow(tmp_path, timeout))
    rejected, approval = tasks[REJECTED], tasks[APPROVAL]
    template = templates[rejected["template"]]
    passed = _passed(rejected, template)
    assert passed.get("timeout") == _passed(approval, templates[approval["template"]]).get(
        "timeout") == seconds
    assert passed["retries"] == _passed(approval, templates[approval["template"]])["retries"]
    if seconds is None:  # no timeout, as no stage the program implies has one then
        assert "activeDeadlineSeconds" not in template
    else:
        assert template["activeDeadlineSeconds"] == "{{inputs.parameters.timeout}}"
