"""`pipec run` end to end on a small project: exit codes, caching, approvals, lineage."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from model.project import add_second_model, reset, write_project


def pipec(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


STAGE_LINE = re.compile(r"^([a-z_]+\.[a-z0-9_]+|join|split): "
                        r"(ran|skipped \(cached\)|reused|blocked|waiting|failed)")


def statuses(output: str) -> dict[str, str]:
    """The progress lines of `pipec run` (plain lines when not on a terminal)."""
    return {m.group(1): m.group(2) for m in map(STAGE_LINE.match, output.splitlines()) if m}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spend")
    write_project(folder)
    return folder


def test_run_registers_and_promotes(project: Path) -> None:
    reset(project)
    first = pipec("run", str(project / "spend.pipe"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "model v1 production" in first.stdout and "blessed" in first.stdout
    registry = pipec("registry", "list", "--project", str(project), "--format", "json")
    [version] = json.loads(registry.stdout)
    assert version["state"] == "production" and len(version["sha256"]) == 64
    # with no action, `registry` and `runs` list (in the project folder, as a user types)
    assert pipec("registry", cwd=project).stdout.startswith("model@1")
    assert pipec("runs", cwd=project).stdout == pipec("runs", "list", cwd=project).stdout != ""


def test_second_run_skips_every_stage(project: Path) -> None:
    again = pipec("run", str(project / "spend.pipe"))
    assert again.returncode == 0
    assert set(statuses(again.stdout).values()) == {"skipped (cached)"}


def test_changing_a_param_reruns_only_train_and_after(project: Path, tmp_path: Path) -> None:
    path = project / "spend.pipe"
    original = path.read_text()
    path.write_text(original.replace("params { C: 1.0,", "params { C: 0.5,"))
    try:
        changed = pipec("run", str(path))
    finally:
        path.write_text(original)
    assert changed.returncode == 0, changed.stdout
    ran = {stage for stage, status in statuses(changed.stdout).items() if status == "ran"}
    assert ran == {"train.model", "evaluate.model", "register.model", "deploy.model"}
    assert "model v2 production" in changed.stdout
    assert "candidate" in changed.stdout and "vs champion v1" in changed.stdout


def test_rollback_restores_previous_production(project: Path) -> None:
    rolled = pipec("registry", "rollback", "model", "--project", str(project))
    assert rolled.returncode == 0 and "model@1 is production again" in rolled.stdout
    shown = json.loads(pipec("registry", "show", "model@2", "--format", "json",
                             "--project", str(project)).stdout)
    assert shown["state"] == "archived"
    assert [t["to_state"] for t in shown["transitions"]] == ["candidate", "production",
                                                             "archived"]


def test_lineage_answers_the_seven_questions(project: Path) -> None:
    result = pipec("lineage", "model@1", "--project", str(project), "--format", "json")
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    data = answers["1. which data snapshot"]["events"]
    assert data["snapshot"] == "2026-03-31" and len(data["content_hash"]) == 64
    assert answers["2. which label window"]["big_spender"]["maturity_s"] == 86400
    assert answers["3. which feature versions"]["history"]["version"] == 1
    assert answers["4. which parameters"]["params"] == {"C": 1.0, "max_iter": 300}
    assert answers["4. which parameters"]["seed"] == 1
    assert answers["4. which parameters"]["task"] == "binary"  # from the registry entry
    assert answers["5. which image"].endswith("ab" * 32)
    assert answers["6. which code commit"]["commit"] == "0123456789abcdef"
    gates = answers["7. which gates and approvals"]
    assert gates["blessed"] is True and any("roc_auc" in g for g in gates["gates"])


def test_runs_are_listed_immutable_and_diffable(project: Path) -> None:
    listed = json.loads(pipec("runs", "list", "--project", str(project), "--format",
                              "json").stdout)
    assert len(listed) >= 3
    first, last = listed[-1]["run_id"], listed[0]["run_id"]
    diff = pipec("runs", "diff", first, last, "--project", str(project))
    assert diff.returncode == 0
    db = sqlite3.connect(project / ".pipec" / "index.sqlite", isolation_level=None)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="immutable"):
            db.execute("UPDATE run_records SET status = 'x'")
    finally:
        db.close()


def test_unblessed_model_is_refused(tmp_path: Path) -> None:
    path = write_project(tmp_path, min_auc=0.999)
    result = pipec("run", str(path))
    assert result.returncode == 1
    assert "NOT blessed" in result.stdout and "register.model" in result.stdout
    assert not (tmp_path / "registry" / "objects").exists() or not any(
        (tmp_path / "registry" / "objects").iterdir())


def test_a_failed_blocking_gate_exits_1_without_a_register_stage(tmp_path: Path) -> None:
    """interfaces.md: 1 when a blocking gate failed, whether or not a register stage
    follows to refuse the model."""
    path = write_project(tmp_path, min_auc=0.999)
    result = pipec("run", str(path), "--until", "evaluate.model")
    assert result.returncode == 1, result.stdout
    assert "not blessed" in result.stdout


def _only_record(project: Path) -> dict:
    listed = json.loads(pipec("runs", "list", "--project", str(project), "--format",
                              "json").stdout)
    assert len(listed) == 1, listed
    shown = pipec("runs", "show", listed[0]["run_id"], "--project", str(project),
                  "--format", "json")
    return json.loads(shown.stdout)


def test_a_second_model_trains_although_the_first_one_s_gate_failed(tmp_path: Path) -> None:
    """As Airflow and Argo run a pipeline: the first model's register stage blocks, and
    what lies behind it (its deploy) does not run, but the second model's branch does.
    The run is blocked by the first model, and its record holds the second model."""
    path = write_project(tmp_path, min_auc=0.999)
    add_second_model(path)
    result = pipec("run", str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    ran = statuses(result.stdout)
    assert ran["register.model"] == "blocked"
    assert ran["train.other"] == ran["evaluate.other"] == "ran"
    assert "deploy.model" not in ran
    assert "evaluate.other: blessed" in result.stdout
    assert "stopped: " in result.stdout and "register.model" in result.stdout
    record = _only_record(tmp_path)
    assert record["status"] == "blocked"
    assert record["report"]["blocked_by"] == "register.model"
    assert {"train.other", "evaluate.other"} <= {s["stage_id"] for s in record["stages"]}


def test_a_failure_in_one_branch_outranks_a_later_block_in_another(tmp_path: Path) -> None:
    """The second model's fit fails (a negative C), before the first model's register
    stage blocks: both branches ran as far as they could, and the run is failed (the
    worst ending, whatever the order), naming the failed stage."""
    path = write_project(tmp_path, min_auc=0.999)
    add_second_model(path, params="C: -1.0")
    result = pipec("run", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    ran = statuses(result.stdout)
    assert ran["train.other"] == "failed" and ran["register.model"] == "blocked"
    assert "evaluate.other" not in ran and "deploy.model" not in ran
    assert "failed: train.other" in result.stdout
    # The block the failure outranks is said too, after it.
    assert "\nalso stopped: register.model: " in result.stdout
    record = _only_record(tmp_path)
    assert record["status"] == "failed"
    assert record["report"]["error"].startswith("train.other: ")


def test_approval_waits_then_promotes(tmp_path: Path) -> None:
    path = write_project(tmp_path, approval=True)
    waiting = pipec("run", str(path))
    assert waiting.returncode == 3, waiting.stdout
    assert "pipec registry approve model@1 --by risk" in waiting.stdout
    listed = json.loads(pipec("registry", "list", "--project", str(tmp_path), "--format",
                              "json").stdout)
    assert [v["state"] for v in listed] == ["candidate"]
    # Only the team the pipeline names approves, and a hand promotion does not skip it.
    wrong = pipec("registry", "approve", "model@1", "--by", "serving", "--project", str(tmp_path))
    assert wrong.returncode == 2 and "needs approval by team `risk`" in wrong.stderr
    early = pipec("registry", "promote", "model@1", "--project", str(tmp_path))
    assert early.returncode == 2 and "waits for approval by risk" in early.stderr
    assert pipec("run", str(path)).returncode == 3
    approved = pipec("registry", "approve", "model@1", "--by", "risk", "--approver", "ana",
                     "--project", str(tmp_path))
    assert approved.returncode == 0
    done = pipec("run", str(path))
    assert done.returncode == 0, done.stdout
    assert "model v1 production" in done.stdout
    lineage = json.loads(pipec("lineage", "model@1", "--project", str(tmp_path), "--format",
                               "json").stdout)
    assert lineage["7. which gates and approvals"]["approval"]["approver"] == "ana"


def test_until_and_unknown_stage(project: Path) -> None:
    assert pipec("run", str(project / "spend.pipe"), "--until", "nope").returncode == 2
    assert pipec("run", str(project / "spend.pipe"), "--until", "split").returncode == 0


def test_disallowed_model_module_fails_cleanly(tmp_path: Path) -> None:
    path = write_project(tmp_path)
    path.write_text(path.read_text().replace("sklearn.linear_model.LogisticRegression",
                                             "os.system"))
    result = pipec("run", str(path))
    # Refused by the check (SEC002) before any data is read, as the train stage would.
    assert result.returncode == 1
    assert "error[SEC002]" in result.stdout and "not from an allowed module" in result.stdout
    assert "Traceback" not in result.stderr and "source.events" not in result.stdout
