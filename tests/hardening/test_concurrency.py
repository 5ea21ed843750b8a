"""Concurrency: two `pipec run`, or `registry promote` and `rollback`, on one project at
once end in a consistent registry: one production version, every transition recorded."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .project import (
    pipec,
    pipec_command,
    production_count,
    program,
    registry_problems,
    sqlite_ok,
    store_problems,
    write_project,
)


def _together(commands: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Start every command at once; wait for all."""
    env = os.environ | {"PYTHONHASHSEED": "0"}
    processes = [subprocess.Popen(c, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env) for c in commands]
    done = []
    for command, process in zip(commands, processes, strict=True):
        out, err = process.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return done


def _assert_consistent(project: Path) -> None:
    assert store_problems(project) == []
    assert sqlite_ok(project / ".pipec" / "index.sqlite")
    assert registry_problems(project) == []
    assert production_count(project) == 1


def _assert_clean(done: subprocess.CompletedProcess[str], allowed: tuple[int, ...]) -> None:
    assert done.returncode in allowed, (done.args, done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert "database is locked" not in done.stdout + done.stderr


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A registry with three candidate versions of `model`, written through the API (the
    race is about registry transactions; `test_two_runs_at_once` covers real runs)."""
    from pipec.stdlib.runtime.records import RunRecords
    from pipec.stdlib.runtime.registry import Registry
    from pipec.stdlib.runtime.serialize import sha256
    from pipec.stdlib.runtime.store import RunIndex

    RunIndex(tmp_path).close()
    RunRecords(tmp_path).close()
    registry = Registry(tmp_path / "registry")
    try:
        for number in range(3):
            data = f"model bytes {number}".encode()
            registry.register("model", data, sha256(data), run_id=f"run{number}",
                              report_sha256="0" * 64, info={}, actor="test")
        registry.promote("model", 1, actor="test", reason="first")
    finally:
        registry.close()
    return tmp_path


@pytest.mark.slow
def test_two_runs_at_once(tmp_path: Path) -> None:
    path = write_project(tmp_path)
    other = tmp_path / "spend_other.pipe"
    other.write_text(program(c=0.2), "utf-8")
    for round_ in range(2):  # the same file twice, then two files training different models
        second = path if round_ == 0 else other
        for done in _together([pipec_command("run", str(path)),
                               pipec_command("run", str(second))], tmp_path):
            _assert_clean(done, (0,))
        _assert_consistent(tmp_path)
    again = pipec("run", str(path), cwd=tmp_path)
    _assert_clean(again, (0,))
    _assert_consistent(tmp_path)


def _transitions(project: Path) -> list[dict]:
    from pipec.stdlib.runtime.registry import Registry

    registry = Registry(project / "registry")
    try:
        return registry.transitions("model")
    finally:
        registry.close()


def test_promotes_and_rollbacks_race(project: Path) -> None:
    copy = project
    versions = ("model@1", "model@2", "model@3")
    rounds = [
        [["registry", "promote", versions[0]], ["registry", "promote", versions[1]]],
        [["registry", "promote", versions[2]], ["registry", "promote", versions[2]]],
        [["registry", "rollback", "model"], ["registry", "promote", versions[0]]],
        [["registry", "promote", versions[1]], ["registry", "rollback", "model"],
         ["registry", "promote", versions[2]]],
        [["registry", "rollback", "model"], ["registry", "rollback", "model"]],
    ]
    for commands in rounds:
        before = len(_transitions(copy))
        results = _together([pipec_command(*c, "--project", str(copy)) for c in commands],
                            copy)
        for done in results:
            # A rollback may find nothing to roll back to: exit 2 with a message.
            _assert_clean(done, (0, 2) if "rollback" in done.args else (0,))
        _assert_consistent(copy)
        transitions = _transitions(copy)
        changed = [d for d in results if d.returncode == 0]
        # Every command that changed the production version left its transitions.
        assert len(transitions) >= before + (1 if changed else 0)
        productions = [t for t in transitions[before:] if t["to_state"] == "production"]
        promoted = {d.stdout.split(" is production")[0].strip() for d in changed}
        assert {f"{t['model']}@{t['version']}" for t in productions} <= promoted


HAMMER = """
import random, sys
from pipec.stdlib.runtime.errors import PipecRuntimeError
from pipec.stdlib.runtime.registry import Registry
rng = random.Random(int(sys.argv[2]))
registry = Registry(sys.argv[1])
for _ in range(25):
    try:
        if rng.random() < 0.3:
            registry.rollback("model", actor="hammer")
        else:
            registry.promote("model", rng.randint(1, 3), actor="hammer", reason="race")
    except PipecRuntimeError:
        pass  # nothing to roll back to
registry.close()
"""


def test_many_interleaved_promotions(project: Path) -> None:
    """Four processes each promote and roll back 25 times, through the registry API."""
    import sys

    before = len(_transitions(project))
    results = _together([[sys.executable, "-c", HAMMER, str(project / "registry"), str(seed)]
                         for seed in range(4)], project)
    for done in results:
        assert done.returncode == 0, done.stderr[-2000:]
    assert registry_problems(project) == []
    assert production_count(project) == 1
    assert len(_transitions(project)) > before + 50  # the operations really happened


OPEN_STORES = """
import sys
from pathlib import Path
from pipec.stdlib.runtime.records import RunRecords
from pipec.stdlib.runtime.registry import Registry
from pipec.stdlib.runtime.store import RunIndex
project = Path(sys.argv[1])
RunIndex(project).close()
RunRecords(project).close()
Registry(project / "registry").close()
"""


def test_processes_opening_a_new_project_at_once(tmp_path: Path) -> None:
    """Creating the run index and the registry races on the switch to WAL, which SQLite
    refuses at once rather than waiting: the opening must retry, not fail."""
    import subprocess
    import sys

    for attempt in range(8):
        project = tmp_path / f"p{attempt}"
        project.mkdir()
        procs = [subprocess.Popen([sys.executable, "-c", OPEN_STORES, str(project)],
                                  stderr=subprocess.PIPE, text=True) for _ in range(6)]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
