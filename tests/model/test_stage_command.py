"""`pipec stage run`, the command every orchestrator task runs: stage names as `pipec
run` takes them, messages that name the stage once, the record of a run that ends at a
failure, a block, a wait or its last stage, `--debug`, and bad arguments said plainly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO
from model.project import (
    add_second_model,
    latest_record,
    negative_amount,
    signal_once_fitting,
    write_project,
    write_slow_project,
)
from pipec.cli import main
from pipec.stdlib.runtime.store import RunIndex


def _pipec(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """This command's status and output; what came before (a build's notes) is not."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _build(path: Path) -> Path:
    """The local script's folder; its lineage.json is the manifest every stage reads."""
    assert main(["build", str(path), "--target", "local", "-o", str(path.parent / "build")]) == 0
    return path.parent / "build"


def _script(build: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PIPEC_RUN_ID"}
    return subprocess.run([sys.executable, str(build / "run_spend.py"), "--retry-delay", "0",
                           *args], capture_output=True, text=True, env=env, timeout=600)



def _index_status(project: Path, run_id: str) -> str | None:
    index = RunIndex(project)
    try:
        return index.run_status(run_id)
    finally:
        index.close()


def _stage(capsys: pytest.CaptureFixture[str], build: Path, stage: str,
           *args: str) -> tuple[int, str, str]:
    return _pipec(capsys, "stage", "run", "--manifest", str(build / "lineage.json"),
                  "--stage", stage, *args)


def test_a_stage_is_named_as_pipec_run_names_it(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    build = _build(write_project(tmp_path))
    code, out, err = _stage(capsys, build, "evnts", "--run-id", "r1")
    assert code == 2 and "did you mean `source.events`?" in err
    for written, found in (("source", "source.events"), ("validate", "validate.events"),
                           ("big_spender", "label.big_spender")):  # kinds, then a name
        code, out, err = _stage(capsys, build, written, "--run-id", "r1")
        assert code == 0, err
        assert out.splitlines()[0] == f"{found}: ran"


def test_a_failed_local_run_has_its_record(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    write_project(tmp_path)
    (tmp_path / "data" / "events.parquet").write_bytes(b"not parquet")
    script = _script(_build(tmp_path / "spend.pipe"), "--run-id", "f1")
    assert script.returncode == 2, script.stdout + script.stderr
    assert "run f1: failed, record" in script.stdout
    assert _index_status(tmp_path, "f1") == "failed"
    code, out, err = _pipec(capsys, "runs", "show", "f1", "--project", str(tmp_path))
    assert code == 0, err
    assert "spend  failed" in out and "failed    source.events: source 'events'" in out
    assert "    source.events: failed" in out


def test_a_blocked_local_run_has_its_record(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    write_project(tmp_path)
    negative_amount(tmp_path)
    script = _script(_build(tmp_path / "spend.pipe"), "--run-id", "b1")
    assert script.returncode == 1, script.stdout + script.stderr
    # The schema's `amount: float >= 0` and the rule `range amount >= 0`: named once.
    assert "validate.events: blocking validation failed: range amount >= 0\n" in script.stdout
    assert "validate.events: validate.events:" not in script.stdout
    assert _index_status(tmp_path, "b1") == "blocked"
    record = latest_record(tmp_path, "b1")
    assert record is not None and record["status"] == "blocked"
    assert record["report"]["blocked_by"] == "validate.events"
    assert [(s["stage_id"], s["status"]) for s in record["stages"]] == [
        ("source.events", "ran"), ("validate.events", "blocked")]


def test_a_waiting_local_run_has_its_record(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    write_project(tmp_path, approval=True)
    script = _script(_build(tmp_path / "spend.pipe"), "--run-id", "w1")
    assert script.returncode == 3, script.stdout + script.stderr
    assert "\napproval.model: model v1 waits for approval by risk" in script.stdout
    assert "approval.model: approval.model:" not in script.stdout
    assert _index_status(tmp_path, "w1") == "waiting"
    code, out, err = _pipec(capsys, "runs", "show", "w1", "--project", str(tmp_path))
    assert code == 0, err
    assert "spend  waiting" in out and "approval  model: v1 waiting for approval by risk" in out
    assert "    approval.model: waiting" in out and "deploy.model" not in out


def test_a_rejection_at_the_human_step_ends_the_run_blocked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Airflow's HITL Reject skips the approval stage; the task after it records the
    rejection: the run ends blocked at the approval stage, saying who rejected which
    version, and the version stays a candidate. The task itself succeeds (exit 0)."""
    write_project(tmp_path, approval=True)
    build = _build(tmp_path / "spend.pipe")
    order = [s["id"] for s in json.loads((build / "lineage.json").read_text())["stages"]]
    for stage in order[:order.index("approval.model")]:
        code, out, err = _stage(capsys, build, stage, "--run-id", "x1")
        assert code == 0, out + err
    code, out, err = _stage(capsys, build, "approval.model", "--run-id", "x1",
                            "--rejected-by", "risk-reviewer")
    assert code == 0, out + err
    assert "approval.model: model v1 was rejected by risk-reviewer at the approval step" in out
    assert "run x1: blocked, record" in out
    record = latest_record(tmp_path, "x1")
    assert record is not None and record["status"] == "blocked"
    assert record["report"]["blocked_by"] == "approval.model"
    assert "rejected by risk-reviewer" in record["report"]["reason"]
    assert record["stages"][-1]["stage_id"] == "approval.model"
    assert record["stages"][-1]["status"] == "blocked"
    code, out, err = _pipec(capsys, "registry", "list", "--project", str(tmp_path),
                            "--format", "json")
    assert code == 0, err
    assert [v["state"] for v in json.loads(out)] == ["candidate"]
    code, out, err = _pipec(capsys, "lineage", "model@1", "--project", str(tmp_path),
                            "--format", "json")
    assert code == 0, err
    assert json.loads(out)["7. which gates and approvals"]["rejected_by"] == "risk-reviewer"
    code, out, err = _pipec(capsys, "runs", "show", "x1", "--project", str(tmp_path))
    assert "approval  model: v1 rejected by risk-reviewer (approval by risk)" in out
    code, out, err = _pipec(capsys, "registry", "show", "model@1", "--project", str(tmp_path))
    assert code == 0, err
    assert "candidate -> candidate  risk-reviewer: rejected at the human step before " \
        "approval.model (run x1)" in out


def test_approval_given_says_whether_the_registry_holds_the_approval(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--approval-given PATH` on the register stage an approval guards writes JSON
    `false` until the team approved the candidate, then `true` (a later run, the version
    cached), and still `true` once it serves: what the approval stage would check, which
    the generated workflows read to skip their human step. Any other stage refuses it."""
    write_project(tmp_path, approval=True)
    build = _build(tmp_path / "spend.pipe")
    order = [s["id"] for s in json.loads((build / "lineage.json").read_text())["stages"]]
    given = tmp_path / "given.json"
    for stage in order[:order.index("register.model")]:
        assert _stage(capsys, build, stage, "--run-id", "g1")[0] == 0
    for run_id, approve, expected in (("g1", False, "false"), ("g2", True, "true")):
        if approve:
            assert _pipec(capsys, "registry", "approve", "model@1", "--by", "risk",
                          "--project", str(tmp_path))[0] == 0
        code, out, err = _stage(capsys, build, "register.model", "--run-id", run_id,
                                "--approval-given", str(given))
        assert code == 0, out + err
        assert given.read_text("utf-8") == expected
    for stage in ("approval.model", "deploy.model"):
        assert _stage(capsys, build, stage, "--run-id", "g2")[0] == 0
    given.unlink()
    assert _stage(capsys, build, "register.model", "--run-id", "g3", "--approval-given",
                  str(given))[0] == 0
    assert given.read_text("utf-8") == "true"  # production: nothing new to approve
    code, out, err = _stage(capsys, build, "train.model", "--run-id", "g4",
                            "--approval-given", str(given))
    assert code == 2
    assert "--approval-given: stage 'train.model' is not a register stage that an " \
        "approval stage guards" in err


def test_approval_given_is_false_when_the_register_stage_stops(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A register stage that blocks (its candidate not blessed) still writes the file:
    `false`, so an orchestrator that reads it asks (it stops the run anyway)."""
    write_project(tmp_path, approval=True, min_auc=0.99)
    build = _build(tmp_path / "spend.pipe")
    order = [s["id"] for s in json.loads((build / "lineage.json").read_text())["stages"]]
    for stage in order[:order.index("register.model")]:
        assert _stage(capsys, build, stage, "--run-id", "n1")[0] == 0
    given = tmp_path / "given.json"
    code, out, err = _stage(capsys, build, "register.model", "--run-id", "n1",
                            "--approval-given", str(given))
    assert code == 1, out + err
    assert given.read_text("utf-8") == "false"


def test_a_run_that_goes_on_after_waiting_gets_a_continuation_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The approval stage waits and ends the run (record: waiting). The team approves and
    the orchestrator runs the task again, then deploy: the run ends again, succeeded, in
    a continuation record that names the first, which stays. Running the last stage once
    more changes nothing, so it writes nothing."""
    write_project(tmp_path, approval=True)
    build = _build(tmp_path / "spend.pipe")
    order = [s["id"] for s in json.loads((build / "lineage.json").read_text())["stages"]]
    for stage in order[:order.index("approval.model")]:
        assert _stage(capsys, build, stage, "--run-id", "c1")[0] == 0
    code, out, _ = _stage(capsys, build, "approval.model", "--run-id", "c1")
    assert code == 3 and "run c1: waiting, record" in out
    waiting = latest_record(tmp_path, "c1")
    assert waiting is not None and waiting["status"] == "waiting"
    assert _pipec(capsys, "registry", "approve", "model@1", "--by", "risk", "--project",
                  str(tmp_path))[0] == 0
    assert _stage(capsys, build, "approval.model", "--run-id", "c1")[0] == 0
    code, out, _ = _stage(capsys, build, "deploy.model", "--run-id", "c1")
    assert code == 0 and "run c1: succeeded, record" in out
    record = latest_record(tmp_path, "c1")
    assert record is not None and record["status"] == "succeeded"
    assert record["continues"]["status"] == "waiting"
    assert record["deploy"]["model"]["state"] == "production"
    assert _index_status(tmp_path, "c1") == "succeeded"
    schema = json.loads((REPO / "docs" / "run-record.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(record)
    continued = record["continues"]["record_sha256"]
    first = json.loads((tmp_path / ".pipec" / "objects" / continued[:2]
                        / continued[2:]).read_text("utf-8"))
    assert first == waiting
    code, out, _ = _pipec(capsys, "runs", "list", "--project", str(tmp_path), "--format",
                          "json")
    assert [(r["run_id"], r["status"]) for r in json.loads(out)] == [("c1", "succeeded")]
    code, out, _ = _pipec(capsys, "runs", "show", "c1", "--project", str(tmp_path))
    assert f"continues record {record['continues']['record_sha256'][:12]} (waiting)" in out
    code, out, _ = _stage(capsys, build, "deploy.model", "--run-id", "c1")
    assert code == 0 and "record" not in out
    assert latest_record(tmp_path, "c1") == record


def test_a_manifest_of_another_build_is_refused(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """QA: an Argo or Kubernetes pod reads `lineage.json` from its image, which may hold
    another build's: the generated tasks pass their build's dag hash, and a stage with
    another manifest refuses to run rather than record other definitions as this run."""
    build = _build(write_project(tmp_path))
    dag_hash = json.loads((build / "lineage.json").read_text("utf-8"))["dag_hash"]
    code, out, err = _stage(capsys, build, "source", "--run-id", "r1", "--dag-hash", "0" * 64)
    assert code == 2 and out == ""
    assert f"is the manifest of another build (dag hash {dag_hash[:12]}, this workflow was " \
           f"built with {'0' * 12})" in err
    code, out, err = _stage(capsys, build, "source", "--run-id", "r1", "--dag-hash", dag_hash)
    assert code == 0, err


def test_only_an_approval_stage_can_be_rejected(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    write_project(tmp_path, approval=True)
    code, out, err = _stage(capsys, _build(tmp_path / "spend.pipe"), "train.model",
                            "--rejected-by", "someone")
    assert code == 2 and out == ""
    assert "--rejected-by: stage 'train.model' is a train stage" in err


def test_a_stage_stopped_by_sigterm_is_recorded_and_ends_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An orchestrator's timeout (or a cancel) sends SIGTERM before it kills: the stage is
    recorded as failed, and with no retry left the run's record is written."""
    build = _build(write_slow_project(tmp_path))
    order = [s["id"] for s in json.loads((build / "lineage.json").read_text())["stages"]]
    for stage in order[:order.index("train.model")]:
        code, out, err = _stage(capsys, build, stage, "--run-id", "t1")
        assert code == 0, out + err
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipec", "stage", "run", "--manifest",
         str(build / "lineage.json"), "--stage", "train.model", "--run-id", "t1"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = signal_once_fitting(tmp_path, proc, signal.SIGTERM)
    assert proc.returncode == 2, out + err
    assert "train.model: stopped by SIGTERM" in out
    assert "run t1: failed, record" in out
    record = latest_record(tmp_path, "t1")
    assert record is not None and record["status"] == "failed"
    assert "stopped by SIGTERM" in record["report"]["error"]
    assert _index_status(tmp_path, "t1") == "failed"


def test_a_failure_with_retries_left_ends_nothing(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The orchestrator runs a failed stage again while it has retries: only the last
    attempt's failure ends the run (a record is immutable; an earlier one would stand
    for a run a retry went on with)."""
    path = write_project(tmp_path)
    path.write_text(path.read_text("utf-8").replace("  retrain manual\n",
                                                    "  retrain manual\n  retries 1\n"), "utf-8")
    (tmp_path / "data" / "events.parquet").write_bytes(b"not parquet")
    build = _build(path)
    code, out, _ = _stage(capsys, build, "source.events", "--run-id", "r1")
    assert code == 2 and "run r1" not in out
    assert latest_record(tmp_path, "r1") is None and _index_status(tmp_path, "r1") == "running"
    code, out, _ = _stage(capsys, build, "source.events", "--run-id", "r1")
    assert code == 2 and "run r1: failed, record" in out
    record = latest_record(tmp_path, "r1")
    assert record is not None and record["status"] == "failed"
    assert _index_status(tmp_path, "r1") == "failed"


def _with_a_second_model(path: Path) -> tuple[Path, list[str]]:
    """The project with a second model (`train other`, `evaluate other`) in a branch of
    its own, built: the build folder and the manifest's stage order."""
    add_second_model(path)
    build = _build(path)
    return build, [s["id"] for s in json.loads((build / "lineage.json").read_text())["stages"]]


def test_no_success_is_recorded_while_a_parallel_branch_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two models train in parallel branches; the manifest's last stage (evaluate.other)
    ends first. The run succeeds, with its record, only once every stage has."""
    path = write_project(tmp_path)
    build, order = _with_a_second_model(path)
    assert order[-1] == "evaluate.other"
    first = [*order[:order.index("train.model")], "train.other", "evaluate.other"]
    for stage in first + [s for s in order if s not in first]:
        assert latest_record(tmp_path, "p1") is None, f"a record before {stage} ran"
        code, out, err = _stage(capsys, build, stage, "--run-id", "p1")
        assert code == 0, out + err
    assert "run p1: succeeded, record" in out
    record = latest_record(tmp_path, "p1")
    assert record is not None and record["status"] == "succeeded"
    assert {s["stage_id"] for s in record["stages"]} == set(order)
    assert _index_status(tmp_path, "p1") == "succeeded"


def test_the_local_script_runs_a_branch_a_blocked_stage_does_not_lead_to(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As `pipec run`, Airflow and Argo: the first model's register stage blocks and its
    deploy is left out, but the second model (later in the script's order) still trains
    and is evaluated. The script exits as the run ended (blocked), and the run's record
    (a continuation, once nothing more can run) holds the second model's stages."""
    path = write_project(tmp_path, min_auc=0.999)
    build, order = _with_a_second_model(path)
    assert order.index("register.model") < order.index("train.other")
    script = _script(build, "--run-id", "t1")
    assert script.returncode == 1, script.stdout + script.stderr
    assert "train.other: ran\nevaluate.other: ran\n" in script.stdout
    assert "deploy.model: not run (behind a stage that stopped the run)" in script.stderr
    record = latest_record(tmp_path, "t1")
    assert record is not None and record["status"] == "blocked"
    assert record["report"]["blocked_by"] == "register.model"
    ran = {s["stage_id"]: s["status"] for s in record["stages"]}
    assert ran["train.other"] == ran["evaluate.other"] == "ran"
    assert "deploy.model" not in ran


def test_the_local_script_exits_as_the_worst_stage_ended(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The first model's register stage blocks, then the second model's fit fails (its
    retries used up): the script exits 2, as `pipec run` does, not 1 (the first stop)."""
    path = write_project(tmp_path, min_auc=0.999)
    add_second_model(path, params="C: -1.0")
    script = _script(_build(path), "--run-id", "t2")
    assert script.returncode == 2, script.stdout + script.stderr
    assert "evaluate.other: not run" in script.stderr
    record = latest_record(tmp_path, "t2")
    assert record is not None and record["status"] == "failed"
    assert record["report"]["error"].startswith("train.other: ")


def test_debug_shows_a_failed_stage_s_traceback(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    write_project(tmp_path)
    (tmp_path / "data" / "events.parquet").write_bytes(b"not parquet")
    pipe = str(tmp_path / "spend.pipe")
    code, _, err = _pipec(capsys, "run", pipe)
    assert code == 2 and "Traceback" not in err
    code, _, err = _pipec(capsys, "--debug", "run", pipe)
    assert code == 2
    assert "Traceback (most recent call last)" in err and "SourceError: source 'events'" in err
    code, out, _ = _pipec(capsys, "runs", "list", "--project", str(tmp_path), "--format",
                          "json")
    assert [r["status"] for r in json.loads(out)] == ["failed", "failed"]  # recorded too
    build = _build(tmp_path / "spend.pipe")
    code, _, err = _stage(capsys, build, "source.events", "--run-id", "d1", "--debug")
    assert code == 2 and "Traceback (most recent call last)" in err


@pytest.mark.parametrize("manifest, stage, run_id, message", [
    ("missing.json", "source.events", "r1", "no manifest `"),
    ("spend.pipe", "source.events", "r1", "is not a lineage manifest ("),
    ("empty.json", "source.events", "r1", "is not a lineage manifest (no pipeline and "),
    ("numbered.json", "source.events", "r1", "(its `base_dir` is not a folder path)"),
    ("build", "source.events", "r1", "cannot read the manifest `"),
    ("build/lineage.json", "nowhere", "r1", "no stage `nowhere`"),
    ("build/lineage.json", "source.events", "a/b c", "--run-id 'a/b c' is not a run id"),
    ("build/lineage.json", "source.events", "", "--run-id '' is not a run id"),
])
def test_bad_arguments_are_said_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        manifest: str, stage: str, run_id: str,
                                        message: str) -> None:
    _build(write_project(tmp_path))
    (tmp_path / "empty.json").write_text("{}", "utf-8")
    built = json.loads((tmp_path / "build" / "lineage.json").read_text("utf-8"))
    (tmp_path / "numbered.json").write_text(json.dumps({**built, "base_dir": 7}), "utf-8")
    code, out, err = _pipec(capsys, "stage", "run", "--manifest", str(tmp_path / manifest),
                            "--stage", stage, "--run-id", run_id)
    assert code == 2 and message in err, err
    assert "Traceback" not in err and "internal error" not in err and out == ""


def test_pods_keep_their_state_in_pipec_state_dir(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What the generated pods set with `state_volume`: the run store and the local
    registry go to the mounted folder, never beside the .pipe file in the image, so the
    stages of a run, each in its own pod, see each other's outputs."""
    build = _build(write_project(tmp_path / "image"))
    state = tmp_path / "volume"
    monkeypatch.setenv("PIPEC_STATE_DIR", str(state))
    order = [s["id"] for s in json.loads((build / "lineage.json").read_text())["stages"]]
    for stage in order:
        code, out, err = _stage(capsys, build, stage, "--run-id", "p1")
        assert code == 0, out + err
    assert not (tmp_path / "image" / ".pipec").exists()
    assert not (tmp_path / "image" / "registry").exists()
    record = latest_record(state, "p1")
    assert record is not None and record["status"] == "succeeded"
    assert record["registries"] == ["registry"]  # relative to the state folder
    monkeypatch.delenv("PIPEC_STATE_DIR")
    code, out, err = _pipec(capsys, "registry", "list", "--project", str(state))
    assert code == 0 and out.startswith("model@1"), err


def test_a_stage_driven_run_records_each_stage_s_cpu_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each stage of the local script runs in a process of its own (`pipec stage run`):
    its CPU seconds are recorded there, so the run's record has them as `pipec run`'s
    has, not null."""
    write_project(tmp_path)
    script = _script(_build(tmp_path / "spend.pipe"), "--run-id", "c1")
    assert script.returncode == 0, script.stdout + script.stderr
    record = latest_record(tmp_path, "c1")
    assert record is not None and record["stages"]
    for stage in record["stages"]:
        assert isinstance(stage["cpu_s"], float) and stage["cpu_s"] >= 0, stage


def test_a_branch_that_goes_on_after_a_stop_gets_a_continuation_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two models; the first one's gate cannot pass, so its register stage blocks and
    ends the run (record 1). The orchestrator goes on with the second model's branch,
    which used to leave no record at all (the run had "not every stage succeeded" for
    ever): once nothing more can run, a continuation record holds it, still blocked by
    the first model's register stage."""
    path = write_project(tmp_path, min_auc=0.99)  # model's gate cannot pass
    build, order = _with_a_second_model(path)
    # The first model's branch, up to its blocked register stage (an orchestrator never
    # starts the deploy stage behind it).
    first = [s for s in order if s not in ("train.other", "evaluate.other", "deploy.model")]
    for stage in first:
        code, out, err = _stage(capsys, build, stage, "--run-id", "b2")
        if stage == "register.model":
            assert code == 1 and "run b2: blocked, record" in out, out + err
        else:
            assert code == 0, out + err
    record = latest_record(tmp_path, "b2")
    assert record is not None and "continues" not in record
    assert "evaluate.other" not in {s["stage_id"] for s in record["stages"]}
    for stage in ("train.other", "evaluate.other"):
        code, out, err = _stage(capsys, build, stage, "--run-id", "b2")
        assert code == 0, out + err
    assert "run b2: blocked, record" in out  # the last stage that could run ended it
    record = latest_record(tmp_path, "b2")
    assert record is not None and record["status"] == "blocked"
    assert record["continues"]["status"] == "blocked"
    assert record["report"]["blocked_by"] == "register.model"
    assert "evaluate.other" in {s["stage_id"] for s in record["stages"]}
    assert _index_status(tmp_path, "b2") == "blocked"
