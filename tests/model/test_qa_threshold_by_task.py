"""A threshold cuts a binary classifier's positive-class probability. A multiclass or
regression model has none to cut (T005 refuses one written there), yet its manifest and
evaluation report recorded `threshold: 0.5`. They record none (null), and every
published schema that holds it accepts that; a binary stage's stays as it was."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pyarrow as pa
import pytest
from conftest import REPO
from model.project import latest_record, program, write_project
from pipec.check import compile
from pipec.cli import main
from pipec.manifest import build_manifest
from pipec.stdlib.runtime.evaluation import evaluate_model

SPEND = program()
# The spend project's evaluate stage, replaced by one whose lines fit another task.
EVALUATE = re.compile(r"  evaluate model \{\n.*?\n  \}\n", re.S)
TASKS = {
    "regression": ("column spend_next", "sklearn.linear_model.LinearRegression",
                   "primary mae <= 1000\n    compare champion mae <= 5"),
    "multiclass": ("column country", "sklearn.linear_model.LogisticRegression",
                   "primary accuracy >= 0.01\n    compare champion accuracy >= -0.5"),
}


def _program_of(task: str, primary: str | None = None) -> str:
    """The spend program with a label of `task` (read from a column of the events) and
    an evaluate stage whose gates that task has."""
    label, model, lines = TASKS[task]
    text = SPEND.replace("when spend_next > 100", label)
    text = text.replace('"sklearn.linear_model.LogisticRegression"', f'"{model}"')
    text = text.replace("params { C: 1.0, max_iter: 300 }\n", "")
    lines = f"{primary or lines}\n    latency p99 <= 500ms\n    size <= 10MB"
    return EVALUATE.sub(f"  evaluate model {{\n    {lines}\n  }}\n", text)


def _write(folder: Path, text: str) -> Path:
    path = write_project(folder)
    path.write_text(text, "utf-8")
    return path


def _evaluate_stage(folder: Path, text: str) -> dict[str, Any]:
    checked = compile(_write(folder, text))
    assert [d for d in checked.diagnostics if d.severity == "error"] == []
    (stage,) = [s for s in build_manifest(checked)["stages"] if s["kind"] == "evaluate"]
    return stage


# The manifest ---------------------------------------------------------------------------
@pytest.mark.parametrize("task", sorted(TASKS))
def test_the_manifest_records_no_threshold_for_a_model_that_has_none(
        task: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    stage = _evaluate_stage(tmp_path, _program_of(task))
    assert (stage["task"], stage["threshold"]) == (task, None)


@pytest.mark.parametrize("lines, threshold", [("", 0.5), ("    threshold 0.25\n", 0.25),
                                              ("    threshold 0\n", 0)])
def test_a_binary_stage_keeps_its_threshold(lines: str, threshold: float, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = SPEND.replace("  evaluate model {\n", "  evaluate model {\n" + lines)
    stage = _evaluate_stage(tmp_path, text)
    assert (stage["task"], stage["threshold"]) == ("binary", threshold)


# The evaluation report ------------------------------------------------------------------
class Constant:
    """Scores every row alike: class probabilities, or a regression's prediction."""

    classes_ = np.array(["a", "b"])

    def predict_proba(self, data: Any) -> np.ndarray:
        return np.tile([0.5, 0.5], (len(data), 1))

    def predict(self, data: Any) -> np.ndarray:
        return np.zeros(len(data))


def _report(task: str, threshold: float | None) -> dict[str, Any]:
    labels = ["a", "b", "a", "b"] if task == "multiclass" else [1, 0, 1, 0]
    spec = {"task": task, "threshold": threshold, "gates": []}
    test = pa.table({"i": [0.0, 1.0, 2.0, 3.0], "y": labels})
    return evaluate_model(Constant(), 10, spec, {"features": ["i"], "label": "y"}, test, None)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_the_report_records_no_threshold_even_from_a_manifest_that_has_one(task: str) -> None:
    """A manifest written before (0.5 by default) gives no threshold to a report."""
    assert _report(task, 0.5)["threshold"] is None
    assert _report(task, None)["threshold"] is None


@pytest.mark.parametrize("written, recorded", [(None, 0.5), (0.25, 0.25), (0, 0.0)])
def test_a_binary_report_keeps_its_threshold(written: float | None, recorded: float) -> None:
    assert _report("binary", written)["threshold"] == recorded


# The published schemas, on real output -------------------------------------------------
def _schema(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        json.loads((REPO / "docs" / f"{name}.schema.json").read_text("utf-8")))


@pytest.mark.parametrize("task", sorted(TASKS))
def test_graph_and_docs_manifest_of_a_task_without_threshold_validate(
        task: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, _program_of(task))
    assert main(["graph", "--format", "json", str(path)]) == 0
    graph = json.loads(capsys.readouterr().out)
    (node,) = [n for n in graph["nodes"] if n["kind"] == "evaluate"]
    assert node["threshold"] is None
    _schema("graph").validate(graph)
    assert main(["docs", "-o", str(tmp_path / "site"), str(path)]) == 0
    site = json.loads((tmp_path / "site" / "manifest.json").read_text("utf-8"))
    assert [g["threshold"] for p in site["pipelines"] for g in p["gates"]] == [None]
    _schema("manifest").validate(site)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_a_refused_registration_records_the_report_without_threshold(
        task: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A gate no model passes: the register stage records the whole report, which the
    run record's schema describes."""
    impossible = {"regression": "primary mae <= 0.000001",
                  "multiclass": "primary accuracy >= 0.999999"}[task]
    path = _write(tmp_path, _program_of(task, impossible))
    assert main(["run", str(path)]) == 1
    run_id = re.search(r"^run ([0-9a-f]+): ", capsys.readouterr().out, re.M).group(1)
    record = latest_record(tmp_path, run_id)
    reports = _reports_with_threshold(record)
    assert reports and all(r["task"] == task and r["threshold"] is None for r in reports)
    _schema("run-record").validate(record)


def _reports_with_threshold(value: Any) -> list[dict[str, Any]]:
    """Every object in `value` that holds a `threshold` (an evaluation report)."""
    if isinstance(value, list):
        return [r for item in value for r in _reports_with_threshold(item)]
    if not isinstance(value, dict):
        return []
    found = [value] if "threshold" in value else []
    return found + [r for item in value.values() for r in _reports_with_threshold(item)]
