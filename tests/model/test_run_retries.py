"""`pipec run` retries a failed stage its `retries` times and fails a stage past its
`timeout`, as every target does: a failure a retry mends leaves a succeeded run and no
alert; a block is not retried; a signal during the wait for a retry ends the run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from model.project import negative_amount, write_project

# A fit that fails (or, with SLEEP set, sleeps past any short timeout) while the file
# `failures` holds a number above zero, counting it down; every fit logs a line.
FLAKY_MODEL = """
import os
import time
from pathlib import Path

from sklearn.linear_model import LogisticRegression

HERE = Path(__file__).parent


class Flaky(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        with (HERE / "fits.log").open("a") as log:
            log.write("fit\\n")
        left = int((HERE / "failures").read_text())
        if left > 0:
            (HERE / "failures").write_text(str(left - 1))
            if os.environ.get("SLEEP"):
                time.sleep(float(os.environ["SLEEP"]))
            else:
                raise ConnectionError("the feature store hung up")
        return super().fit(X, y, sample_weight)
"""


def _project(folder: Path, failures: int, settings: str) -> Path:
    """The model project with the flaky model, `settings` on its train stage, and
    `failures` failed fits to come."""
    path = write_project(folder)
    path.write_text(path.read_text("utf-8").replace(
        '    model "sklearn.linear_model.LogisticRegression"\n',
        f'    model "flaky.Flaky"\n{settings}'), "utf-8")
    (folder / "flaky.py").write_text(FLAKY_MODEL, "utf-8")
    (folder / "failures").write_text(str(failures), "utf-8")
    (folder / "pyproject.toml").write_text(
        '[tool.pipec]\nallowed_model_modules = ["sklearn", "flaky"]\n', "utf-8")
    return path


def _run(path: Path, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", "run", str(path),
                           "--until", "train", *args], capture_output=True, text=True,
                          timeout=600, cwd=path.parent, env={**os.environ, **(env or {})})


def _fits(folder: Path) -> int:
    return (folder / "fits.log").read_text("utf-8").count("fit\n")


def _record(folder: Path) -> dict:
    result = subprocess.run([sys.executable, "-m", "pipec", "runs", "list", "--project",
                             str(folder), "--format", "json"], capture_output=True,
                            text=True, timeout=120)
    [run] = json.loads(result.stdout)
    shown = subprocess.run([sys.executable, "-m", "pipec", "runs", "show", run["run_id"],
                            "--project", str(folder), "--format", "json"],
                           capture_output=True, text=True, timeout=120)
    return json.loads(shown.stdout)


def test_a_failure_a_retry_mends_leaves_a_succeeded_run(tmp_path: Path) -> None:
    path = _project(tmp_path, 1, '    retries 2\n    on_failure alert "page the trainer"\n')
    result = _run(path, "--retry-delay", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _fits(tmp_path) == 2
    assert "train.model: failed (ConnectionError: the feature store hung up); " \
           "retry 1 of 2 in 0 s" in result.stdout
    assert "ALERT" not in result.stdout + result.stderr  # the retry mended it
    assert _record(tmp_path)["status"] == "succeeded"


def test_a_stage_fails_once_its_retries_are_used_up_and_alerts_once(tmp_path: Path) -> None:
    path = _project(tmp_path, 5, '    retries 2\n    on_failure alert "page the trainer"\n')
    result = _run(path, "--retry-delay", "0")
    assert result.returncode == 2, result.stdout + result.stderr
    assert _fits(tmp_path) == 3  # the first attempt and two retries
    assert "retry 2 of 2" in result.stdout and "retry 3" not in result.stdout
    output = result.stdout + result.stderr
    assert output.count("ALERT train.model") == 1, output
    record = _record(tmp_path)
    assert record["status"] == "failed"
    assert "ConnectionError: the feature store hung up" in json.dumps(record)


def test_a_stage_past_its_timeout_fails_and_its_retry_runs(tmp_path: Path) -> None:
    # Long enough for the train stage itself on a loaded machine, where it took 8 s
    # whole: the first attempt must reach its fit (importing scikit-learn) before the
    # deadline, and the retry fit and store the model within it.
    path = _project(tmp_path, 1, "    timeout 30s\n    retries 1\n")
    result = _run(path, "--retry-delay", "0", env={"SLEEP": "120"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "train.model: failed (timed out after 30s); retry 1 of 1 in 0 s" in result.stdout
    assert _fits(tmp_path) == 2


def test_without_retries_a_timeout_fails_the_run(tmp_path: Path) -> None:
    path = _project(tmp_path, 1, "    timeout 1s\n")
    result = _run(path, env={"SLEEP": "120"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "retry" not in result.stdout
    assert "timed out after 1s" in json.dumps(_record(tmp_path))


def test_a_blocked_check_is_not_retried(tmp_path: Path) -> None:
    path = _project(tmp_path, 0, "")
    path.write_text(path.read_text("utf-8").replace(
        "  retrain manual\n", "  retrain manual\n  retries 2\n"), "utf-8")
    negative_amount(tmp_path)  # the validate stage blocks: a retry would only block again
    result = _run(path, "--retry-delay", "0")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "validate.events: blocked" in result.stdout
    assert "retry" not in result.stdout


def test_sigint_while_waiting_to_retry_ends_the_run_with_its_record(tmp_path: Path) -> None:
    path = _project(tmp_path, 5, "    retries 3\n")
    with subprocess.Popen([sys.executable, "-m", "pipec", "run", str(path), "--until",
                           "train", "--retry-delay", "600"], cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as run:
        assert run.stdout is not None
        seen = []
        for line in run.stdout:  # the stage's progress, up to the wait for its retry
            seen.append(line)
            if "retry 1 of 3 in 600 s" in line:
                break
        run.send_signal(signal.SIGINT)
        rest, stderr = run.communicate(timeout=120)
    stdout = "".join(seen) + rest
    assert run.returncode == 130, stdout + stderr
    assert _fits(tmp_path) == 1
    record = _record(tmp_path)
    assert record["status"] == "failed"
    assert record["report"]["error"].endswith("(then interrupted by SIGINT, before a retry)")
