"""Processes racing on one run store or one registry: a run ended again by several stages
at once, a promotion or an approval while another process changes the version, and a
registry folder pipec may not write.

Each race is made certain rather than left to timing: the child processes start at one
moment, set once every one of them is ready (not guessed from how long an interpreter
takes to start, which a loaded machine stretches), and where the window is a few
microseconds, a child widens it by slowing down the step before the write (as hashing a
large model does), or by waiting there until the test has acted."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pipec.stdlib.runtime.records import RunRecords
from pipec.stdlib.runtime.registry import Registry, RegistryError
from pipec.stdlib.runtime.serialize import sha256

# A bound on each wait, far above what a step takes even on a loaded machine: it only
# ends a test whose child hung.
DEADLINE_S = 300

# Prepended to each child's script: `start_together(folder)` says the child is ready,
# then waits for the moment the test sets once all are, and returns at that moment.
START_TOGETHER = """
import os, time
from pathlib import Path

def start_together(meeting):
    meeting = Path(meeting)
    (meeting / f"ready-{os.getpid()}").touch()
    start = meeting / "start"
    while not start.exists():
        time.sleep(0.01)
    moment = float(start.read_text())
    while time.time() < moment:
        pass
"""


def _together(script: str, *args: str, meeting: Path, copies: int = 4) -> None:
    """Run `copies` processes of `script` (argv: args, then the folder `meeting` for
    `start_together`), and start them at one moment once every one is ready."""
    meeting.mkdir()
    processes = [subprocess.Popen([sys.executable, "-c", START_TOGETHER + script, *args,
                                   str(meeting)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(copies)]
    try:
        deadline = time.monotonic() + DEADLINE_S
        while len(list(meeting.glob("ready-*"))) < copies:
            for process in processes:
                assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the children never got ready"
            time.sleep(0.01)
        # Written whole (renamed into place): a child never reads half of it.
        (meeting / "start.part").write_text(str(time.time() + 0.5))
        os.replace(meeting / "start.part", meeting / "start")
        for process in processes:
            _out, err = process.communicate(timeout=DEADLINE_S)
            assert process.returncode == 0, err[-2000:]
    finally:
        for process in processes:
            process.kill()
            process.wait()


def _record(status: str) -> dict[str, object]:
    return {"run_id": "run1", "pipeline": "spend", "status": status,
            "stages": [{"stage_id": "approval.model", "status": status}], "report": {}}


END_AGAIN = """
import sys
from pathlib import Path
from pipec.stdlib.runtime.records import RunRecords
records = RunRecords(Path(sys.argv[1]))
start_together(sys.argv[2])
records.write({"run_id": "run1", "pipeline": "spend", "status": "succeeded",
               "stages": [{"stage_id": "approval.model", "status": "succeeded"}],
               "report": {}})
records.close()
"""


def test_stages_ending_a_run_again_at_once_write_one_continuation(tmp_path: Path) -> None:
    """A run that waited for approval goes on, and parallel branches end it together:
    one continuation, as for a first record, not one per stage (each continuing the
    first record, so the chain of records forks)."""
    records = RunRecords(tmp_path)
    try:
        records.write(_record("waiting"))
        _together(END_AGAIN, str(tmp_path), meeting=tmp_path / "meeting")
        rows = records.db.execute("SELECT seq, status FROM run_continuations").fetchall()
        assert rows == [(1, "succeeded")]
        assert records.get("run1")["status"] == "succeeded"
    finally:
        records.close()


def _registry_with_two_versions(folder: Path, info: dict[str, object]) -> Registry:
    registry = Registry(folder)
    for number in (1, 2):
        data = f"model bytes {number}".encode()
        registry.register("model", data, sha256(data), run_id=f"run{number}",
                          report_sha256=str(number) * 64, info=info, actor="test")
    return registry


SLOW_PROMOTE = """
import sys, time
from pathlib import Path
from pipec.stdlib.runtime.registry import Registry, RegistryError

checked = Registry.verify

def verify_then_wait(self, entry):  # as hashing a large model takes a while
    checked(self, entry)
    Path(sys.argv[2]).touch()
    # Meanwhile the test refuses the version; the guard only ends a test that hung.
    guard = time.monotonic() + 300
    while not Path(sys.argv[3]).exists() and time.monotonic() < guard:
        time.sleep(0.01)

Registry.verify = verify_then_wait
registry = Registry(Path(sys.argv[1]))
try:
    registry.promote("model", 2, actor="alice", reason="by hand")
except RegistryError as exc:
    print(exc)
"""


def test_a_promotion_sees_a_version_a_run_refused_meanwhile(tmp_path: Path) -> None:
    """`registry promote` while a retrain evaluates the same bytes and they fail their
    gates: the version must not become production with its refusal recorded."""
    registry = _registry_with_two_versions(tmp_path / "registry", {})
    try:
        registry.promote("model", 1, actor="test", reason="first")
        checked, refused = tmp_path / "checked", tmp_path / "refused"
        promote = subprocess.Popen(
            [sys.executable, "-c", SLOW_PROMOTE, str(tmp_path / "registry"), str(checked),
             str(refused)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + DEADLINE_S
        while not checked.exists():
            assert promote.poll() is None, promote.communicate()
            assert time.monotonic() < deadline, "the promotion never checked the file"
            time.sleep(0.01)
        registry.mark_unblessed(registry.get("model", 2), run_id="retrain",
                                report_sha256="e" * 64, failed=["primary"])
        refused.touch()  # the promotion goes on, with the refusal recorded before it
        out, err = promote.communicate(timeout=DEADLINE_S)
        assert promote.returncode == 0, err[-2000:]
        assert "failed its gates" in out
        assert registry.get("model", 2).state == "candidate"
        assert registry.production("model").version == 1
    finally:
        registry.close()


SLOW_APPROVE = """
import sys, time
from pathlib import Path
from pipec.stdlib.runtime.registry import Registry

found = Registry.approval

def approval_then_wait(self, *args, **kwargs):  # widens the window between check and write
    given = found(self, *args, **kwargs)
    time.sleep(0.3)
    return given

Registry.approval = approval_then_wait
registry = Registry(Path(sys.argv[1]))
start_together(sys.argv[2])
registry.approve("model", 2, approver="bob", team="risk")
"""


def test_one_team_approving_from_processes_at_once_is_recorded_once(tmp_path: Path) -> None:
    """Two reviewers of one team (or an orchestrator's retried approval step) approving
    together: `approve` records nothing when the team already approved the report."""
    registry = _registry_with_two_versions(tmp_path / "registry", {"approval_by": "risk"})
    try:
        _together(SLOW_APPROVE, str(tmp_path / "registry"), meeting=tmp_path / "meeting",
                  copies=3)
        count = registry.db.execute("SELECT count(*) FROM approvals").fetchone()[0]
        assert count == 1
    finally:
        registry.close()


def test_a_registry_pipec_may_not_write_is_not_called_damaged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry on a read-only mount (or another user's folder): opened as SQLite opens
    a file it may not write (chmod does not stop root, who may run the tests)."""
    Registry(tmp_path / "registry").close()
    connect = sqlite3.connect

    def read_only(database: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        kwargs.pop("uri", None)
        return connect(f"file:{database}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only)
    with pytest.raises(RegistryError) as raised:
        Registry(tmp_path / "registry")
    assert "is not writable" in str(raised.value)
    assert "damaged" not in str(raised.value)
