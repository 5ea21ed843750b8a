"""The local target's script retries what a retry can change: a failed, timed-out or
killed stage, never a blocked check or gate (1) or a pending approval (3), which `pipec stage
run` would answer the same way again (and `pipec run` never retries either)."""

from __future__ import annotations

import signal
import subprocess
import types

import pytest

from .backend_helpers import build


def _script(programs, tmp_path) -> types.ModuleType:
    files = build(programs["fraud_detection"], "local", tmp_path).files
    (text,) = [t for name, t in files.items() if name.startswith("run_")]
    (tmp_path / "lineage.json").write_text(files["lineage.json"], "utf-8")  # read by main
    module = types.ModuleType("generated_run")
    module.__file__ = str(tmp_path / "run.py")
    exec(compile(text, module.__file__, "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("statuses, calls, final", [
    ([2, 2, 0], 3, 0),  # failed twice, then done
    ([2, 2, 2], 3, 2),  # out of retries: the failure stands
    ([1], 1, 1),  # blocked: a check or gate said no, asking again changes nothing
    ([3], 1, 3),  # waiting for a human approval
    ([-9, 0], 2, 0),  # killed (out of memory, SIGKILL): retried, as the orchestrators do
    ([-9, -9, -9], 3, -9),  # killed every time: `main` reports it as a failure
])
def test_only_failures_are_retried(programs, tmp_path, statuses, calls, final):
    script = _script(programs, tmp_path)
    answers = iter(statuses)
    seen = []

    def run_stage(stage_id, timeout_s):
        seen.append(stage_id)
        return next(answers)

    script.run_stage = run_stage
    assert script.run_with_retries("validate.transactions", 2, None, 0) == final
    assert len(seen) == calls


def test_the_run_stops_with_the_stage_status(programs, tmp_path):
    script = _script(programs, tmp_path)
    script.run_stage = lambda stage_id, timeout_s: 1
    assert script.main(["--retry-delay", "0"]) == 1


def test_the_run_id_goes_to_each_stage_not_into_the_environment(programs, tmp_path,
                                                                monkeypatch):
    """Set in this process's environment, the id leaked into everything started after it
    (an Airflow run then took this run's id instead of its own)."""
    import os

    monkeypatch.delenv("PIPEC_RUN_ID", raising=False)
    script = _script(programs, tmp_path)
    argvs = []
    monkeypatch.setattr(script.subprocess, "Popen",
                        lambda argv, **_: argvs.append(argv) or FakeStage([0]))
    assert script.main(["--run-id", "r1", "--retry-delay", "0"]) == 0
    assert argvs and all(argv[-2:] == ["--run-id", "r1"] for argv in argvs)
    assert "PIPEC_RUN_ID" not in os.environ


class FakeStage:
    """A stage process whose successive `wait`s return these statuses, or time out
    (None); once it has a status, it keeps it."""

    pid = None  # no process to signal: the test replaces `signal_group`

    def __init__(self, waits):
        self.waits, self.signals, self.returncode = list(waits), [], None

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False

    def wait(self, timeout=None):
        if self.returncode is not None:
            return self.returncode
        status = self.waits.pop(0)
        if status is None:
            raise subprocess.TimeoutExpired("pipec", timeout)
        self.returncode = status
        return status


def signal_fake_group(stage, signum):
    """The script's `signal_group` for a FakeStage: which signal, and whether the stage
    itself was still running (else it reaches only what the stage left behind)."""
    stage.signals.append((signal.Signals(signum).name, stage.returncode is None))


@pytest.mark.parametrize("waits, signals", [
    # Stopped within the grace period, its failure recorded: SIGKILL only for whatever
    # it started that outlived it (tests/backends/test_backend_local_stops.py).
    ([None, -15], [("SIGTERM", True), ("SIGKILL", False)]),
    # Ignored SIGTERM: killed after the grace.
    ([None, None, -9], [("SIGTERM", True), ("SIGKILL", True)]),
])
def test_a_timed_out_stage_gets_sigterm_before_sigkill(programs, tmp_path, monkeypatch,
                                                       waits, signals):
    script = _script(programs, tmp_path)
    stage = FakeStage(waits)
    monkeypatch.setattr(script.subprocess, "Popen", lambda argv, **_: stage)
    script.signal_group = signal_fake_group
    assert script.run_stage("train.fraud_gbm", 5) == script.FAILED
    assert stage.signals == signals


@pytest.mark.parametrize("argv", [["--retry-delay", "-1"], ["--retry-delay", "nan"],
                                  ["--retry-delay", "inf"], ["--run-id", "a b"],
                                  ["--run-id", "../x"], ["--run-id", "x" * 121]])
def test_bad_arguments_are_a_usage_error_before_any_stage(programs, tmp_path, monkeypatch,
                                                          argv):
    """A negative or infinite delay crashed in `time.sleep` (exit 1, "blocked"); an odd
    run id failed the first stage, which was then retried after the delay."""
    script = _script(programs, tmp_path)
    monkeypatch.setattr(script.subprocess, "Popen", lambda *_a, **_k: pytest.fail("ran"))
    with pytest.raises(SystemExit) as exited:
        script.main(argv)
    assert exited.value.code == 2


def test_the_run_id_shape_is_the_stage_commands(programs, tmp_path):
    from pipec.commands.stage import RUN_ID

    assert _script(programs, tmp_path).RUN_ID_SHAPE.pattern == RUN_ID.pattern


def test_a_script_without_its_manifest_stops_before_any_stage(programs, tmp_path, capsys):
    """Copied without its `lineage.json`, every stage failed on it, each retried after the
    retry delay (300 s by default): the script now says so once, before any stage."""
    script = _script(programs, tmp_path)
    (tmp_path / "lineage.json").unlink()
    calls = []
    script.run_stage = lambda stage_id, timeout_s: calls.append(stage_id) or 0
    assert script.main(["--retry-delay", "0"]) == script.FAILED and calls == []
    assert "lineage.json is missing" in capsys.readouterr().err
