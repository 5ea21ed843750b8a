"""Python warnings of a model stage's fit and scoring (scikit-learn's ConvergenceWarning,
numpy's overflow in a project's class): counted into the stage's report with what to do,
said once at the end of the run, and never printed raw (`path:line: Warning: text`) in
the middle of `pipec run`'s progress lines or of an orchestrator's task log."""

from __future__ import annotations

import copy
import json
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
from conftest import REPO
from model.project import latest_record, write_project
from pipec.cli import main
from pipec.commands.run_report import report_lines, warning_lines
from pipec.stdlib.runtime.evaluation import LATENCY_RETIMED, LATENCY_ROWS
from pipec.stdlib.runtime.model_warnings import KEPT, counted_warnings, hint

PARAMS = "    params { C: 1.0, max_iter: 300 }\n"
CONVERGENCE = "train.model: warning (ConvergenceWarning, 1x): lbfgs failed to converge"
MAX_ITER_HINT = "; raise `max_iter` in its params (now 2)"


def _unconverged(folder: Path) -> Path:
    """The spend project whose LogisticRegression stops after 2 iterations."""
    path = write_project(folder)
    path.write_text(path.read_text("utf-8").replace(PARAMS, PARAMS.replace("300", "2")),
                    "utf-8")
    return path


def _report(project: Path, stage_id: str) -> dict:
    with sqlite3.connect(project / ".pipec" / "index.sqlite") as db:
        row = db.execute("SELECT report_json FROM stage_cache WHERE stage_id = ?",
                         (stage_id,)).fetchone()
    return json.loads(row[0])


def _said(out: str) -> list[str]:
    return [line for line in out.splitlines() if ": warning (" in line]


def test_a_fit_that_did_not_converge_is_counted_and_said_at_the_end(tmp_path: Path) -> None:
    """Python printed scikit-learn's ConvergenceWarning with its file path among the
    progress lines, and neither the stage's report nor the run's said it."""
    path = _unconverged(tmp_path)
    run = subprocess.run([sys.executable, "-m", "pipec", "run", str(path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ConvergenceWarning" not in run.stderr and "_logistic.py" not in run.stderr
    lines = run.stdout.splitlines()
    [said] = _said(run.stdout)
    assert said.startswith(CONVERGENCE) and said.endswith(MAX_ITER_HINT), said
    assert lines.index(said) == len(lines) - 1  # after every stage's own lines
    [entry] = _report(tmp_path, "train.model")["warnings"]
    assert (entry["category"], entry["count"]) == ("ConvergenceWarning", 1)
    assert entry["message"].startswith("lbfgs failed to converge")
    # pipec scores with the frame the model was fitted on: no "X has feature names".
    assert "warnings" not in _report(tmp_path, "evaluate.model")


def test_a_cached_model_says_its_warning_was_raised_when_it_was_made(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _unconverged(tmp_path)
    assert main(["run", str(path)]) == 0
    capsys.readouterr()
    assert main(["run", str(path)]) == 0
    [said] = _said(capsys.readouterr().out)
    assert said.startswith("train.model: warning (ConvergenceWarning, 1x; in the run that "
                           "made it): lbfgs failed to converge") and said.endswith(MAX_ITER_HINT)


def test_a_task_log_has_no_raw_warning(tmp_path: Path) -> None:
    """The local script runs each stage as an orchestrator's task does (`pipec stage
    run`): the task's log had the same raw warning."""
    path = _unconverged(tmp_path)
    assert main(["build", str(path), "--target", "local", "-o", str(tmp_path / "build")]) == 0
    run = subprocess.run([sys.executable, str(tmp_path / "build" / "run_spend.py"),
                          "--retry-delay", "0"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "_logistic.py" not in run.stdout + run.stderr  # not Python's own printing
    [said] = _said(run.stdout)  # the task says it, counted, after `train.model: ran`
    assert said.startswith(CONVERGENCE) and said.endswith(MAX_ITER_HINT), said
    assert _report(tmp_path, "train.model")["warnings"][0]["count"] == 1


def test_the_run_record_and_runs_show_keep_a_trained_models_warnings(
        tmp_path: Path) -> None:
    path = _unconverged(tmp_path)
    run = subprocess.run([sys.executable, "-m", "pipec", "run", str(path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    run_id = next(line.split()[1].rstrip(":") for line in run.stdout.splitlines()
                  if line.startswith("run "))
    record = latest_record(tmp_path, run_id)
    schema = json.loads((REPO / "docs" / "run-record.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(record)
    [entry] = record["models"]["model"]["warnings"]
    assert entry["category"] == "ConvergenceWarning"
    shown = subprocess.run([sys.executable, "-m", "pipec", "runs", "show", run_id],
                           capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    [said] = _said(shown.stdout)
    assert said.strip().startswith(CONVERGENCE), said


# A project's class whose scoring overflows on every call, as numpy warns of it.
NOISY = """
import numpy as np
from sklearn.linear_model import LogisticRegression


class Noisy(LogisticRegression):
    def predict_proba(self, X):
        np.exp(np.array([1000.0]))
        return super().predict_proba(X)
"""


def test_scoring_warnings_reach_the_record_of_a_refused_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every call counts (the test set once, the latency's warm-up and single rows, the
    slowest rows twice more), and the evaluation report that the register stage
    refused, in the record, keeps them."""
    calls = 2 + LATENCY_ROWS + 2 * round(LATENCY_ROWS * LATENCY_RETIMED)
    path = write_project(tmp_path, min_auc=0.99)
    path.write_text(path.read_text("utf-8").replace(
        "sklearn.linear_model.LogisticRegression", "qa_warnings_noisy.Noisy"), "utf-8")
    (tmp_path / "qa_warnings_noisy.py").write_text(NOISY, "utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pipec]\nallowed_model_modules = ["sklearn", "qa_warnings_noisy"]\n', "utf-8")
    capsys.readouterr()
    assert main(["run", str(path)]) == 1
    [said] = _said(capsys.readouterr().out)
    assert said.startswith(f"evaluate.model: warning (RuntimeWarning, {calls}x): "
                           "overflow encountered in exp; a computation left the range"), said
    assert "warnings" not in _report(tmp_path, "train.model")  # pipec's own calls: none
    run_id = json.loads(_pipec_json(capsys, "runs", "--project", str(tmp_path)))[0]["run_id"]
    record = latest_record(tmp_path, run_id)
    [entry] = record["register"]["model"]["warnings"]
    assert (entry["category"], entry["count"]) == ("RuntimeWarning", calls)
    schema = json.loads((REPO / "docs" / "run-record.schema.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(record)
    broken = copy.deepcopy(record)
    del broken["register"]["model"]["warnings"][0]["count"]
    assert not validator.is_valid(broken)


def _pipec_json(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main([*args, "--format", "json"]) == 0
    return capsys.readouterr().out


# The counting itself ---------------------------------------------------------------------
def _warn(text: str = "the same place", category: type[Warning] = UserWarning) -> None:
    warnings.warn(text, category, stacklevel=1)


def test_every_occurrence_is_counted_in_every_stage() -> None:
    """Python shows a warning once per place: counted that way, three warnings were one,
    and a second stage in the same process (a second model) was told of none."""
    for _stage in range(2):
        with counted_warnings() as raised:
            for _ in range(3):
                _warn()
        assert raised.counts == {("UserWarning", "the same place"): 3}


def test_the_filters_in_force_still_decide() -> None:
    """`-W error` stays an error, and an `ignore` stays silent; the handler is put back."""
    shown = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("error", FutureWarning)
        with counted_warnings() as raised:
            _warn("old", DeprecationWarning)
            with pytest.raises(FutureWarning):
                _warn("changes", FutureWarning)
        assert raised.counts == {}
    assert warnings.showwarning is shown


def test_past_the_kept_ones_only_their_number_is_kept() -> None:
    with counted_warnings() as raised:
        for i in range(KEPT + 3):
            _warn(f"row {i}")
        _warn("row 0")
    report = raised.report("train", {})
    assert len(report["warnings"]) == KEPT and report["warnings_omitted"] == 3
    assert report["warnings"][0]["count"] == 2
    assert warning_lines("train.m", report)[-1] == "train.m: 3 more distinct warnings, not kept"


@pytest.mark.parametrize("category, message, kind, params, expected", [
    ("ConvergenceWarning", "lbfgs failed", "train", {"max_iter": 7},
     "raise `max_iter` in its params (now 7)"),
    ("ConvergenceWarning", "did not converge", "train", {},
     "raise the estimator's iteration limit in its params"),
    ("UserWarning", "X has feature names, but Own was fitted without feature names",
     "evaluate", {}, "the model was fitted on its features in one form"),
    ("UserWarning", "something else", "train", {}, "the model was fitted all the same"),
    ("UserWarning", "something else", "evaluate", {}, "the test set was scored all the same"),
])
def test_each_warning_has_a_hint(category: str, message: str, kind: str, params: dict,
                                 expected: str) -> None:
    assert hint(category, message, kind, params).startswith(expected)


def test_a_long_message_is_cut_to_its_first_line() -> None:
    report = {"warnings": [{"category": "UserWarning", "count": 1200, "hint": "do this",
                            "message": "x" * 200 + "\nmore"},
                           {"category": "UserWarning", "count": 1, "hint": "do that",
                            "message": "short:\ndetails"}]}
    assert warning_lines("evaluate.m", report) == [
        f"evaluate.m: warning (UserWarning, 1,200x): {'x' * 120} ...; do this",
        "evaluate.m: warning (UserWarning, 1x): short ...; do that"]
    stage = SimpleNamespace(stage_id="evaluate.m", kind="evaluate", status="reused",
                            report=report | {"blessed": True, "test_rows": 5})
    lines = report_lines("succeeded", {"run_id": "r"}, {"evaluate.m": stage})
    assert lines[-1] == "evaluate.m: warning (UserWarning, 1x; in the run that made it): " \
        "short ...; do that"


def test_a_refused_train_stage_keeps_the_warnings_that_explain_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Amounts near the largest float: the imputer's median overflows, then the fit is
    refused ("Input X contains infinity"). Numpy's overflow warning, printed before, is
    kept with the refusal in the stage's execution."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from model.project import events

    path = write_project(tmp_path)
    table = events(rows=300)
    table = table.set_column(2, "amount", pa.array([1e308 if i % 3 else 1.7e308
                                                    for i in range(300)]))
    pq.write_table(table, tmp_path / "data" / "events.parquet")
    assert main(["run", str(path)]) == 1
    assert "Input X contains infinity" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / ".pipec" / "index.sqlite") as db:
        [(report,)] = db.execute("SELECT report_json FROM stage_executions "
                                 "WHERE stage_id = 'train.model'").fetchall()
    kept = {(w["category"], w["message"]) for w in json.loads(report)["warnings"]}
    assert ("RuntimeWarning", "overflow encountered in reduce") in kept, kept
