"""Crash safety of the runtime: `pipec run` killed with SIGKILL at random moments, and at
chosen points between two writes, leaves a consistent store, run index and registry, and
the next run completes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .project import (
    pipec,
    pipec_command,
    program,
    registry_problems,
    sqlite_ok,
    store_problems,
    write_project,
)

DRIVER = Path(__file__).with_name("crash_driver.py")


def consistency_problems(project: Path) -> list[str]:
    problems = store_problems(project)
    index = project / ".pipec" / "index.sqlite"
    if index.is_file() and not sqlite_ok(index):
        problems.append("index.sqlite fails PRAGMA integrity_check")
    problems += registry_problems(project)
    objects = project / "registry" / "objects"
    for path in sorted(objects.glob("*.skops")) if objects.is_dir() else []:
        import hashlib

        if hashlib.sha256(path.read_bytes()).hexdigest() != path.stem:
            problems.append(f"registry file {path.name[:12]} does not hash to its name")
    return problems


def _rerun_succeeds(project: Path, path: Path) -> None:
    done = pipec("run", str(path), cwd=project)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert consistency_problems(project) == []


def _kill_after(command: list[str], cwd: Path, delay: float) -> int | None:
    """Start `command`, SIGKILL it after `delay` seconds; its exit status if it ended first."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=os.environ | {"PYTHONHASHSEED": "0"})
    try:
        return process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return None


@pytest.mark.slow
def test_random_sigkills_leave_consistent_state(tmp_path: Path) -> None:
    rng = random.Random(20261126)
    path = write_project(tmp_path)
    started = time.monotonic()
    done = pipec("run", str(path), cwd=tmp_path)  # a first version to be champion
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    full = time.monotonic() - started
    killed = 0
    for iteration in range(5):
        # A new C retrains: the kill can land in any stage, from parsing to promotion.
        path.write_text(program(c=round(0.1 + iteration * 0.37, 2)), "utf-8")
        status = _kill_after(pipec_command("run", str(path)), tmp_path,
                             rng.uniform(0.5, full * 0.95))
        killed += status is None
        assert consistency_problems(tmp_path) == [], f"after kill {iteration}"
    assert killed >= 2  # the kills really landed mid-run
    _rerun_succeeds(tmp_path, path)


# (function, call number, before/after): the kill lands exactly there.
CRASH_POINTS = [
    ("os:fsync", 3, "before"),  # a store object written, not yet renamed into objects/
    ("pipec.stdlib.runtime.store:ArtifactStore._commit", 5, "before"),
    ("pipec.stdlib.runtime.store:RunIndex.finish_stage", 4, "before"),
    ("pipec.stdlib.runtime.registry:Registry._store", 1, "after"),  # file, no row yet
    ("pipec.stdlib.runtime.registry:_log", 1, "before"),  # inside the register transaction
    ("pipec.stdlib.runtime.registry:Registry.promote", 1, "before"),
    ("pipec.stdlib.runtime.registry:_log", 2, "after"),  # inside the promote transaction
    # The end of a run: its record and its `succeeded` row, in either order of the two.
    ("pipec.stdlib.runtime.runner:write_run_record", 1, "before"),
    ("pipec.stdlib.runtime.store:RunIndex.finish_run", 1, "after"),
    ("pipec.stdlib.runtime.records:RunRecords.write", 1, "before"),
]


@pytest.mark.slow
def test_kills_at_chosen_points_leave_consistent_state(tmp_path: Path) -> None:
    path = write_project(tmp_path)
    for number, (target, nth, when) in enumerate(CRASH_POINTS):
        path.write_text(program(c=round(0.2 + number * 0.29, 2)), "utf-8")
        done = subprocess.run([sys.executable, str(DRIVER), target, str(nth), when, "--",
                               "run", str(path)], cwd=tmp_path, capture_output=True, text=True,
                              timeout=300, env=os.environ | {"PYTHONHASHSEED": "0"})
        assert done.returncode == -signal.SIGKILL, (target, done.returncode, done.stderr[-2000:])
        assert consistency_problems(tmp_path) == [], (target, nth, when)
    _rerun_succeeds(tmp_path, path)
