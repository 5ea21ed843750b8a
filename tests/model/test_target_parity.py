"""The same pipeline ends the same way on every target: `pipec run`, the local script
(`build --target local`) and the Airflow DAG (`airflow dags test`, slow, skipped without
the Airflow venv) leave the same run record (status, `blocked_by`), the same registry
and the same verdict (exit status, DAG run state).

- Two stops of the same kind in two branches (two models' register stages both
  blocked): the run ends as the first in the manifest's order, as `pipec run` keeps the
  first of equals, not as whichever branch an orchestrator ended last.
- A model whose blocking gate failed, with no register stage to refuse it, beside an
  approval that waits: the run is blocked (worse than waiting), on every target.
- An approval with no deploy behind it: its Reject task is the branch's last task, and
  a stage before it that stopped the run (a blocked gate, a waiting approval) fails the
  DAG run, as `pipec run` exits 1 or 3; a Reject still records the rejection.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from model.project import add_second_model, write_project
from pipec.cli import main
from pipec.stdlib.runtime.records import RunRecords
from support.airflow_env import airflow_python, run_dags_test

# A register stage for the second model (`add_second_model`), which has none.
REGISTER_OTHER = '  register other {\n    owner platform\n    registry local "registry/"\n  }\n\n'


def _strict_other(path: Path) -> None:
    """The second model's gate cannot pass (its AUC is about 0.93)."""
    text = path.read_text("utf-8")
    path.write_text(text.replace("evaluate other {\n    primary roc_auc >= 0.5",
                                 "evaluate other {\n    primary roc_auc >= 0.99"), "utf-8")


def two_blocked_registers(folder: Path) -> Path:
    """Two models, each with a register stage whose gate cannot pass."""
    path = write_project(folder, min_auc=0.99)
    add_second_model(path)
    _strict_other(path)
    path.write_text(path.read_text("utf-8").replace(
        "  register model {", REGISTER_OTHER + "  register model {"), "utf-8")
    return path


def unblessed_beside_an_approval(folder: Path) -> Path:
    """The first model waits for approval; the second one, which nothing registers,
    fails its blocking gate."""
    path = write_project(folder, approval=True)
    add_second_model(path)
    _strict_other(path)
    return path


def approval_without_deploy(folder: Path, min_auc: float = 0.6) -> Path:
    """`approval by risk` with no deploy stage: the approval stage promotes."""
    path = write_project(folder, approval=True, min_auc=min_auc)
    text = path.read_text("utf-8")
    start = text.index("  deploy model {")
    path.write_text(text[:start] + text[text.index("  }\n", start) + 4:], "utf-8")
    return path


def pipec_run(path: Path) -> int:
    return main(["run", str(path)])


def local_script(path: Path) -> int:
    build = path.parent / "build"
    assert main(["build", str(path), "--target", "local", "-o", str(build)]) == 0
    env = {k: v for k, v in os.environ.items() if k != "PIPEC_RUN_ID"}
    done = subprocess.run([sys.executable, str(build / "run_spend.py"), "--retry-delay", "0"],
                          capture_output=True, text=True, env=env, timeout=600)
    return done.returncode


def ending(project: Path) -> tuple[str, str | None]:
    """(status, blocked_by) of the project's only run, from its latest record."""
    records = RunRecords(project)
    try:
        [listed] = records.list()
        record = records.get(listed["run_id"])
    finally:
        records.close()
    assert record is not None
    return record["status"], record["report"].get("blocked_by")


def test_two_equal_stops_end_the_run_as_the_first_in_order(tmp_path: Path) -> None:
    """Both models' register stages block. `pipec run` keeps the first (register.model);
    the local script ran register.other last, and its record used to name that one."""
    assert pipec_run(two_blocked_registers(tmp_path / "run")) == 1
    assert ending(tmp_path / "run") == ("blocked", "register.model")
    assert local_script(two_blocked_registers(tmp_path / "script")) == 1
    assert ending(tmp_path / "script") == ("blocked", "register.model")


def test_an_unblessed_model_beside_a_waiting_approval_blocks_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`pipec run` used to end waiting (exit 3) and the local script exit 1 with a
    record saying waiting: a failed blocking gate is worse than a pending approval. The
    summary still says how to approve the model that waits."""
    assert pipec_run(unblessed_beside_an_approval(tmp_path / "run")) == 1
    assert "\nalso stopped: approval.model: model v1 waits for approval by risk " \
        "(`pipec registry approve model@1 --by risk`)\n" in capsys.readouterr().out
    assert ending(tmp_path / "run") == ("blocked", "evaluate.other")
    assert local_script(unblessed_beside_an_approval(tmp_path / "script")) == 1
    assert ending(tmp_path / "script") == ("blocked", "evaluate.other")


def needs_airflow() -> None:
    if airflow_python() is None:
        pytest.skip("no Airflow venv: `bash .ci/airflow-venv.sh` creates it (CI does)")


def dags_test(path: Path, answer: str | None = None) -> int | None:
    """`airflow dags test` of the project's DAG: 0 when the DAG run succeeded, 1 when it
    failed."""
    dags = path.parent / "dags"
    assert main(["build", str(path), "--target", "airflow", "-o", str(dags)]) == 0
    result = run_dags_test(dags, "spend", answer=answer, timeout=600)
    assert not result.timed_out, result.output[-5000:]
    return result.returncode


@pytest.mark.slow
def test_a_blocked_gate_before_an_approval_fails_the_dag_run(tmp_path: Path) -> None:
    """No deploy: the Reject task is the branch's last task. It used to be skipped after
    the blocked register stage, and the DAG run succeeded where `pipec run` exits 1."""
    needs_airflow()
    assert pipec_run(approval_without_deploy(tmp_path / "run", min_auc=0.99)) == 1
    returncode = dags_test(approval_without_deploy(tmp_path / "airflow", min_auc=0.99))
    assert returncode == 1
    assert ending(tmp_path / "airflow") == ending(tmp_path / "run") == \
        ("blocked", "register.model")


@pytest.mark.slow
def test_a_waiting_approval_without_deploy_fails_the_dag_run(tmp_path: Path) -> None:
    """Approved at the human step but not in the registry: the approval stage waits
    (exit 3 in `pipec run`), and the DAG run fails rather than end green."""
    needs_airflow()
    assert pipec_run(approval_without_deploy(tmp_path / "run")) == 3
    returncode = dags_test(approval_without_deploy(tmp_path / "airflow"), answer="Approve")
    assert returncode == 1
    assert ending(tmp_path / "airflow") == ending(tmp_path / "run") == \
        ("waiting", "approval.model")


@pytest.mark.slow
def test_a_reject_without_deploy_is_still_recorded(tmp_path: Path) -> None:
    """The Reject task now runs after `none_failed`: a Reject still skips the approval
    stage and runs it, the run ends blocked there, and the DAG run succeeds."""
    needs_airflow()
    returncode = dags_test(approval_without_deploy(tmp_path), answer="Reject")
    assert returncode == 0
    assert ending(tmp_path) == ("blocked", "approval.model")
    registry = json.loads(_cli_json(tmp_path, "registry", "list"))
    assert [m["state"] for m in registry] == ["candidate"]


@pytest.mark.slow
def test_an_unblessed_model_beside_a_waiting_approval_in_airflow(tmp_path: Path) -> None:
    """Airflow ends the run as `pipec run` does: blocked by the unblessed evaluation."""
    needs_airflow()
    returncode = dags_test(unblessed_beside_an_approval(tmp_path), answer="Approve")
    assert returncode == 1
    assert ending(tmp_path) == ("blocked", "evaluate.other")
    registry = json.loads(_cli_json(tmp_path, "registry", "list"))
    assert [m["state"] for m in registry] == ["candidate"]


def _cli_json(project: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "pipec", *args, "--project", str(project),
                           "--format", "json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
