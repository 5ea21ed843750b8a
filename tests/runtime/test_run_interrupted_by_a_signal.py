"""Ctrl-C (SIGINT) or SIGTERM during `pipec run`: the stage that runs is recorded as
failed, the run ends with its record (status failed), and the exit status is 128 + the
signal. A second signal while the record is written waits for it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from model.project import latest_record, signal_once_fitting, write_slow_project
from pipec.stdlib.runtime.errors import Terminated, signals_stop_the_stage
from pipec.stdlib.runtime.records import RunRecords
from pipec.stdlib.runtime.store import RunIndex

# `pipec run`, with SIGTERM sent to itself when the run's record is about to be written:
# a second signal, after the first stopped the stage.
SECOND_SIGNAL = """
import os, signal, sys
from pipec.stdlib.runtime import runner
from pipec.cli import main

write = runner.write_run_record

def write_run_record(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)
    return write(*args, **kwargs)

runner.write_run_record = write_run_record
sys.exit(main(sys.argv[1:]))
"""


def _run_and_signal(folder: Path, command: list[str],
                    signum: int) -> tuple[int, str, str]:
    """Start `command`, send `signum` once the model's fit has begun. The child takes
    SIGINT by default even when this process ignores it (a job started in the background
    ignores SIGINT, and `pipec run` rightly keeps an ignored signal ignored)."""
    proc = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    out, err = signal_once_fitting(folder, proc, signum)
    return proc.returncode, out, err


def _only_run(folder: Path) -> tuple[str, str | None, str | None]:
    """The run's id, its status in the index and the train stage's."""
    index = RunIndex(folder)
    try:
        (run_id,) = [row[0] for row in index._con.execute("SELECT run_id FROM runs")]
        execution = index.execution(run_id, "train.model")
        return run_id, index.run_status(run_id), execution and execution.status
    finally:
        index.close()



@pytest.mark.parametrize(("signum", "code", "reason"), [
    (signal.SIGINT, 130, "interrupted by SIGINT"),
    (signal.SIGTERM, 143, "stopped by SIGTERM"),
])
def test_a_signal_during_a_stage_ends_the_run_with_its_record(
        tmp_path: Path, signum: int, code: int, reason: str) -> None:
    path = write_slow_project(tmp_path)
    returncode, out, err = _run_and_signal(
        tmp_path, [sys.executable, "-m", "pipec", "run", str(path)], signum)
    assert returncode == code, out + err
    assert f"failed: train.model: {reason}" in out
    assert "Traceback" not in err and "interrupted\n" not in err
    run_id, status, train = _only_run(tmp_path)
    assert (status, train) == ("failed", "failed")
    record = latest_record(tmp_path, run_id)
    assert record is not None and record["status"] == "failed"
    assert reason in record["report"]["error"]


def test_a_second_signal_waits_for_the_record(tmp_path: Path) -> None:
    """The SIGTERM that comes while the record is written is held off until it is
    written, then stops the process as SIGTERM does."""
    path = write_slow_project(tmp_path)
    returncode, out, err = _run_and_signal(
        tmp_path, [sys.executable, "-c", SECOND_SIGNAL, "run", str(path)], signal.SIGINT)
    assert returncode == -signal.SIGTERM, out + err
    run_id, status, _train = _only_run(tmp_path)
    assert status == "failed"
    record = latest_record(tmp_path, run_id)
    assert record is not None and "interrupted by SIGINT" in record["report"]["error"]


def test_a_signal_raises_terminated_only_while_the_stage_runs() -> None:
    seen: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, _frame: seen.append(signum))
    try:
        with pytest.raises(Terminated, match="told to stop") as raised, \
                signals_stop_the_stage({signal.SIGUSR1: "told to stop"}):
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(5)  # interrupted by the handler
        assert raised.value.signum == signal.SIGUSR1 and seen == []
        with signals_stop_the_stage({signal.SIGUSR1: "told to stop"}) as running:
            running.clear()  # the record is being written
            os.kill(os.getpid(), signal.SIGUSR1)
            assert seen == []  # held off
        assert seen == [signal.SIGUSR1]  # then given to the handler that was there before
        assert signal.getsignal(signal.SIGUSR1) is not None
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_sigterm_to_the_local_script_stops_its_stage_too(tmp_path: Path) -> None:
    """`build --target local`'s script sent SIGTERM mid-fit: it stops the stage it runs
    (which records its failure) instead of leaving it running on its own, retries
    nothing, and exits 143."""
    from pipec.cli import main

    path = write_slow_project(tmp_path)
    # Retries left: the stage's SIGTERM alone would leave the record to a retry.
    path.write_text(path.read_text("utf-8").replace("  owner ml\n", "  owner ml\n  retries 2\n",
                                                    1), "utf-8")
    assert main(["build", str(path), "--target", "local", "-o", str(tmp_path / "build")]) == 0
    env = {k: v for k, v in os.environ.items() if k != "PIPEC_RUN_ID"}
    proc = subprocess.Popen([sys.executable, str(tmp_path / "build" / "run_spend.py"),
                             "--retry-delay", "0"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = signal_once_fitting(tmp_path, proc, signal.SIGTERM)
    assert proc.returncode == 143, out + err
    assert "train.model: stopping it" in err and "retry" not in err
    run_id, status, train = _only_run(tmp_path)
    assert train == "failed"  # the stage recorded its stop before the script ended
    assert f"run {run_id}: stopped by signal 15" in err
    # and the run's record, although the stage had a retry left
    assert status == "failed"
    record = latest_record(tmp_path, run_id)
    assert record is not None and record["status"] == "failed"
    # What stopped it: SIGTERM, as the script was sent (it said SIGINT, which the script
    # passed on to have the stage write the record).
    assert "train.model: stopped by SIGTERM" in record["report"]["error"]


def _script_until(folder: Path, said: str, signum: int, *args: str) -> tuple[int, str]:
    """The local script (built beside `folder`'s spend.pipe), sent `signum` once its
    stderr says `said`: its exit status and stderr."""
    env = {k: v for k, v in os.environ.items() if k != "PIPEC_RUN_ID"}
    proc = subprocess.Popen([sys.executable, str(folder / "build" / "run_spend.py"), *args],
                            cwd=folder, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stderr:  # type: ignore[union-attr]
            lines.append(line)
            if said in line:
                proc.send_signal(signum)
                break
        rest = proc.communicate(timeout=120)[1]
        return proc.returncode, "".join(lines) + rest
    finally:
        proc.kill()


def test_a_signal_during_the_local_script_s_retry_delay_ends_the_run(tmp_path: Path) -> None:
    """SIGTERM while the script waits to retry a failed stage: no stage runs to record
    the stop, and the run stayed `running`, without a record. Now the run ends failed,
    with the failure and the stop in its record."""
    from model.project import write_project
    from pipec.cli import main

    path = write_project(tmp_path)
    (tmp_path / "data" / "events.parquet").write_bytes(b"not parquet")
    path.write_text(path.read_text("utf-8").replace("  owner ml\n", "  owner ml\n  retries 1\n",
                                                    1), "utf-8")
    assert main(["build", str(path), "--target", "local", "-o", str(tmp_path / "build")]) == 0
    code, err = _script_until(tmp_path, "retry 1 of 1 in 600", signal.SIGTERM,
                              "--retry-delay", "600")
    assert code == 143, err
    index = RunIndex(tmp_path)
    try:
        (run_id,) = [row[0] for row in index._con.execute("SELECT run_id FROM runs")]
        assert index.run_status(run_id) == "failed"
    finally:
        index.close()
    record = latest_record(tmp_path, run_id)
    assert record is not None and record["status"] == "failed"
    error = record["report"]["error"]
    assert error.startswith("source.events: source 'events'") and \
        error.endswith("(then stopped by SIGTERM, before a retry)"), error


def test_a_signal_between_two_stages_of_the_local_script_ends_the_run(
        tmp_path: Path) -> None:
    """The script stopped between two stages (here: as the first one ends): the run
    ends failed with its record, naming the stop, as `pipec run` records a signal
    between two stages; the stage that succeeded stays succeeded."""
    from model.project import write_project
    from pipec.cli import main
    from pipec.stdlib.runtime.runner import end_stopped_run

    path = write_project(tmp_path)
    assert main(["build", str(path), "--target", "local", "-o", str(tmp_path / "build")]) == 0
    build = tmp_path / "build"
    assert main(["stage", "run", "--manifest", str(build / "lineage.json"), "--stage",
                 "source.events", "--run-id", "b1"]) == 0
    import json
    manifest = json.loads((build / "lineage.json").read_text("utf-8"))
    ended = end_stopped_run(manifest, build, tmp_path, "b1", "source.events", signal.SIGINT)
    assert ended is not None and ended.status == "failed"
    record = latest_record(tmp_path, "b1")
    assert record is not None and record["status"] == "failed"
    assert record["report"]["error"] == \
        "stopped by SIGINT after source.events, before the next stage"
    assert [(s["stage_id"], s["status"]) for s in record["stages"]] == [
        ("source.events", "ran")]


def test_a_stage_stopped_before_it_could_record_is_recorded_failed(tmp_path: Path) -> None:
    """The script stopped while the next stage was still starting (it had no handler yet,
    or had not begun): `pipec stage run --record-stop` records that stage as failed by
    the signal, and the run's record; a second call writes nothing more."""
    from model.project import write_project
    from pipec.cli import main

    path = write_project(tmp_path)
    build = tmp_path / "build"
    assert main(["build", str(path), "--target", "local", "-o", str(build)]) == 0
    stage = ["stage", "run", "--manifest", str(build / "lineage.json"), "--run-id", "s1"]
    assert main([*stage, "--stage", "source.events"]) == 0
    assert main([*stage, "--stage", "validate.events", "--record-stop", "SIGTERM"]) == 143
    record = latest_record(tmp_path, "s1")
    assert record is not None and record["status"] == "failed"
    assert record["report"]["error"] == ("validate.events: stopped by SIGTERM "
                                         "before it could run or record its end")
    assert [(s["stage_id"], s["status"]) for s in record["stages"]] == [
        ("source.events", "ran"), ("validate.events", "failed")]
    assert main([*stage, "--stage", "validate.events", "--record-stop", "SIGTERM"]) == 143
    records = RunRecords(tmp_path)
    try:
        assert records.get("s1") == record  # no continuation: the same ending
    finally:
        records.close()
