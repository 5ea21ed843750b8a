"""What the targets do with a stage's `timeout` beyond carrying its value: a stage past
it is stopped with SIGTERM and, if it is still running after a grace period, killed,
so that no attempt runs on beside its retry or after the run ended. Kubernetes does
that for a pod (Argo, Airflow's KubernetesPodOperator) and the local script for its
stage; the Airflow BashOperator's own `on_kill` only sends SIGTERM."""

from __future__ import annotations

import ast
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .backend_helpers import build, module_constants

# A stage busy in native code: SIGTERM does not stop it (Python runs its handler only
# between bytecodes). It says when it is ready, then sleeps.
IGNORES_SIGTERM = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                   "print('ready', flush=True); time.sleep(60)")
STOPS_AT_SIGTERM = "import sys, time; print('ready', flush=True); time.sleep(60)"


def _generated(programs: dict[str, Path], tmp_path: Path, target: str,
               operator: str = "bash") -> str:
    files = build(programs["fraud_detection"], target, tmp_path / f"{target}-{operator}",
                  operator).files
    (text,) = [t for name, t in files.items() if name.endswith(".py")]
    return text


def _kill_after_grace(source: str, grace: float) -> Callable[[subprocess.Popen], None]:
    """The DAG file's `_kill_after_grace`, run without Airflow, with STOP_GRACE_S=grace."""
    module = ast.parse(source)
    (function,) = [node for node in module.body if isinstance(node, ast.FunctionDef)
                   and node.name == "_kill_after_grace"]
    namespace = {"contextlib": contextlib, "os": os, "signal": signal,
                 "subprocess": subprocess, "STOP_GRACE_S": grace}
    exec(compile(ast.Module([function], []), "dag.py", "exec"), namespace)
    return namespace["_kill_after_grace"]


def _stage_on_kill(source: str) -> ast.FunctionDef | None:
    module = ast.parse(source)
    (operator,) = [node for node in module.body if isinstance(node, ast.ClassDef)
                   and node.name == "StageOperator"]
    found = [node for node in operator.body
             if isinstance(node, ast.FunctionDef) and node.name == "on_kill"]
    return found[0] if found else None


def _stage(code: str) -> subprocess.Popen:
    """A stage process in a session of its own, as Airflow's SubprocessHook starts it,
    once it is ready; then sent SIGTERM as BashOperator's `on_kill` sends it."""
    stage = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             start_new_session=True)
    assert stage.stdout is not None and stage.stdout.readline() == b"ready\n"
    os.killpg(stage.pid, signal.SIGTERM)
    return stage


class _Watched:
    """A stage's process, with the timeout of each wait for it (how long the grace is,
    read from the calls rather than from a clock)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process, self.pid, self.waits = process, process.pid, []

    def wait(self, timeout: float | None = None) -> int:
        self.waits.append(timeout)
        return self.process.wait(timeout=timeout)


def test_a_bash_stage_that_outlives_sigterm_is_killed_after_the_grace(programs, tmp_path):
    """Past its `timeout`, BashOperator sent the stage's process group SIGTERM and
    nothing more; that group is a session of its own and outlives the task, so a stage
    in native code ran on beside its retry and after the DAG run ended (two attempts
    writing the run store at once). StageOperator.on_kill now kills it after the grace,
    as Kubernetes kills a pod and the local script its stage."""
    source = _generated(programs, tmp_path, "airflow")
    on_kill = _stage_on_kill(source)
    assert on_kill is not None and "_kill_after_grace" in ast.unparse(on_kill)
    stage = _stage(IGNORES_SIGTERM)
    watched = _Watched(stage)
    try:
        _kill_after_grace(source, grace=1)(watched)
        ended = stage.poll()  # as `_kill_after_grace` left it, before any cleanup here
    finally:
        with contextlib.suppress(ProcessLookupError):
            stage.kill()
        stage.wait()
    assert ended == -signal.SIGKILL
    assert watched.waits[0] == 1  # killed once the grace ran out, not the stage's end


def test_a_bash_stage_that_stops_at_sigterm_is_not_killed(programs, tmp_path):
    """A stage that stops at SIGTERM has recorded its failure: it is waited for, not
    killed."""
    stage = _stage(STOPS_AT_SIGTERM)
    try:
        _kill_after_grace(_generated(programs, tmp_path, "airflow"), grace=30)(stage)
    finally:
        with contextlib.suppress(ProcessLookupError):
            stage.kill()
        stage.wait()
    assert stage.returncode == -signal.SIGTERM


def test_the_grace_is_the_local_scripts(programs, tmp_path):
    """The same grace before SIGKILL in the Airflow DAG and in the local script."""
    airflow = module_constants(_generated(programs, tmp_path, "airflow"))
    local = module_constants(_generated(programs, tmp_path, "local"))
    assert airflow["STOP_GRACE_S"] == local["STOP_GRACE_S"] == 30


def test_a_pod_is_left_to_kubernetes(programs, tmp_path):
    """KubernetesPodOperator's `on_kill` deletes the pod, which Kubernetes kills after
    its grace period: the DAG adds nothing there."""
    source = _generated(programs, tmp_path, "airflow", "kubernetes")
    assert _stage_on_kill(source) is None
    assert "STOP_GRACE_S" not in module_constants(source)

