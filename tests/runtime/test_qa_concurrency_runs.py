"""Two `pipec run`s of one pipeline on one project at once (two terminals, a scheduled
retrain beside a manual run), and a `pipec run` killed while it holds a stage.

The interleavings are forced, not hoped for: a run started through `PAUSED` stops inside
the stages it is told to (before the stage's work, after its cache was looked up), says
so with a file `at-KIND`, and goes on when the test creates `go-KIND`. What a run waiting
for its turn at a stage prints (`runner.QUEUED`) tells the test it is waiting there."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from model.project import latest_record, write_project
from pipec.stdlib.runtime.registry import Registry
from pipec.stdlib.runtime.runner import QUEUED

PAUSED = """
import dataclasses, sys, time
from pathlib import Path
from pipec.stdlib.runtime import stage

marks = Path(sys.argv[1])

def paused(kind, run):
    def wrapper(ctx):
        (marks / f"at-{kind}").touch()
        while not (marks / f"go-{kind}").exists():
            time.sleep(0.05)
        return run(ctx)
    return wrapper

for kind in filter(None, sys.argv[2].split(",")):
    runner = stage.STAGE_RUNNERS[kind]
    stage.STAGE_RUNNERS[kind] = dataclasses.replace(runner, run=paused(kind, runner.run))
from pipec.cli import main
sys.exit(main(sys.argv[3:]))
"""

DEADLINE_S = 300  # a bound on each wait, far above what a step takes


class Run:
    """A `pipec run` in the background, its output in a file the test can read while it
    runs, its pause marks in a folder of its own."""

    def __init__(self, tmp: Path, name: str, pipe: Path, pauses: str = "") -> None:
        self.marks = tmp / f"marks-{name}"
        self.marks.mkdir()
        self.out = tmp / f"{name}.out"
        with open(self.out, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", PAUSED, str(self.marks), pauses, "run", str(pipe)],
                cwd=pipe.parent, stdout=out, stderr=subprocess.STDOUT, text=True)

    def at(self, kind: str) -> bool:
        return (self.marks / f"at-{kind}").exists()

    def go(self, kind: str) -> None:
        (self.marks / f"go-{kind}").touch()

    def says(self, line: str) -> bool:
        return line in self.out.read_text()

    def ended(self) -> bool:
        return self.process.poll() is not None

    def finish(self) -> int:
        return self.process.wait(timeout=DEADLINE_S)


def _until(what: str, *conditions: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not any(condition() for condition in conditions):
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


@contextmanager
def _cleaned_up(runs: list[Run]) -> Iterator[None]:
    try:
        yield
    finally:
        for run in runs:
            run.process.kill()
            run.process.wait()


def _pipec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=DEADLINE_S)


def _run_id(run: Run) -> str:
    return next(line.split()[1].rstrip(":") for line in run.out.read_text().splitlines()
                if line.startswith("run "))


def _evaluation(project: Path, run: Run) -> str:
    record = latest_record(project, _run_id(run))
    assert record is not None
    return record["evaluations"]["model"]["report_sha256"]


def _queued(stage_id: str) -> str:
    return f"{stage_id}: {QUEUED}"


def test_an_approval_of_two_runs_at_once_holds_at_the_next_run(tmp_path: Path) -> None:
    """Both runs evaluated the same model side by side, with two reports (latency is
    measured anew). The cache kept the one evaluated last, the registry the one
    registered last: the approval given was bound to the registry's, the next run took
    the cached one, registered it again, and waited for an approval once more. A run now
    waits for the other's evaluation and takes it: one report, and the approval holds."""
    project = tmp_path / "project"
    project.mkdir()
    pipe = write_project(project, approval=True)
    first = Run(tmp_path, "first", pipe, "evaluate,register")
    runs = [first]
    with _cleaned_up(runs):
        _until("the first run evaluates", lambda: first.at("evaluate"))
        second = Run(tmp_path, "second", pipe, "evaluate")
        runs.append(second)
        _until("the second run reaches the evaluation", lambda: second.at("evaluate"),
               lambda: second.says(_queued("evaluate.model")))
        first.go("evaluate")
        _until("the first run registers", lambda: first.at("register"))
        second.go("evaluate")  # if it evaluates too: after the first, so its report is cached
        _until("the second run registers", second.ended,
               lambda: second.says(_queued("register.model")))
        first.go("register")  # registered last
        assert (first.finish(), second.finish()) == (3, 3)  # both wait for the approval
    assert _evaluation(project, first) == _evaluation(project, second)
    approved = _pipec("registry", "approve", "model@1", "--by", "risk", "--approver", "ana",
                      cwd=project)
    assert approved.returncode == 0, approved.stderr
    again = _pipec("run", pipe.name, cwd=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "model v1 production" in again.stdout


def test_a_run_killed_while_it_holds_a_stage_holds_no_other_run(tmp_path: Path) -> None:
    """`pipec run` SIGKILLed while it trains (another run queued behind it at that
    stage): its turn at the stage ends with it, as the kernel releases the lock of a
    process that ended; the queued run trains and completes, and so does a run after it,
    every stage then from the cache."""
    project = tmp_path / "project"
    project.mkdir()
    pipe = write_project(project)
    killed = Run(tmp_path, "killed", pipe, "train")
    runs = [killed]
    with _cleaned_up(runs):
        _until("the first run trains", lambda: killed.at("train"))
        queued = Run(tmp_path, "queued", pipe)
        runs.append(queued)
        _until("the second run reaches the training", queued.ended,
               lambda: queued.says(_queued("train.model")))
        killed.process.kill()
        assert killed.finish() == -9
        assert queued.finish() == 0, queued.out.read_text()
    assert "train.model: ran" in queued.out.read_text()
    again = _pipec("run", pipe.name, cwd=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "train.model: skipped (cached)" in again.stdout
    registry = Registry(project / "registry")
    try:
        assert registry.integrity() == []
        assert [v.state for v in registry.versions("model")] == ["production"]
    finally:
        registry.close()


def test_an_orchestrators_task_waits_for_a_pipec_run_making_the_same_stage(
        tmp_path: Path) -> None:
    """`pipec stage run` (what the local script, Airflow and Argo run) took no turn: a
    task trained the model beside a `pipec run` training it. It now waits, then finds
    the model in the cache."""
    project = tmp_path / "project"
    project.mkdir()
    pipe = write_project(project)
    built = _pipec("build", pipe.name, "--target", "local", "-o", "out", cwd=project)
    assert built.returncode == 0, built.stderr
    (script,) = (project / "out").glob("run_*.py")
    first = Run(tmp_path, "first", pipe, "train")
    runs = [first]
    with _cleaned_up(runs):
        _until("the pipec run trains", lambda: first.at("train"))
        out = tmp_path / "script.out"
        with open(out, "w") as sink:
            task = subprocess.Popen([sys.executable, str(script), "--retry-delay", "0"],
                                    cwd=project, stdout=sink, stderr=subprocess.STDOUT)
        try:
            _until("the script's train task queues",
                   lambda: _queued("train.model") in out.read_text(),
                   lambda: task.poll() is not None)
            assert task.poll() is None, out.read_text()
            first.go("train")
            assert first.finish() == 0
            assert task.wait(timeout=DEADLINE_S) == 0, out.read_text()
        finally:
            task.kill()
            task.wait()
    assert "train.model: skipped (cached)" in out.read_text(), out.read_text()
