"""The local target's script stops a stage together with every process the stage started.

Past its `timeout`, or when the script itself is sent SIGTERM or SIGINT, the signal goes
to the stage's process group (the stage runs in a session of its own), and SIGKILL then
to whatever of it is left. Sent to the stage's process alone, it left a model's own
subprocess (or joblib's workers) running after the stage, and the script, had ended.
The stop is still recorded as before, and the stage's `on_failure alert` line is
printed once: by the stage when no retry follows, else by `--record-stop`."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from model.project import latest_record, write_project

from .backend_helpers import build

# A model whose fit starts a worker of its own and then waits. The worker holds a lock on
# `worker.lock` while it lives, and writes its pid once its signal handlers are set: it
# says which signal reached it (`mark`), or ignores SIGTERM and SIGINT (`ignore`), as a
# worker busy in native code would. Both end on their own in 2 minutes, should a failed
# test leave them behind.
SPAWNING_MODEL = '''
import subprocess
import sys
import time

from sklearn.linear_model import LogisticRegression

WORKER = """
import fcntl, os, signal, sys, time
from pathlib import Path

lock = open("worker.lock", "w")
fcntl.flock(lock, fcntl.LOCK_EX)

def said(signum, _frame):
    Path("worker-got-" + signal.Signals(signum).name).touch()
    sys.exit(0)

for signum in (signal.SIGTERM, signal.SIGINT):
    signal.signal(signum, signal.SIG_IGN if sys.argv[1] == "ignore" else said)
Path("worker.pid").write_text(str(os.getpid()))
time.sleep(120)
"""


class Spawning(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        subprocess.Popen([sys.executable, "-c", WORKER, MODE], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(120)
        return super().fit(X, y, sample_weight)
'''

ALERT = "ALERT train.model (owner ml): training broke"


def _script(folder: Path, worker: str, settings: str) -> Path:
    """The local script of a project whose train stage fits the spawning model, with
    `settings` (and an alert) on the train stage."""
    path = write_project(folder)
    path.write_text(path.read_text("utf-8").replace(
        '"sklearn.linear_model.LogisticRegression"',
        f'"spawning_model.Spawning"\n    on_failure alert "training broke"\n{settings}',
        1), "utf-8")
    (folder / "spawning_model.py").write_text(
        SPAWNING_MODEL.replace("MODE", repr(worker)), "utf-8")
    (folder / "pyproject.toml").write_text(
        '[tool.pipec]\nallowed_model_modules = ["sklearn", "spawning_model"]\n', "utf-8")
    output = folder / "build"
    output.mkdir()
    for name, text in build(path, "local", output).files.items():
        (output / name).write_text(text, "utf-8")
    return output / "run_spend.py"


def _running(folder: Path) -> bool:
    """Whether the worker the model started still holds its lock. Not its pid probed: a
    worker whose parent is gone may stay a zombie, dead but never reaped, where the init
    process does not reap (a container's); a process that ended holds no lock."""
    with open(folder / "worker.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def _end_worker(folder: Path) -> None:
    """The worker, if this test failed and left it running."""
    pid_file = folder / "worker.pid"
    if pid_file.exists() and _running(folder):
        os.kill(int(pid_file.read_text("utf-8")), signal.SIGKILL)


def test_a_timed_out_stage_leaves_no_process_behind(tmp_path: Path) -> None:
    """The worker ignores SIGTERM: only the SIGKILL to the stage's group ends it, once
    the stage recorded its failure. No retry follows, so the stage alerts. The timeout
    leaves the stage time to start its worker first: that took 10 s on a loaded machine."""
    script = _script(tmp_path, "ignore", "    timeout 60s\n    retries 0")
    try:
        run = subprocess.run([sys.executable, str(script), "--retry-delay", "0"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert (tmp_path / "worker.pid").exists(), \
            "the fit had not started its worker when the stage timed out" + run.stderr
        assert run.returncode == 2, run.stdout + run.stderr
        assert "train.model: timed out after 60" in run.stderr
        assert "train.model: stopped by SIGTERM" in run.stdout
        assert (run.stdout + run.stderr).count(ALERT) == 1
        assert not _running(tmp_path)
    finally:
        _end_worker(tmp_path)


@pytest.mark.parametrize(("sent", "signum"), [(signal.SIGTERM, signal.SIGTERM),
                                              (signal.SIGINT, signal.SIGINT),
                                              (signal.SIGHUP, signal.SIGTERM)])
def test_a_stopped_script_stops_what_its_stage_started(tmp_path: Path, sent: int,
                                                       signum: int) -> None:
    """The script is stopped while the stage fits: the worker gets the same signal as
    the stage. The stage has a retry left, which a stopped script does not make: with
    SIGTERM the stage holds its alert back for it and `--record-stop` prints it; with
    SIGINT the stage knows no retry follows and prints it itself. Once either way. A
    hangup (the terminal closed) stops the stage with SIGTERM: in a session of its own,
    it would not get the hangup, and would run on."""
    script = _script(tmp_path, "mark", "    retries 1")
    proc = subprocess.Popen([sys.executable, str(script), "--retry-delay", "0"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 300
        while not (tmp_path / "worker.pid").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the fit never started its worker"
            time.sleep(0.1)
        proc.send_signal(sent)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 128 + signum, out + err
        assert (tmp_path / f"worker-got-{signal.Signals(signum).name}").exists()
        assert not _running(tmp_path)
        assert (out + err).count(ALERT) == 1, out + err
        assert "retry 1 of 1" not in err
        # The run's record lists the alert too (written by the stage, or by
        # `--record-stop` with the alert the attempt held back).
        run_id = re.search(r"^run ([0-9a-f]+)$", err, re.M).group(1)
        record = latest_record(tmp_path, run_id)
        assert [a["stage"] for a in record["report"].get("alerts", [])] == ["train.model"], \
            record["report"]
    finally:
        proc.kill()
        proc.wait()
        _end_worker(tmp_path)
