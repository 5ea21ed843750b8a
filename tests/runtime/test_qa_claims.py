"""Claims the runtime's and the targets' docstrings make, checked on a real project: how
an orchestrated run (stage by stage, its branches ending in any order) ends, as `pipec
run` ends the same program."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from model.project import add_second_model, latest_record, write_project
from pipec.cli import main


def _pipec(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out + err


def _built(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, list[str]]:
    """The project's local build folder and its manifest's stage order."""
    build = path.parent / "build"
    assert main(["build", str(path), "--target", "local", "-o", str(build)]) == 0
    capsys.readouterr()
    return build, [s["id"] for s in json.loads((build / "lineage.json").read_text())["stages"]]


def _stage_by_stage(capsys: pytest.CaptureFixture[str], build: Path, stages: list[str],
                    run_id: str, exits: dict[str, int]) -> dict[str, str]:
    """`pipec stage run` of each stage in turn, as an orchestrator may end them; each
    exits as `exits` says (else 0). What each one said."""
    said = {}
    for stage in stages:
        code, said[stage] = _pipec(capsys, "stage", "run", "--manifest",
                                   str(build / "lineage.json"), "--stage", stage,
                                   "--run-id", run_id)
        assert code == exits.get(stage, 0), (stage, said[stage])
    return said


def test_a_block_after_a_failure_leaves_the_run_failed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """runner.py: "The run ends as the worst of those stages left it". The second model's
    fit fails (no retry left) and ends the run, failed; the first model's register stage
    blocks later, in its own branch. `pipec run` ends the program failed (exit 2); stage
    by stage, the run's latest record said blocked, as if nothing had failed. The blocked
    stage's task still exits 1: a block is not retried."""
    path = write_project(tmp_path, min_auc=0.99)  # the first model's gate cannot pass
    add_second_model(path, params="C: -1.0, max_iter: 300")  # its fit raises
    build, order = _built(path, capsys)
    first = order[:order.index("train.model")] + ["train.other"]
    rest = ["train.model", "evaluate.model", "register.model"]
    _stage_by_stage(capsys, build, first + rest, "w1", {"train.other": 2, "register.model": 1})
    record = latest_record(tmp_path, "w1")
    assert record is not None and record["status"] == "failed"
    assert record["report"]["error"].startswith("train.other: ")
    assert "blocked_by" not in record["report"]
    assert {s["stage_id"]: s["status"] for s in record["stages"]}["register.model"] == \
        "blocked"
    assert _pipec(capsys, "run", str(path))[0] == 2  # as `pipec run` ends it


def test_a_failure_s_alert_stays_in_the_run_s_latest_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """alerts.py: "An alert is ... an entry in its run record (`alerts`)". The second
    model's fit fails under `on_failure alert` and ends the run, failed, with the alert;
    the first model's branch goes on and, once done, writes the continuation record that
    `runs show` reads. That record dropped the alert; `pipec run` keeps it."""
    path = write_project(tmp_path)
    add_second_model(path, params="C: -1.0, max_iter: 300")
    path.write_text(path.read_text("utf-8").replace(
        "    seed 2\n", '    seed 2\n    on_failure alert "the other fit broke"\n'), "utf-8")
    build, order = _built(path, capsys)
    first = order[:order.index("train.model")] + ["train.other"]
    stages = first + [s for s in order if s not in first and s != "evaluate.other"]
    said = _stage_by_stage(capsys, build, stages, "a1", {"train.other": 2})
    assert "run a1: failed, record" in said[stages[-1]]  # the continuation, by the last
    record = latest_record(tmp_path, "a1")
    assert record is not None and "continues" in record and record["status"] == "failed"
    alerts = record["report"].get("alerts") or []
    assert [(a["stage"], a["message"]) for a in alerts] == [
        ("train.other", "the other fit broke")]
    assert alerts[0]["why"].startswith("InvalidParameterError: ")


def test_an_unregistered_evaluation_that_blocks_fails_its_own_task(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The second model has no register stage, so nothing behind its evaluation refuses
    it; its blocking gate fails all the same, and the run ends blocked. Stage by stage,
    in the order an orchestrator may end them, the task that says so is the evaluation's
    own (exit 1, not retried); the first model's deploy, which ends the run last and
    succeeded, exits 0 (it exited 1, a red deploy task in Airflow beside a green
    evaluation)."""
    path = write_project(tmp_path)
    add_second_model(path)
    path.write_text(path.read_text("utf-8").replace(
        "primary roc_auc >= 0.5", "primary roc_auc >= 0.999"), "utf-8")
    build, order = _built(path, capsys)
    first = order[:order.index("train.model")] + ["train.other", "evaluate.other"]
    stages = first + [s for s in order if s not in first]
    said = _stage_by_stage(capsys, build, stages, "e1", {"evaluate.other": 1})
    assert said["evaluate.other"].startswith(
        "evaluate.other: the model is not blessed; failed gates: primary roc_auc >= 0.999")
    assert stages[-1] == "deploy.model" and "run e1: blocked, record" in said["deploy.model"]
    record = latest_record(tmp_path, "e1")
    assert record is not None and record["status"] == "blocked"
    assert record["report"]["blocked_by"] == "evaluate.other"
