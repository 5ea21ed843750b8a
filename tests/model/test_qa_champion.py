"""`compare champion` when the production model cannot be scored: its module no longer
allowed or importable, its class renamed, its model file missing or altered, its registry
entry damaged, a feature it was trained on no longer produced, another task or kind of
model. The line fails alone (blocking, or a warning with `warn`) with a note naming the
version and the reason; every other gate is still judged; never a failed stage."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pyarrow as pa
import pytest
from conftest import REPO
from model.project import latest_record, pipec, program, write_project
from pipec.stdlib.runtime.evaluation import evaluate_model, feature_compatibility
from pipec.stdlib.runtime.modeling import frame

MODULE = "qa_champion_own"
OWN = ("from sklearn.linear_model import LogisticRegression\n\n\n"
       "class Own(LogisticRegression):\n    pass\n")
ALLOWED = '[tool.pipec]\nallowed_model_modules = ["sklearn", "{}"]\n'
COMPARE = "    compare champion roc_auc >= -0.05\n"


# In process: the evaluation report ------------------------------------------------------
class Fixed:
    """A fitted classifier stand-in whose scores are given (row `i` scores `positive[i]`)."""

    classes_ = np.array([0, 1])

    def __init__(self, positive: list[float]) -> None:
        self.positive = np.array(positive, dtype=float)

    def predict_proba(self, data: Any) -> np.ndarray:
        chosen = self.positive[data["i"].to_numpy().astype(int)]
        return np.column_stack([1 - chosen, chosen])

    def predict(self, data: Any) -> np.ndarray:
        return (self.predict_proba(data)[:, 1] >= 0.5).astype(int)


class Raising(Fixed):
    """A project class whose scoring raises what no list of expected errors names."""

    def predict_proba(self, data: Any) -> np.ndarray:
        raise RuntimeError("the scoring service is not configured")


class Regressor:
    """A regressor: `predict` and no `predict_proba`."""

    def predict(self, data: Any) -> np.ndarray:
        return data["i"].to_numpy().astype(float)


def _gate(kind: str, metric: str | None, op: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "metric": metric, "op": op, "value": value, "blocking": True,
            "column": None, "min": None} | extra


COMPARE_GATE = _gate("compare_champion", "roc_auc", ">=", -0.01)
PRIMARY = _gate("primary", "roc_auc", ">=", 0.5)
GOOD = [0.9, 0.1, 0.8, 0.2]


def _test_set(y: list[float]) -> pa.Table:
    return pa.table({"i": np.arange(len(y), dtype=float), "y": y})


def _evaluate(champion: tuple[Any, dict[str, Any]] | None, gates: list[dict[str, Any]],
              y: list[float] | None = None, task: str = "binary",
              model: Any = None) -> dict[str, Any]:
    spec = {"task": task, "threshold": 0.5, "gates": gates}
    return evaluate_model(model or Fixed(GOOD), 1000, spec, {"features": ["i"], "label": "y"},
                          _test_set(y or [1, 0, 1, 0]), champion)


def _info(version: int = 3, **extra: Any) -> dict[str, Any]:
    return {"features": ["i"], "label": "y", "task": "binary", "version": version,
            "sha256": "ab" * 32} | extra


def _compare_note(report: dict[str, Any]) -> str:
    (gate,) = [g for g in report["gates"] if g["kind"] == "compare_champion"]
    assert gate["passed"] is False
    return gate["note"]


def test_a_champion_that_did_not_load_fails_its_line_alone_and_says_what_to_do() -> None:
    """The loading stage hands over the reason with no model: the line fails with the
    version and the reason, and how to let the candidate through; the other gate is
    judged, and with `warn` the candidate is blessed."""
    champion = (None, _info(error="its model file `x.skops` is missing"))
    report = _evaluate(champion, [PRIMARY, COMPARE_GATE])
    assert report["gates"][0]["passed"] is True and report["blessed"] is False
    note = _compare_note(report)
    assert note.startswith("champion v3 cannot be scored: its model file `x.skops` is missing")
    assert "end the line with `warn`" in note
    warned = _evaluate(champion, [PRIMARY, COMPARE_GATE | {"blocking": False}])
    assert warned["blessed"] is True
    assert "end the line with `warn`" not in _compare_note(warned)


def test_a_damaged_registry_entry_is_named_by_the_registry_not_as_v_none() -> None:
    champion = (None, {"version": None, "error": "model v1: its registry entry is damaged"})
    note = _compare_note(_evaluate(champion, [COMPARE_GATE]))
    assert note.startswith("the champion cannot be scored: model v1: its registry entry")
    assert "vNone" not in note


def test_an_entry_without_its_features_says_so_rather_than_keyerror() -> None:
    note = _compare_note(_evaluate((Fixed(GOOD), _info(features=None)), [COMPARE_GATE]))
    assert "its registry entry does not list the features it was trained on" in note
    assert "KeyError" not in note


def test_a_feature_no_longer_produced_is_named_with_what_happened() -> None:
    note = _compare_note(_evaluate((Fixed(GOOD), _info(features=["i", "w__gone"])),
                                   [COMPARE_GATE]))
    assert "champion v3 cannot be scored: it was trained on `w__gone`, which the test set " \
           "no longer has" in note


def test_a_champion_whose_code_raises_anything_fails_the_line_not_the_stage() -> None:
    note = _compare_note(_evaluate((Raising(GOOD), _info()), [PRIMARY, COMPARE_GATE]))
    assert "RuntimeError: the scoring service is not configured" in note


def test_a_regressor_champion_of_an_entry_without_task_is_named_as_such() -> None:
    """Registered before its task was recorded: scikit-learn's "has no attribute
    'predict_proba'" said nothing of why."""
    info = _info()
    del info["task"]
    note = _compare_note(_evaluate((Regressor(), info), [COMPARE_GATE]))
    assert "it gives no class probabilities (`predict_proba`), which a binary candidate" in note


def test_a_classifier_champion_is_not_compared_as_a_regression() -> None:
    """Its class labels were scored as a regression's predictions, and the line passed."""
    info = _info()
    del info["task"]
    gate = _gate("compare_champion", "rmse", "<=", 100.0)
    report = _evaluate((Fixed(GOOD), info), [gate], y=[1.0, 0.0, 1.0, 0.0],
                       task="regression", model=Regressor())
    assert "it is a classifier (it gives class probabilities), the candidate a regression " \
           "model" in _compare_note(report)


def test_a_champion_with_nan_scores_says_why_its_metric_has_no_value() -> None:
    note = _compare_note(_evaluate((Fixed([0.9, np.nan, 0.8, 0.2]), _info()), [COMPARE_GATE]))
    assert note.startswith("champion v3 cannot be scored: it gave 1 NaN or infinite scores")


def test_a_candidate_metric_with_no_value_says_why_in_the_comparison() -> None:
    """As a primary gate on that metric says it: one class in the test set."""
    note = _compare_note(_evaluate((Fixed(GOOD), _info()), [COMPARE_GATE], y=[0, 0, 0, 0]))
    assert note == ("roc_auc of the candidate could not be computed: the test set holds "
                    "examples of one class only")


def test_a_champion_entry_without_kinds_adds_no_feature() -> None:
    """A damaged entry (or one older than its kinds) listed every candidate feature as
    added since the champion."""
    data = frame(_test_set([1, 0]), ["i"])
    compat = feature_compatibility({"features": ["i"]}, data,
                                   (None, {"version": None, "error": "damaged"}))
    assert compat["added_vs_champion"] == [] and compat["compatible"] is True


# `pipec run`: a project whose champion is a project class ------------------------------
@pytest.fixture(scope="module")
def champion_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The spend project whose v1, in production, is `qa_champion_own.Own`."""
    folder = tmp_path_factory.mktemp("champion")
    path = write_project(folder)
    path.write_text(program().replace("sklearn.linear_model.LogisticRegression",
                                      f"{MODULE}.Own"), "utf-8")
    (folder / f"{MODULE}.py").write_text(OWN, "utf-8")
    (folder / "pyproject.toml").write_text(ALLOWED.format(MODULE), "utf-8")
    done = pipec("run", "spend.pipe", cwd=folder)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return folder


@pytest.fixture()
def project(champion_project: Path, tmp_path: Path) -> Path:
    """A copy whose candidate is scikit-learn's class with another C: a new model."""
    copy = tmp_path / "project"
    shutil.copytree(champion_project, copy)
    (copy / "spend.pipe").write_text(program(c=0.4), "utf-8")
    return copy


def _model_file(project: Path) -> Path:
    (path,) = (project / "registry" / "objects").glob("*.skops")
    return path


def _run(project: Path, expected: int) -> tuple[str, dict[str, Any]]:
    """`pipec run`'s output and the evaluation in its run record."""
    done = pipec("run", "spend.pipe", cwd=project)
    output = done.stdout + done.stderr
    assert done.returncode == expected, output[-3000:]
    assert "Traceback" not in output and "failed: evaluate" not in output
    run_id = re.search(r"^run ([0-9a-f]+): ", done.stdout, re.M).group(1)
    record = latest_record(project, run_id)
    # The champion's entry, scored or not, is one the run record's schema describes.
    schema = json.loads((REPO / "docs" / "run-record.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(record)
    return done.stdout, record["evaluations"]["model"]


def _gate_line(output: str, line: str) -> str:
    return next(o for o in output.splitlines() if o.startswith(f"  ✗ {line}")
                or o.startswith(f"  ! {line}"))


def test_a_module_no_longer_allowed_fails_the_comparison_and_then_compares_again(
        project: Path) -> None:
    """It failed the whole evaluate stage (exit 2, no gate judged). Allowed again, the
    stage runs again rather than reusing the failed comparison from its cache."""
    (project / "pyproject.toml").write_text(ALLOWED.format("sklearn"), "utf-8")
    output, evaluation = _run(project, 1)
    note = _gate_line(output, COMPARE.strip())
    assert "champion v1 cannot be scored: the model contains types outside the allowed " \
           f"modules: {MODULE}.Own" in note
    assert f"add `{MODULE}` to [tool.pipec] allowed_model_modules" in note
    assert [g["passed"] for g in evaluation["gates"] if g["kind"] != "compare_champion"] \
        == [True] * 7
    assert evaluation["champion"]["version"] == 1 and evaluation["champion"]["error"]
    (project / "pyproject.toml").write_text(ALLOWED.format(MODULE), "utf-8")
    again, evaluation = _run(project, 0)
    assert "evaluate.model: ran" in again
    assert "vs champion v1" in again and evaluation["blessed"] is True


@pytest.mark.parametrize("change, reason", [
    (lambda p: (p / f"{MODULE}.py").unlink(),
     f"its model's code cannot be imported (ModuleNotFoundError: No module named '{MODULE}')"),
    (lambda p: (p / f"{MODULE}.py").write_text(OWN.replace("Own", "Renamed"), "utf-8"),
     f"its model's code cannot be imported (AttributeError: module '{MODULE}' has no "
     "attribute 'Own')"),
    (lambda p: _model_file(p).write_bytes(_model_file(p).read_bytes()[:500]),
     "no longer matches its recorded sha256 (altered or corrupted)"),
], ids=["module-gone", "class-renamed", "file-truncated"])
def test_a_champion_that_cannot_be_loaded_blocks_with_its_reason(
        project: Path, change: Any, reason: str) -> None:
    change(project)
    output, evaluation = _run(project, 1)
    note = _gate_line(output, COMPARE.strip())
    assert "champion v1 cannot be scored: " in note and reason in note
    assert "stopped: register.model: the model is not blessed; failed gates: " \
           "compare champion" in output
    assert sum(not g["passed"] for g in evaluation["gates"]) == 1


def test_a_damaged_registry_entry_blocks_the_comparison_not_the_stage(project: Path) -> None:
    with sqlite3.connect(project / "registry" / "registry.sqlite") as db:
        db.execute("UPDATE versions SET info = '{not json' WHERE version = 1")
    output, _ = _run(project, 1)
    assert "the champion cannot be scored: model v1: its registry entry is damaged" \
        in _gate_line(output, COMPARE.strip())


def test_with_warn_a_missing_champion_file_lets_the_candidate_replace_it(
        project: Path) -> None:
    """The way out of a champion that cannot be restored: the candidate is registered and
    deployed, the line reported as a failed warning."""
    _model_file(project).unlink()
    path = project / "spend.pipe"
    path.write_text(path.read_text("utf-8").replace(COMPARE, COMPARE.rstrip() + " warn\n"),
                    "utf-8")
    output, evaluation = _run(project, 0)
    line = _gate_line(output, COMPARE.strip())
    assert line.startswith("  ! ") and "is missing from the registry's `objects` folder" in line
    assert evaluation["blessed"] is True and "model v2 production" in output


def test_without_a_compare_line_a_broken_champion_is_not_loaded(project: Path) -> None:
    """`features compatible` reads the champion's registry entry, not its model: a
    missing model file failed the evaluate stage of a pipeline that never compares."""
    _model_file(project).unlink()
    path = project / "spend.pipe"
    path.write_text(path.read_text("utf-8").replace(COMPARE, ""), "utf-8")
    output, evaluation = _run(project, 0)
    assert evaluation["blessed"] is True
    assert evaluation["champion"] == {"version": 1, "sha256": evaluation["champion"]["sha256"],
                                      "metrics": {}}


def test_runs_show_says_why_a_gate_failed(project: Path) -> None:
    """`runs show` listed the failed lines alone: the reader of a blocked run saw
    `compare champion` fail, not that the champion's model file had gone."""
    _model_file(project).unlink()
    output, _ = _run(project, 1)
    run_id = re.search(r"^run ([0-9a-f]+): ", output, re.M).group(1)
    shown = pipec("runs", "show", run_id, cwd=project)
    assert shown.returncode == 0, shown.stderr
    failed = [line.strip() for line in shown.stdout.splitlines()
              if line.strip().startswith("failed compare champion")]
    assert len(failed) == 1 and "champion v1 cannot be scored: its model file" in failed[0]
    assert "is missing from the registry's `objects` folder" in failed[0]
