"""A stage's `timeout` and `retries` under `airflow dags test` (BashOperator), end to end
(slow: about two minutes; skipped without the Airflow venv).

The train stage's first fit is native work that SIGTERM cannot stop: past the stage's
timeout the task fails, the stage is killed after the grace period, and the retry
trains the model; the run succeeds with one record. The DAG's retry delay and grace are
shortened in the generated file, which is otherwise as built.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from model.project import write_project
from model.test_airflow_e2e import needs_airflow, pipec, the_run
from support.airflow_env import run_dags_test

# The first fit ignores SIGTERM (as a DuckDB query or a model fit in C does until it
# returns) and sleeps past the stage's timeout; every fit logs its pid.
STUBBORN_MODEL = """
import os
import signal
import time
from pathlib import Path

from sklearn.linear_model import LogisticRegression

MARKER = Path(__file__).with_name("stubborn-once")
LOG = Path(__file__).with_name("fits.log")


class Stubborn(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        with LOG.open("a") as log:
            log.write(f"{os.getpid()} start\\n")
        if not MARKER.exists():
            MARKER.touch()
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(120)
            with LOG.open("a") as log:
                log.write(f"{os.getpid()} outlived its timeout\\n")
        return super().fit(X, y, sample_weight)
"""


def _built(folder: Path) -> Path:
    """The project with the stubborn model (`timeout 40s`, `retries 1`), built for
    Airflow: its DAG folder, with a retry delay of 1 s and a grace of 2 s.

    The timeout covers the task's whole process: the first try must reach its fit
    (starting pipec, importing scikit-learn) before it, and the retry train and store
    the model within it: `pipec run`'s whole train stage took 8 s on a loaded machine,
    where 10 s left the task's own process start no margin."""
    path = write_project(folder)
    path.write_text(path.read_text("utf-8").replace(
        '    model "sklearn.linear_model.LogisticRegression"\n',
        '    model "stubborn.Stubborn"\n    timeout 40s\n    retries 1\n'), "utf-8")
    (folder / "stubborn.py").write_text(STUBBORN_MODEL, "utf-8")
    (folder / "pyproject.toml").write_text(
        '[tool.pipec]\nallowed_model_modules = ["sklearn", "stubborn"]\n', "utf-8")
    result = pipec("build", str(path), "--target", "airflow", "-o", str(folder / "dags"))
    assert result.returncode == 0, result.stdout + result.stderr
    dag = folder / "dags" / "spend.py"
    text = dag.read_text("utf-8")
    for name, value in (("RETRY_DELAY_S", 1), ("STOP_GRACE_S", 2)):
        text, count = re.subn(rf"^{name} = \d+$", f"{name} = {value}", text, flags=re.M)
        assert count == 1, name
    dag.write_text(text, "utf-8")
    return folder / "dags"


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.mark.slow
def test_a_stage_past_its_timeout_is_killed_and_retried(tmp_path: Path) -> None:
    needs_airflow()
    dags = _built(tmp_path)
    result = run_dags_test(dags, "spend", timeout=600)
    fits = (tmp_path / "fits.log").read_text("utf-8").split("\n")
    first = int(fits[0].split()[0])
    try:
        assert result.returncode == 0, result.output[-5000:]
        assert "AirflowTaskTimeout" in result.output  # the first try, after 40 s
        assert [line.split()[1] for line in fits if line] == ["start", "start"]
        # Killed after the grace: not left running beside its retry, or after the run.
        assert not _alive(first)
        assert the_run(tmp_path, result.output)["status"] == "succeeded"
    finally:
        if _alive(first):  # the stage this test started, left running by the bug
            os.kill(first, signal.SIGKILL)
