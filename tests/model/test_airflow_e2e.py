"""The generated Airflow DAG of the small synthetic project under `airflow dags test`,
end to end (slow: about 25 s per DAG run; skipped without the Airflow venv):

- a plain project succeeds; its one run record carries the Airflow run id, every stage,
  and the same model (sha256) as `pipec run`; `pipec lineage` answers all seven questions;
- a blocking gate fails the register task at once (no retries) and the record says
  blocked and why;
- with `approval by risk` the run parks at the HITL ApprovalOperator (Airflow 3.3+:
  AWAITING_INPUT, which `dags test` waits on until someone answers); the team records
  the approval with `pipec registry approve`, the HITL task is answered as the HITL REST
  route answers it, and the model is promoted;
- a HITL Reject skips promotion and deploy; the task after the approval stage records
  the rejection (the run ends blocked, naming the reviewer);
- a re-run of a version the registry already approved asks nobody (its register task
  says so), and succeeds as `pipec run` does; a new version is asked about again.

Plus one fast check: the approval stage's task keeps the manifest's `retries`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from backends.backend_helpers import airflow_stages, module_constants
from model.project import program, write_project
from support.airflow_env import airflow_env, airflow_python, migrated_home, run_dags_test

QUESTIONS = ("1. which data snapshot", "2. which label window", "3. which feature versions",
             "4. which parameters", "5. which image", "6. which code commit",
             "7. which gates and approvals")
DAG_RUN_ID = re.compile(r"DagRun Finished: dag_id=spend, .*?run_id=([^,]+),")
PARKED = "Waiting for Human-in-the-loop input"

# Answers the parked HITL task of the DAG once, as the HITL REST route
# (`PATCH .../hitlDetails`, airflow/api_fastapi/core_api/routes/public/hitl.py) does:
# writes the response, then resumes the AWAITING_INPUT task. argv: DAG_ID OPTION
ANSWER = r"""
import sys
from sqlalchemy import select
from airflow.models.hitl import HITLDetail
from airflow.models.taskinstance import TaskInstance as TI
from airflow.models.trigger import handle_event_submit
from airflow.sdk.timezone import utcnow
from airflow.triggers.base import TriggerEvent
from airflow.utils.session import create_session
from airflow.utils.state import TaskInstanceState

with create_session() as session:
    rows = session.execute(
        select(TI, HITLDetail).join(HITLDetail, HITLDetail.ti_id == TI.id)
        .where(TI.dag_id == sys.argv[1], TI.state == TaskInstanceState.AWAITING_INPUT,
               HITLDetail.responded_at.is_(None))).all()
    for ti, detail in rows:
        detail.responded_by = {"id": "risk-reviewer", "name": "risk-reviewer"}
        detail.responded_at = utcnow()
        detail.chosen_options = [sys.argv[2]]
        detail.params_input = {}
        session.add(detail)
        handle_event_submit(TriggerEvent(detail.as_resume_event_payload()),
                            task_instance=ti, session=session)
        print(ti.task_id)
"""


def pipec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", *args], capture_output=True,
                          text=True, timeout=600)


def pipec_json(*args: str) -> object:
    result = pipec(*args, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def built(folder: Path, retries: int | None = None, **kwargs: object) -> Path:
    """The project in `folder` and its DAG folder `folder/dags`."""
    path = write_project(folder, **kwargs)
    if retries is not None:
        path.write_text(path.read_text("utf-8").replace(
            "  retrain manual\n", f"  retrain manual\n  retries {retries}\n"), "utf-8")
    result = pipec("build", str(path), "--target", "airflow", "-o", str(folder / "dags"))
    assert result.returncode == 0, result.stdout + result.stderr
    return folder / "dags"


def needs_airflow() -> None:
    if airflow_python() is None:
        pytest.skip("no Airflow venv: `bash .ci/airflow-venv.sh` creates it (CI does)")


def the_run(project: Path, output: str) -> dict:
    """The project's only run record, which must be the Airflow run's."""
    [listed] = pipec_json("runs", "list", "--project", str(project))
    [airflow_run] = DAG_RUN_ID.findall(output)
    assert listed["run_id"] == airflow_run
    return pipec_json("runs", "show", airflow_run, "--project", str(project))


def stage_ids(dags: Path) -> list[str]:
    return [s["id"] for s in json.loads((dags / "lineage.json").read_text("utf-8"))["stages"]]


def stage_runs(output: str, stage_id: str) -> int:
    return output.count(f"--stage {stage_id}'")


@pytest.mark.slow
def test_plain_project_records_the_airflow_run(tmp_path: Path) -> None:
    needs_airflow()
    dags = built(tmp_path / "airflow")
    result = run_dags_test(dags, "spend", timeout=600)
    assert result.returncode == 0, result.output[-5000:]
    project = tmp_path / "airflow"
    record = the_run(project, result.output)
    assert record["status"] == "succeeded"
    assert [s["stage_id"] for s in record["stages"]] == stage_ids(dags)
    lineage = pipec_json("lineage", "model@1", "--project", str(project))
    assert all(lineage[q] for q in QUESTIONS)
    [ours] = pipec_json("registry", "list", "--project", str(project))
    assert ours["state"] == "production"
    local = tmp_path / "local"
    write_project(local)
    ran = pipec("run", str(local / "spend.pipe"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    [theirs] = pipec_json("registry", "list", "--project", str(local))
    assert ours["sha256"] == theirs["sha256"]


@pytest.mark.slow
def test_blocking_gate_fails_the_task_without_retries(tmp_path: Path) -> None:
    needs_airflow()
    dags = built(tmp_path, retries=2, min_auc=0.99)
    result = run_dags_test(dags, "spend", timeout=600)
    assert result.returncode == 1, result.output[-5000:]
    assert stage_runs(result.output, "register.model") == 1  # not retried
    assert "Command exited with return code 1" in result.output
    record = the_run(tmp_path, result.output)
    assert record["status"] == "blocked"
    assert record["report"]["blocked_by"] == "register.model"
    assert "not blessed" in record["report"]["reason"]
    assert "primary roc_auc >= 0.99" in record["report"]["reason"]
    assert pipec_json("registry", "list", "--project", str(tmp_path)) == []


@dataclass
class Answered:
    returncode: int | None
    output: str


def run_answering(dags: Path, home: Path, option: str, project: Path,
                  approve: bool, timeout: float = 600) -> Answered:
    """`airflow dags test spend` that, once the HITL task is parked, records the approval
    in the registry (when `approve`) and answers the task with `option`."""
    python = airflow_python()
    assert python is not None
    env = airflow_env(home, dags)
    airflow = str(python.parent / "airflow")
    migrated_home(home)
    log = home / "dags-test.log"
    with log.open("w") as out:
        proc = subprocess.Popen([airflow, "dags", "test", "spend"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=home, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while PARKED not in log.read_text() and proc.poll() is None:
            assert time.monotonic() < deadline, log.read_text()[-5000:]
            time.sleep(1)
        if proc.poll() is None:
            if approve:
                approved = pipec("registry", "approve", "model@1", "--by", "risk",
                                 "--project", str(project))
                assert approved.returncode == 0, approved.stdout + approved.stderr
            answered = subprocess.run([str(python), "-c", ANSWER, "spend", option], env=env,
                                      capture_output=True, text=True, timeout=120)
            assert answered.stdout.split() == ["approval__model-human"], answered.stderr
        returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        returncode = None
    finally:
        if proc.poll() is None:  # dags test ignores SIGTERM while it waits
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return Answered(returncode, log.read_text())


def answered_at_the_hitl_step(tmp_path: Path, option: str, *,
                              approve: bool) -> tuple[Path, Answered]:
    """The approval project's DAG run, its HITL step answered with `option` (after a
    registry approval by risk when `approve`): its DAG folder and the run's outcome."""
    needs_airflow()
    dags = built(tmp_path / "project", approval=True)
    (tmp_path / "home").mkdir()
    return dags, run_answering(dags, tmp_path / "home", option, tmp_path / "project",
                               approve=approve)


@pytest.mark.slow
def test_approval_at_the_hitl_step_promotes_the_model(tmp_path: Path) -> None:
    dags, result = answered_at_the_hitl_step(tmp_path, "Approve", approve=True)
    assert result.returncode == 0, result.output[-5000:]
    assert PARKED in result.output
    record = the_run(tmp_path / "project", result.output)
    assert record["status"] == "succeeded"
    assert [s["stage_id"] for s in record["stages"]] == stage_ids(dags)
    assert record["approval"]["model"]["team"] == "risk"
    assert record["deploy"]["model"]["state"] == "production"
    [model] = pipec_json("registry", "list", "--project", str(tmp_path / "project"))
    assert model["state"] == "production"
    lineage = pipec_json("lineage", "model@1", "--project", str(tmp_path / "project"))
    assert lineage[QUESTIONS[-1]]["approval"]["team"] == "risk"


@pytest.mark.slow
def test_reject_at_the_hitl_step_records_the_run(tmp_path: Path) -> None:
    """A Reject skips the approval stage (and deploy); the task after it records the
    rejection: the run ends blocked there, naming the reviewer, and the DAG run succeeds
    (the rejection is an answer, not a failure)."""
    dags, result = answered_at_the_hitl_step(tmp_path, "Reject", approve=False)
    assert result.returncode == 0, result.output[-5000:]
    assert stage_runs(result.output, "approval.model") == 0
    assert result.output.count("--rejected-by") >= 1
    [model] = pipec_json("registry", "list", "--project", str(tmp_path / "project"))
    assert model["state"] == "candidate"
    record = the_run(tmp_path / "project", result.output)
    assert record["status"] == "blocked"
    assert record["report"]["blocked_by"] == "approval.model"
    assert "rejected by risk-reviewer" in record["report"]["reason"]
    assert [s["stage_id"] for s in record["stages"]][-1] == "approval.model"
    lineage = pipec_json("lineage", "model@1", "--project", str(tmp_path / "project"))
    assert lineage[QUESTIONS[-1]]["rejected_by"] == "risk-reviewer"


def run_record(project: Path, output: str) -> dict:
    """The run record of the one DAG run in `output` (a project may hold several)."""
    [airflow_run] = DAG_RUN_ID.findall(output)
    return pipec_json("runs", "show", airflow_run, "--project", str(project))


@pytest.mark.slow
def test_a_re_run_of_an_approved_version_asks_nobody(tmp_path: Path) -> None:
    """The first DAG run parks at the human step, the team records its approval and
    approves. A second DAG run of the unchanged project has nobody to answer (a human
    step that asked would park until the timeout): the register task says the registry
    holds the approval, the human step completes approved without asking, the approval
    stage passes, the Reject task is skipped and deploy runs. The run succeeds, as a
    `pipec run` of the same project does from its cache."""
    dags, first = answered_at_the_hitl_step(tmp_path, "Approve", approve=True)
    assert first.returncode == 0, first.output[-5000:]
    assert PARKED in first.output
    project = tmp_path / "project"
    second = run_dags_test(dags, "spend", timeout=400)
    assert second.returncode == 0, second.output[-5000:]
    assert PARKED not in second.output
    assert "not asking" in second.output
    assert stage_runs(second.output, "approval.model") == 1
    assert "no rejection to record" in second.output  # the Reject task skipped
    record = run_record(project, second.output)
    assert record["status"] == "succeeded"
    assert [s["stage_id"] for s in record["stages"]] == stage_ids(dags)
    assert record["deploy"]["model"]["state"] == "production"
    [model] = pipec_json("registry", "list", "--project", str(project))
    assert (model["version"], model["state"]) == (1, "production")
    ran = pipec("run", str(project / "spend.pipe"))
    assert ran.returncode == 0, ran.stdout + ran.stderr


@pytest.mark.slow
def test_a_version_not_yet_approved_is_asked_about(tmp_path: Path) -> None:
    """After version 1 was approved and deployed, a model edit trains version 2: the
    register task says the registry holds no approval of it, and the human step asks
    (here the answer is a Reject, which is recorded against version 2)."""
    dags, first = answered_at_the_hitl_step(tmp_path, "Approve", approve=True)
    assert first.returncode == 0, first.output[-5000:]
    project = tmp_path / "project"
    (project / "spend.pipe").write_text(program(approval=True, c=0.05), "utf-8")
    result = pipec("build", str(project / "spend.pipe"), "--target", "airflow", "-o", str(dags))
    assert result.returncode == 0, result.stdout + result.stderr
    second = run_dags_test(dags, "spend", answer="Reject", timeout=400)
    assert second.returncode == 0, second.output[-5000:]
    assert "--approval-given" in second.output
    assert "answered approval__model-human with Reject" in second.approver_output
    record = run_record(project, second.output)
    assert record["status"] == "blocked"
    assert record["report"]["blocked_by"] == "approval.model"
    versions = pipec_json("registry", "list", "--project", str(project))
    assert sorted((v["version"], v["state"]) for v in versions) == [
        (1, "production"), (2, "candidate")]


def test_the_approval_stage_keeps_the_manifest_retries(tmp_path: Path) -> None:
    """The runtime reads a stage's `retries` from the manifest to tell a failure's last
    attempt, which writes the run record; the task must be retried as often."""
    dags = built(tmp_path, retries=2, approval=True)
    manifest = {s["id"]: s for s in json.loads((dags / "lineage.json").read_text("utf-8"))
                ["stages"]}
    tasks = airflow_stages(module_constants((dags / "spend.py").read_text("utf-8")))
    assert tasks["approval__model"]["retries"] == manifest["approval.model"]["retries"] == 2
    assert all(t["retries"] == manifest[t["stage_id"]]["retries"] for t in tasks.values())
