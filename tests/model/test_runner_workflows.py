"""Workflows a user follows with the local runner, end to end: an approval round trip
seen through `runs show` and `lineage`, a failed run's record, `--from` with nothing to
reuse, stage names on the command line, what the run says about drift, and the script
`pipec build --target local` writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from model.project import program, write_project
from pipec.cli import main
from pipec.commands.run_report import report_lines


def _pipec(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _last_run(capsys: pytest.CaptureFixture[str], project: Path) -> str:
    capsys.readouterr()  # what the run printed
    code, out, _ = _pipec(capsys, "runs", "list", "--project", str(project), "--format", "json")
    assert code == 0
    return json.loads(out)[0]["run_id"]


@pytest.fixture(scope="module")
def waiting(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose model waits for approval by `risk` after one run."""
    folder = tmp_path_factory.mktemp("waiting")
    write_project(folder, approval=True)
    assert main(["run", str(folder / "spend.pipe")]) == 3
    return folder


def test_runs_show_explains_a_waiting_run(waiting: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _last_run(capsys, waiting)
    code, out, err = _pipec(capsys, "runs", "show", run_id, "--project", str(waiting))
    assert code == 0, err
    assert "approval  model: v1 waiting for approval by risk" in out
    assert "stopped   approval.model: model v1 waits for approval by risk" in out
    assert "deploy" not in out.split("stages")[0]  # the deploy stage never ran


def test_lineage_says_which_team_must_approve(waiting: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _pipec(capsys, "lineage", "model@1", "--project", str(waiting),
                          "--registry", str(waiting / "registry"), "--format", "json")
    assert code == 0
    gates = json.loads(out)["7. which gates and approvals"]
    assert gates["approval"] is None and gates["approval_required_by"] == "risk"


def test_a_failed_run_is_shown_with_why(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    write_project(tmp_path)
    (tmp_path / "data" / "events.parquet").write_bytes(b"not parquet")
    assert main(["run", str(tmp_path / "spend.pipe")]) == 2
    code, out, err = _pipec(capsys, "runs", "show", _last_run(capsys, tmp_path),
                            "--project", str(tmp_path))
    assert code == 0, err
    assert "spend  failed" in out and "failed    source.events: source 'events'" in out
    # what never ran is said so, not shown as "None rows" or "not blessed"
    assert "events: not read in this run" in out and "not trained" in out
    assert "model: not evaluated" in out


def test_from_with_nothing_to_reuse_says_so_before_running(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_project(tmp_path)
    code, out, _ = _pipec(capsys, "run", str(tmp_path / "spend.pipe"), "--from", "train")
    assert code == 2
    assert "`--from train.model` reuses the outputs of earlier runs, but source.events" in out
    assert "train.model: failed" not in out  # nothing ran


MANIFEST = {"stages": [{"id": i, "kind": i.split(".")[0], "name": i.split(".")[-1]}
                       for i in ("source.events", "label.big_spender", "join", "split",
                                 "train.model", "evaluate.model")]}


@pytest.mark.parametrize("written, found", [
    ("train.model", "train.model"), ("train", "train.model"), ("big_spender",
                                                                "label.big_spender")])
def test_a_stage_by_id_kind_or_unique_name(written: str, found: str) -> None:
    from pipec.commands._runtime import resolve_stage

    assert resolve_stage(MANIFEST, written) == found


@pytest.mark.parametrize("written, message", [
    ("trian", "did you mean `train.model`?"), ("slpit", "did you mean `split`?"),
    ("model", "`model` names several stages: train.model, evaluate.model")])
def test_a_stage_name_that_misses_says_what_was_meant(written: str, message: str) -> None:
    from pipec.commands._runtime import resolve_stage

    with pytest.raises(ValueError) as caught:
        resolve_stage(MANIFEST, written)
    assert message in str(caught.value)


def _validation_report(policy: str, detail: dict, passed: bool) -> dict:
    check = {"check": "drift mean(amount) within 2x of baseline", "kind": "drift",
             "passed": passed, "rows_failing": 0, "severity": "block",
             "values": [] if passed else ["177.77", "59.26"], "detail": detail}
    return {"validation": {"validate.events": {"rows": 3000, "policy": policy,
                                               "checks": [check]}}}


def test_a_drift_failure_says_how_far_the_statistic_moved() -> None:
    report = _validation_report("block", {"current": 177.777, "baseline": 59.259}, False)
    lines = report_lines("blocked", report, {})
    assert "  ✗ drift mean(amount) within 2x of baseline: 177.777 against a baseline of " \
        "59.259 (3x) [block]" in lines


def test_a_failed_check_under_warn_is_not_labelled_block() -> None:
    report = _validation_report("warn", {"current": 177.777, "baseline": 59.259}, False)
    assert any(line.endswith("(3x) [warn]") for line in report_lines("succeeded", report, {}))


def test_a_first_baseline_is_reported_once() -> None:
    report = _validation_report("block", {"current": 59.259, "baseline": None,
                                          "recorded": True}, True)
    said = "  drift mean(amount): 59.259 recorded as the baseline"
    ran = {"validate.events": SimpleNamespace(status="ran", kind="validate", report={})}
    cached = {"validate.events": SimpleNamespace(status="skipped (cached)", kind="validate",
                                                  report={})}
    assert said in report_lines("succeeded", report, ran)
    assert said not in report_lines("succeeded", report, cached)


def test_registering_known_bytes_again_is_not_shown_as_a_bare_state() -> None:
    stage = SimpleNamespace(stage_id="register.model", kind="register", report={
        "model": "model", "version": 1, "state": "archived", "sha256": "e9" * 32})
    lines = report_lines("succeeded", {}, {"register.model": stage})
    assert "register.model: model v1 already registered (archived) (sha256 e9e9e9e9e9e9)" \
        in lines


def test_the_local_script_is_one_run_with_a_record_lineage_can_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_project(tmp_path)
    assert main(["build", str(path), "--target", "local", "-o", str(tmp_path / "build")]) == 0
    env = {k: v for k, v in os.environ.items() if k != "PIPEC_RUN_ID"}
    script = subprocess.run([sys.executable, str(tmp_path / "build" / "run_spend.py")],
                            capture_output=True, text=True, env=env, timeout=600)
    assert script.returncode == 0, script.stdout + script.stderr
    capsys.readouterr()
    code, out, _ = _pipec(capsys, "runs", "list", "--project", str(tmp_path), "--format",
                          "json")
    [run] = json.loads(out)
    code, out, _ = _pipec(capsys, "runs", "show", run["run_id"], "--project", str(tmp_path),
                          "--format", "json")
    record = json.loads(out)
    assert {s["status"] for s in record["stages"]} == {"ran"}  # not "reused" stage by stage
    code, out, err = _pipec(capsys, "lineage", "model@1", "--project", str(tmp_path),
                            "--registry", str(tmp_path / "registry"), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["model"]["run_id"] == run["run_id"]


def test_runs_diff_names_the_check_and_gate_that_moved() -> None:
    from pipec.commands.runs import diff

    def record(current: float, passed: bool) -> dict:
        checks = [{"check": "range amount >= 0", "passed": True},
                  {"check": "range amount >= 0", "passed": passed},
                  {"check": "drift mean(amount) within 2x of baseline", "passed": passed,
                   "detail": {"current": current}}]
        return {"report": {"validation": {"validate.events": {"checks": checks}}},
                "evaluations": {"m": {"gates": [{"line": "primary roc_auc >= 0.6",
                                                 "observed": current}]}}}

    changes = diff(record(59.0, True), record(177.0, False))
    checks = "report.validation.validate.events.checks."
    assert changes == {
        checks + "drift mean(amount) within 2x of baseline.detail.current": (59.0, 177.0),
        checks + "drift mean(amount) within 2x of baseline.passed": (True, False),
        checks + "range amount >= 0 #2.passed": (True, False),
        "evaluations.m.gates.primary roc_auc >= 0.6.observed": (59.0, 177.0)}


def test_a_re_evaluated_production_model_is_not_sent_back_for_approval(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Approved and promoted, then evaluated again (a guardrail edited: a new report for
    the same model bytes): the serving version stays production, keeps the report its
    approval is bound to, and the run exits 0. It waited for ever before: the approval
    stage wanted an approval of the new report, and `registry approve` refuses a version
    already in production."""
    write_project(tmp_path, approval=True)
    pipe = tmp_path / "spend.pipe"
    assert main(["run", str(pipe)]) == 3
    assert main(["registry", "approve", "model@1", "--by", "risk", "--project",
                 str(tmp_path)]) == 0
    assert main(["run", str(pipe)]) == 0
    capsys.readouterr()
    assert main(["run", str(pipe)]) == 0  # fully cached
    # A cached registration reports the version as it is now, not as it was then.
    assert "register.model: model v1 already registered (production)" in \
        capsys.readouterr().out
    text = pipe.read_text("utf-8")
    assert "guardrail recall >= 0.01 warn" in text
    pipe.write_text(text.replace("recall >= 0.01 warn", "recall >= 0.02 warn"), "utf-8")
    capsys.readouterr()
    assert main(["run", str(pipe)]) == 0
    out = capsys.readouterr().out
    assert "approval.model: model v1 approved by " in out  # the approval still stands
    capsys.readouterr()
    code, out, _ = _pipec(capsys, "registry", "list", "--project", str(tmp_path),
                          "--format", "json")
    assert [(v["version"], v["state"]) for v in json.loads(out)] == [(1, "production")]


def test_runs_show_gives_a_static_tables_declared_snapshot() -> None:
    from pipec.commands.runs import _snapshot

    assert _snapshot({"snapshot": None, "snapshot_declared": "2013-12-31"}) == "2013-12-31"
    assert _snapshot({"snapshot": "2013-12-30", "snapshot_declared": "latest"}) == "2013-12-30"
    assert _snapshot({"snapshot": None, "snapshot_declared": "latest"}) == "none"


def _run_on(tmp_path: Path, table: object, text: str | None = None) -> tuple[int, str]:
    import pyarrow.parquet as pq

    path = write_project(tmp_path)
    pq.write_table(table, tmp_path / "data" / "events.parquet")
    if text is not None:
        path.write_text(text, "utf-8")
    return main(["run", str(path)]), path.read_text("utf-8")


@pytest.mark.parametrize("case", ["no rows", "one class"])
def test_a_train_set_that_cannot_make_a_model_blocks(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No labelled train row, or one class for LogisticRegression: exit 1 with the
    reason, as a failed check (it was exit 2, "train.model: ValueError: Found array with
    0 sample(s)", as if the environment were broken)."""
    from model.project import events

    table = events(rows=300)
    if case == "no rows":
        table = table.slice(0, 0)
    else:
        import pyarrow as pa

        table = table.set_column(4, "spend_next", pa.array([1.0] * 300))
    code, _ = _run_on(tmp_path, table)
    out = capsys.readouterr().out
    assert code == 1, out
    reason = {"no rows": "train.model: the train set has no labelled rows",
              "one class": "train.model: the train set has one class: all "}[case]
    assert reason in out and "ValueError" not in out


def test_features_near_the_double_limit_train_a_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Finite amounts of 1e308: the train stage failed on "Input X contains infinity"
    (exit 2, as an environment error). The 7-day mean is finite now, but the imputer's
    median of two such values still overflows: the run blocks at train, with the
    estimator's reason (exit 1)."""
    import pyarrow as pa
    from model.project import events

    table = events(rows=300)
    big = [1e308 if i % 3 else 1.7e308 for i in range(300)]
    table = table.set_column(2, "amount", pa.array(big))
    code, _ = _run_on(tmp_path, table)
    out = capsys.readouterr().out
    assert code == 1, out
    assert "stopped: train.model: `sklearn.linear_model.LogisticRegression` cannot fit " \
        "the train set: Input X contains infinity" in out and "failed:" not in out


def test_from_never_hands_on_an_approval_of_another_version(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """v1 approved and deployed; an edited model registers v2, which waits. `--from
    deploy` must not reuse v1's approval for v2: it says so before anything runs."""
    path = write_project(tmp_path, approval=True)
    assert main(["run", str(path)]) == 3
    assert main(["registry", "approve", "model@1", "--by", "risk",
                 "--project", str(tmp_path)]) == 0
    assert main(["run", str(path)]) == 0
    path.write_text(program(approval=True, c=0.5), "utf-8")
    assert main(["run", str(path)]) == 3
    capsys.readouterr()
    code, out, _ = _pipec(capsys, "run", str(path), "--from", "deploy")
    assert code == 2
    assert "approval.model was last approved for another candidate or report" in out
    assert "deploy.model: failed" not in out  # nothing ran


def test_a_candidate_that_failed_its_latest_evaluation_is_not_approved(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """v1 waits for approval; a run of the same model under a gate it fails refuses it
    (exit 1). Approving or promoting v1 is then refused, naming that run, until a run
    blesses it again."""
    path = write_project(tmp_path, approval=True)
    assert main(["run", str(path)]) == 3
    path.write_text(program(approval=True, min_auc=0.999), "utf-8")
    assert main(["run", str(path)]) == 1
    capsys.readouterr()
    for command in (["approve", "model@1", "--by", "risk"], ["promote", "model@1"]):
        code, _, err = _pipec(capsys, "registry", *command, "--project", str(tmp_path))
        assert code == 2 and "failed its gates in its latest evaluation (run " in err, err
    code, out, _ = _pipec(capsys, "registry", "show", "model@1", "--project", str(tmp_path))
    assert "candidate -> candidate  pipec: not blessed by run" in out
    path.write_text(program(approval=True), "utf-8")
    assert main(["run", str(path)]) == 3  # blessed again: waiting, as before
    assert main(["registry", "approve", "model@1", "--by", "risk",
                 "--project", str(tmp_path)]) == 0


def test_a_rollback_pin_that_cannot_be_restored_is_refused_at_registration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`rollback 9` with no v9 (or a v9 that never served) is a rollback plan that fails
    during the incident: the register stage refuses it (exit 1), naming the pin."""
    path = write_project(tmp_path)
    path.write_text(program().replace("rollback previous", "rollback 9"), "utf-8")
    capsys.readouterr()
    code, out, _ = _pipec(capsys, "run", str(path))
    assert code == 1
    assert "`rollback 9` cannot be restored: the registry has no version 9 of 'model'" in out
    assert "register.model: blocked" in out


def test_the_local_script_says_what_is_wrong_before_the_first_stage(tmp_path: Path) -> None:
    """A bad PIPEC_RUN_ID is named as such (not as `--run-id`), and a Python without pipec
    is an environment error (exit 2), not every stage's exit 1 read as a failed gate."""
    path = write_project(tmp_path)
    assert main(["build", str(path), "--target", "local", "-o", str(tmp_path / "build")]) == 0
    script = str(tmp_path / "build" / "run_spend.py")
    env = {k: v for k, v in os.environ.items() if k != "PIPEC_RUN_ID"}
    bad = subprocess.run([sys.executable, script], capture_output=True, text=True,
                         env=env | {"PIPEC_RUN_ID": "../x"}, timeout=60)
    assert bad.returncode == 2 and "PIPEC_RUN_ID: '../x' is not a run id" in bad.stderr
    # -S: without site-packages, where pipec is installed
    bare = subprocess.run([sys.executable, "-S", script], capture_output=True, text=True,
                          env=env, timeout=60)
    assert bare.returncode == 2 and "pipec is not installed for" in bare.stderr
