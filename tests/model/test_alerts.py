"""`on_failure alert "MESSAGE"`: a failed check lets the run go on and raises the alert;
a failed stage raises its alert as the run stops. Both reach the output and the record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pipec
import pytest
from model.project import write_project
from pipec.manifest import build_manifest


def _alerting_project(folder: Path) -> Path:
    path = write_project(folder)
    text = path.read_text("utf-8")
    # VAL001 refuses a non-blocking validate stage on the way to training: suppressed,
    # as a team that wants an alert rather than a stop would.
    text = text.replace("    range amount >= 0\n", "    range amount >= 0\n    range amount < 50\n"
                        "    # pipec: ignore[VAL001] an alert is enough for odd amounts\n"
                        '    on_failure alert "amounts look off"\n', 1)
    text = text.replace('"sklearn.linear_model.LogisticRegression"',
                        '"sklearn.linear_model.NoSuchModel"\n'
                        '    on_failure alert "training broke"', 1)
    path.write_text(text, "utf-8")
    return path


def test_alerts_reach_the_manifest_the_output_and_the_record(tmp_path: Path) -> None:
    path = _alerting_project(tmp_path)
    stages = {s["id"]: s for s in build_manifest(pipec.compile(path))["stages"]}
    assert stages["validate.events"]["alert"] == "amounts look off"
    assert stages["train.model"]["alert"] == "training broke"
    assert "alert" not in stages["label.big_spender"]
    run = subprocess.run([sys.executable, "-m", "pipec", "run", str(path), "--until", "train"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode != 0  # the train stage failed
    assert "ALERT validate.events (owner data): amounts look off [1 check(s) failed]" in out
    assert "ALERT train.model (owner ml): training broke [" in out
    listed = subprocess.run([sys.executable, "-m", "pipec", "runs", "--format", "json"],
                            capture_output=True, text=True, cwd=tmp_path)
    record = json.loads(subprocess.run(
        [sys.executable, "-m", "pipec", "runs", "show", json.loads(listed.stdout)[0]["run_id"],
         "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path).stdout)
    alerts = record["report"]["alerts"] if "report" in record else record["alerts"]
    assert [a["stage"] for a in alerts] == ["validate.events", "train.model"]


def test_report_text_cannot_drive_the_terminal(capsys) -> None:
    """An alert message, a failing value sampled from the data, or the reason of a stop
    the run's ending outranks, is printed visibly."""
    from pipec.commands.run_report import print_report
    from pipec.stdlib.runtime.runner import RunResult

    alert = {"stage": "train.m", "owner": "ml", "message": "\x1b[2Jpage us", "why": "x"}
    check = {"check": "range x >= 0", "passed": False, "rows_failing": 1,
             "values": ["\x1b]0;owned\x07"]}
    report = {"alerts": [alert], "validation": {"validate.s": {"rows": 1, "checks": [check]}}}
    print_report(RunResult("r1", "failed", [], report,
                           also_stopped=("validate.s: blocked at \x1b[31m",)))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "also stopped: validate.s: blocked at \u241b[31m" in out
    assert "ALERT train.m (owner ml): \u241b[2Jpage us [x]" in out
    assert "\u241b]0;owned\u2407" in out


def test_a_type_failure_names_its_columns() -> None:
    """QA: `✗ type: 4 rows (e.g. 12,5, n/a, abc, 270.5)` said nothing of which columns."""
    from pipec.commands.run_report import _failure

    check = {"kind": "type", "rows_failing": 4, "values": ["12,5", "n/a", "abc", "270.5"],
             "detail": {"columns": [
                 {"column": "temp", "type": "float", "rows": 3, "values": ["12,5", "n/a", "abc"]},
                 {"column": "wind_dir", "type": "int", "rows": 1, "values": ["270.5"]}]}}
    assert _failure(check) == ("`temp` (float) 3 rows (e.g. 12,5, n/a, abc); "
                               "`wind_dir` (int) 1 row (e.g. 270.5)")


@pytest.mark.parametrize("retries", [0, 2])
def test_a_failed_stage_alerts_only_when_no_retry_follows(tmp_path: Path, capsys,
                                                          retries: int) -> None:
    """Every target runs a stage as `pipec stage run`, the orchestrator retrying it its
    `retries` times. A failed attempt that a retry follows printed its ALERT line too,
    so log-based alerting paged for a failure a retry could still mend; now only the
    last attempt's failure alerts, as only it reaches the run record."""
    from pipec.cli import main

    path = _alerting_project(tmp_path)
    path.write_text(path.read_text("utf-8").replace(
        '    on_failure alert "training broke"',
        f'    on_failure alert "training broke"\n    retries {retries}', 1), "utf-8")
    build = tmp_path / "build"
    assert main(["build", str(path), "--target", "local", "-o", str(build)]) == 0
    manifest = json.loads((build / "lineage.json").read_text("utf-8"))
    stage = ["stage", "run", "--manifest", str(build / "lineage.json"), "--run-id", "r1"]
    upstream = [s["id"] for s in manifest["stages"]]
    for stage_id in upstream[:upstream.index("train.model")]:
        assert main([*stage, "--stage", stage_id]) == 0, stage_id
    capsys.readouterr()
    alerted = []
    for attempt in range(1, retries + 2):
        assert main([*stage, "--stage", "train.model"]) == 2
        captured = capsys.readouterr()
        if "ALERT train.model (owner ml): training broke" in captured.out + captured.err:
            alerted.append(attempt)
    assert alerted == [retries + 1]
