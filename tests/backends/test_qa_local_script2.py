"""The local target's script says how the run ended once, at its end: each stage that
stopped a branch rewrote the run's record and printed `run RUN: STATUS, record SHA`, so a
run with three pending approvals said it three times, with three different hashes."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

from model.project import add_second_model, latest_record, write_project
from pipec.cli import main

from .backend_helpers import build


def _script_module(programs, tmp_path: Path) -> types.ModuleType:
    """The fraud example's local script, loaded as a module (its `main` not run)."""
    files = build(programs["fraud_detection"], "local", tmp_path).files
    (text,) = [t for name, t in files.items() if name.startswith("run_")]
    module = types.ModuleType("generated_run")
    module.__file__ = str(tmp_path / "run.py")
    exec(compile(text, module.__file__, "exec"), module.__dict__)
    return module


def _run_script(path: Path, run_id: str) -> subprocess.CompletedProcess[str]:
    build = path.parent / "build"
    assert main(["build", str(path), "--target", "local", "-o", str(build)]) == 0
    env = {k: v for k, v in os.environ.items() if k != "PIPEC_RUN_ID"}
    return subprocess.run([sys.executable, str(build / "run_spend.py"), "--retry-delay", "0",
                           "--run-id", run_id], capture_output=True, text=True, env=env,
                          timeout=600)


def test_a_run_stopped_on_two_branches_says_its_end_once(tmp_path: Path) -> None:
    path = write_project(tmp_path, approval=True)  # the model's branch waits for approval
    add_second_model(path)
    # The second model's branch blocks at its gate, after the first one's stop or before.
    path.write_text(path.read_text("utf-8").replace(
        "  evaluate other {\n    primary roc_auc >= 0.5\n",
        "  evaluate other {\n    primary roc_auc >= 0.999\n"), "utf-8")
    script = _run_script(path, "two1")
    assert script.returncode == 1, script.stdout + script.stderr  # a block outranks a wait
    said = [line for line in script.stdout.splitlines() if line.startswith("run two1:")]
    record = latest_record(tmp_path, "two1")
    assert record is not None and record["status"] == "blocked"
    assert len(said) == 1 and said[0].startswith("run two1: blocked, record ")
    assert script.stdout.rstrip().endswith(said[0])  # the last line, after every stage
    assert "approval.model: model v1 waits for approval by risk" in script.stdout


class _Said:
    """`subprocess.Popen` and `subprocess.run` of the script, recording each argv."""

    def __init__(self) -> None:
        self.argvs: list[list[str]] = []

    def popen(self, argv: list[str], **_: object) -> _Said:
        self.argvs.append(argv)
        return self

    def run(self, argv: list[str], **_: object) -> None:
        self.argvs.append(argv)

    def __enter__(self) -> _Said:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def wait(self, timeout: float | None = None) -> int:
        return 0


def test_a_stopped_script_says_the_runs_end_once_after_recording_the_stop(
        programs, tmp_path: Path, monkeypatch) -> None:
    """Stopped by Ctrl-C, the record is written by the stage or by `--record-stop`,
    neither of which says it (`--no-run-line`): the script then says it once."""
    import signal

    script = _script_module(programs, tmp_path)
    said = _Said()
    monkeypatch.setattr(script.subprocess, "Popen", said.popen)
    monkeypatch.setattr(script.subprocess, "run", said.run)
    monkeypatch.setattr(script.signal, "signal", lambda *_: None)  # this process's own
    monkeypatch.setattr(script, "RUN_ID", "s1")
    script.record_stop("train.fraud_gbm", signal.SIGINT)
    (stop, end) = said.argvs
    assert "--record-stop" in stop and "--no-run-line" in stop
    assert "--say-run-end" in end and end[-2:] == ["--run-id", "s1"]


def test_say_run_end_without_a_record_is_an_error(tmp_path: Path, capsys) -> None:
    path = write_project(tmp_path)
    build = tmp_path / "build"
    assert main(["build", str(path), "--target", "local", "-o", str(build)]) == 0
    capsys.readouterr()
    assert main(["stage", "run", "--manifest", str(build / "lineage.json"), "--stage",
                 "deploy.model", "--say-run-end", "--run-id", "none1"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "run none1 has no record" in err
    # Only read: the project, where no run was recorded, gets no `.pipec` folder.
    assert not (tmp_path / ".pipec").exists()
