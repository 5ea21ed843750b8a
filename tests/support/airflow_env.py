"""Reach the separate Airflow virtualenv from the project's own tests.

Airflow lives in its own venv (made by ``.ci/airflow-venv.sh``) because its pins clash with
the project's. These helpers run in the project's venv and talk to Airflow only through
subprocesses:

- ``airflow_python()``: the Airflow venv's interpreter, or None when there is none.
- ``probe_dagbag(folder)``: load a folder of DAG files with Airflow's DagBag and return the
  JSON that ``dagbag_probe.py`` prints (import errors, warnings, DAGs, tasks).
- ``run_dags_test(folder, dag_id, ...)``: run ``airflow dags test`` against a throwaway
  AIRFLOW_HOME with SQLite, optionally answering human-approval tasks.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).resolve().with_name("dagbag_probe.py")
DEFAULT_VENV = ".venv-airflow"
_DATABASE = "airflow.db"  # the SQLite metadata database, in AIRFLOW_HOME


class AirflowUnavailable(RuntimeError):
    """No usable Airflow venv: run ``bash .ci/airflow-venv.sh`` first."""


def airflow_venv() -> Path:
    """The Airflow venv folder: $PIPEC_AIRFLOW_VENV (relative to the repo root) or .venv-airflow."""
    venv = Path(os.environ.get("PIPEC_AIRFLOW_VENV") or DEFAULT_VENV)
    return venv if venv.is_absolute() else REPO_ROOT / venv


def airflow_python() -> Path | None:
    """The Airflow venv's python, or None when the venv does not exist."""
    python = airflow_venv() / "bin" / "python"
    return python if python.is_file() and os.access(python, os.X_OK) else None


def _require_python() -> Path:
    python = airflow_python()
    if python is None:
        raise AirflowUnavailable(
            f"no Airflow venv at {airflow_venv()}; run `bash .ci/airflow-venv.sh`"
        )
    return python


def probe_dagbag(folder: str | os.PathLike[str], timeout: float = 180.0) -> dict:
    """Load every DAG file in ``folder`` with Airflow's DagBag; return the probe's JSON.

    Keys: airflow_version, import_errors, warnings (the DAG files' own), other_warnings,
    airflow_import_warnings, captured_warnings, dags. See dagbag_probe.py.
    """
    python = _require_python()
    proc = subprocess.run(
        [str(python), str(PROBE), str(folder)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_clean_env(),
        cwd=str(folder),
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"dagbag probe exited with {proc.returncode}\n--- stderr ---\n{proc.stderr[-8000:]}"
        )
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(
            f"dagbag probe printed no JSON ({exc})\n--- stdout ---\n{proc.stdout[-4000:]}"
            f"\n--- stderr ---\n{proc.stderr[-8000:]}"
        ) from exc


def _clean_env() -> dict[str, str]:
    """The current environment without the project's venv or any Airflow settings in it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AIRFLOW") and k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    }
    return env


def airflow_env(
    home: str | os.PathLike[str],
    dag_folder: str | os.PathLike[str],
    path_prepend: list[str | os.PathLike[str]] | None = None,
) -> dict[str, str]:
    """Environment for an ``airflow`` CLI run against a private AIRFLOW_HOME and SQLite.

    ``path_prepend`` goes in front of PATH so that the tasks' shell commands find ``pipec``;
    by default that is the folder of the running interpreter (the project's venv).
    """
    env = _clean_env()
    if path_prepend is None:
        path_prepend = [Path(sys.executable).parent]
    env["PATH"] = os.pathsep.join([*(str(p) for p in path_prepend), env.get("PATH", "")])
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(Path(dag_folder).resolve()),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{Path(home) / _DATABASE}",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        }
    )
    return env


_template_db: Path | None = None  # this process's migrated metadata database


def migrated_home(home: str | os.PathLike[str]) -> None:
    """Give the AIRFLOW_HOME `home` a migrated metadata database. The first call in a
    process runs ``airflow db migrate`` on a template home; later calls copy its SQLite
    file (milliseconds; the migration takes seconds and ran for every DAG run)."""
    global _template_db
    if _template_db is None:
        template = Path(tempfile.mkdtemp(prefix="pipec-airflow-template-"))
        atexit.register(shutil.rmtree, template, True)
        migrate = subprocess.run(
            [str(_require_python().parent / "airflow"), "db", "migrate"],
            env=airflow_env(template, template), capture_output=True, text=True, timeout=300,
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{migrate.stdout}\n{migrate.stderr}")
        _template_db = template / _DATABASE
    shutil.copyfile(_template_db, Path(home) / _DATABASE)


# Answers human-approval (HITL) tasks of one DAG from outside ``airflow dags test``, the way
# the Airflow UI / REST API would: writes the response to the task's HITL record and, on
# Airflow >= 3.3 (task parked in AWAITING_INPUT), resumes the task. Before 3.3 the task is
# DEFERRED and the HITL trigger that ``dags test`` runs in process picks the response up.
# argv: DAG_ID OPTION SECONDS
_APPROVER = r"""
import sys, time
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from airflow.models.hitl import HITLDetail
from airflow.models.taskinstance import TaskInstance as TI
from airflow.utils.session import create_session
from airflow.utils.state import TaskInstanceState

try:
    from airflow.sdk.timezone import utcnow
except ImportError:
    from airflow.utils.timezone import utcnow

dag_id, option, deadline = sys.argv[1], sys.argv[2], time.monotonic() + float(sys.argv[3])
awaiting = getattr(TaskInstanceState, "AWAITING_INPUT", None)
parked = [s for s in (awaiting, TaskInstanceState.DEFERRED) if s is not None]
while time.monotonic() < deadline:
    try:
        with create_session() as session:
            rows = session.execute(
                select(TI, HITLDetail)
                .join(HITLDetail, HITLDetail.ti_id == TI.id)
                .where(TI.dag_id == dag_id, TI.state.in_(parked), HITLDetail.responded_at.is_(None))
            ).all()
            for ti, detail in rows:
                detail.responded_by = {"id": "pipec-test", "name": "pipec-test"}
                detail.responded_at = utcnow()
                detail.chosen_options = [option]
                detail.params_input = {}
                session.add(detail)
                if awaiting is not None and ti.state == awaiting:
                    from airflow.models.trigger import handle_event_submit
                    from airflow.triggers.base import TriggerEvent

                    event = TriggerEvent(detail.as_resume_event_payload())
                    handle_event_submit(event, task_instance=ti, session=session)
                print(f"pipec-approver: answered {ti.task_id} with {option}", flush=True)
    except OperationalError as exc:  # SQLite busy while dags test writes
        print(f"pipec-approver: retrying after {exc.__class__.__name__}", flush=True)
    time.sleep(0.5)
"""


@dataclass
class DagsTestResult:
    returncode: int | None  # None when it had to be killed at the timeout
    output: str  # airflow dags test stdout+stderr (the task logs are in it)
    approver_output: str
    seconds: float
    home: str | None  # the AIRFLOW_HOME, kept only when keep_home=True

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def run_dags_test(
    dag_folder: str | os.PathLike[str],
    dag_id: str,
    *,
    answer: str | None = None,
    mark_success_pattern: str | None = None,
    timeout: float = 300.0,
    path_prepend: list[str | os.PathLike[str]] | None = None,
    keep_home: bool = False,
) -> DagsTestResult:
    """Run ``airflow dags test DAG_ID`` once, in a fresh AIRFLOW_HOME with SQLite.

    A human-approval task blocks ``dags test`` forever unless something answers it. Either
    ``answer="Approve"`` / ``"Reject"`` (a helper process answers every approval task of the
    run, exercising the operator's real resume path: Approve runs the downstream tasks, Reject
    skips them and the run still succeeds), or ``mark_success_pattern`` (a regex of task ids
    that are marked successful without running, e.g. ``r"approve\\..*"``).

    The return code is 0 when the DAG run succeeded and 1 when it failed. ``dags test`` ignores
    SIGTERM while it waits, so on timeout its whole process group is killed (SIGKILL).
    """
    python = _require_python()
    airflow = str(python.parent / "airflow")
    home = tempfile.mkdtemp(prefix="pipec-airflow-home-")
    env = airflow_env(home, dag_folder, path_prepend)
    started = time.monotonic()
    approver = None
    try:
        migrated_home(home)
        if answer is not None:
            approver = subprocess.Popen(
                [str(python), "-c", _APPROVER, dag_id, answer, str(timeout)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        cmd = [airflow, "dags", "test", dag_id]
        if mark_success_pattern is not None:
            cmd += ["--mark-success-pattern", mark_success_pattern]
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            cwd=home,
        )
        try:
            output, _ = proc.communicate(timeout=max(1.0, timeout - (time.monotonic() - started)))
            returncode: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            output, _ = proc.communicate()
            returncode = None
        approver_output = ""
        if approver is not None:
            _kill_group(approver)
            approver_output, _ = approver.communicate()
        return DagsTestResult(
            returncode=returncode,
            output=output,
            approver_output=approver_output,
            seconds=time.monotonic() - started,
            home=home if keep_home else None,
        )
    finally:
        if approver is not None and approver.poll() is None:
            _kill_group(approver)
        if not keep_home:
            shutil.rmtree(home, ignore_errors=True)


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
