"""`pipec runs`, `pipec lineage` and `pipec registry` as an ML engineer reads them: the
code line says when a run used uncommitted changes, text keeps letters as they are and
shows control characters as pictures, a diff shows a list one run lacks as the record
has it, `runs --limit N` lists, and a damaged record is a one-line error (exit 2)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pipec.cli import main
from pipec.stdlib.runtime import serialize
from pipec.stdlib.runtime.registry import Registry
from support.records import run_record, stored

IMAGE = "example.com/train@sha256:" + "ab" * 32
GATE = {"line": "primary roc_auc >= 0.6", "passed": True, "observed": 0.9,
        "blocking": True, "kind": "primary", "note": ""}


def _record(run_id: str, **changes: Any) -> dict[str, Any]:
    return run_record(run_id, GATE, IMAGE, **changes)


def _registry(folder: Path, approval_by: str | None = None) -> Registry:
    """Model `m` v1 registered by run `run1` (needing `approval_by` when given)."""
    registry = Registry(folder / "registry")
    registry.register("m", b"m", serialize.sha256(b"m"), run_id="run1",
                      report_sha256="report-m", actor="ml",
                      info={"approval_by": approval_by} if approval_by else {})
    return registry


def _pipec(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _damage(folder: Path, run_id: str, text: str) -> None:
    """Overwrite a stored record's text, as a damaged disk or a hand edit would."""
    db = sqlite3.connect(folder / ".pipec" / "index.sqlite", isolation_level=None)
    try:
        db.execute("DROP TRIGGER run_records_immutable")
        db.execute("UPDATE run_records SET record_json = ? WHERE run_id = ?", (text, run_id))
    finally:
        db.close()


def test_show_says_when_the_code_had_uncommitted_changes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Checking out the recorded commit does not give back a dirty tree's code: the text
    says so, as the record's `dirty` does."""
    dirty = _record("run2", code={"declared": "auto", "commit": "c0ffee", "dirty": True})
    stored(tmp_path, _record("run1"), dirty)
    code, out, _ = _pipec(capsys, "runs", "show", "run2", "--project", str(tmp_path))
    assert code == 0 and "code      c0ffee (with uncommitted changes)" in out, out
    code, out, _ = _pipec(capsys, "runs", "show", "run1", "--project", str(tmp_path))
    assert code == 0 and "code      c0ffee\n" in out and "uncommitted" not in out, out


def test_diff_text_keeps_letters_and_shows_controls_as_pictures(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A changed value reads `Zoë`, not `Zo\\u00eb`; a bidirectional control in a gate
    line (a path of the diff) or a value never reaches the terminal."""
    hostile = GATE | {"line": "primary roc_auc >= 0.6 \u202eevil"}
    second = _record("run2", labels={"l": {"definition": "Zoë \u202elate"}},
                     evaluations={"m": {"blessed": True, "report_sha256": "report-m",
                                        "gates": [hostile | {"observed": 0.8}]}})
    first = _record("run1", labels={"l": {"definition": "Zoë"}},
                    evaluations={"m": {"blessed": True, "report_sha256": "report-m",
                                       "gates": [hostile]}})
    stored(tmp_path, first, second)
    code, out, err = _pipec(capsys, "runs", "diff", "run1", "run2", "--project", str(tmp_path))
    assert code == 0, err
    assert '"Zoë" -> "Zoë \ufffdlate"' in out and "\\u00eb" not in out, out
    assert "\u202e" not in out and "\\u202e" not in out, out
    assert "primary roc_auc >= 0.6 \ufffdevil.observed: 0.9 -> 0.8" in out, out


def test_diff_shows_a_list_only_one_run_has_as_the_record_has_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run that stopped before evaluating has no gates: the diff shows the other run's
    gates as their list, not as the map by line it builds to compare two lists."""
    stopped = _record("run2", evaluations={"m": {"blessed": None, "report_sha256": None,
                                                 "gates": None}})
    stored(tmp_path, _record("run1"), stopped)
    code, out, err = _pipec(capsys, "runs", "diff", "run1", "run2", "--format", "json",
                            "--project", str(tmp_path))
    assert code == 0, err
    assert json.loads(out)["evaluations.m.gates"] == [[GATE], None]


def test_runs_takes_limit_without_the_action_word(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`pipec runs` alone lists, so `pipec runs --limit 1` lists one run (it was read as
    the action word `1`, a usage error)."""
    stored(tmp_path, _record("run1"), _record("run2"))
    code, out, err = _pipec(capsys, "runs", "--limit", "1", "--project", str(tmp_path))
    assert code == 0 and len(out.splitlines()) == 1, out + err
    assert "the newest 1 of 2 runs" in err


@pytest.mark.parametrize("damage", ["{not json", "[1, 2]"])
def test_a_damaged_record_is_one_line_naming_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str) -> None:
    stored(tmp_path, _record("run1"), _record("run2"))
    _registry(tmp_path).close()
    _damage(tmp_path, "run1", damage)
    for command in (["runs", "show", "run1"], ["runs", "diff", "run2", "run1"],
                    ["lineage", "m@1"]):
        code, out, err = _pipec(capsys, *command, "--project", str(tmp_path))
        assert code == 2 and out == "", (command, out, err)
        assert len(err.splitlines()) == 1 and "run1" in err and "damaged" in err, err
        assert "internal error" not in err


def test_lineage_text_keeps_letters_and_shows_controls_as_pictures(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The approver and label definition read as written; a bidirectional control or a
    C1 control in them is shown as U+FFFD, and JSON keeps the exact text."""
    stored(tmp_path, _record("run1", labels={"l": {"definition": "late \u202eby\x9b"}}))
    registry = _registry(tmp_path, approval_by="risk")
    try:
        registry.approve("m", 1, approver="Zoë \u202e", team="risk")
    finally:
        registry.close()
    code, out, err = _pipec(capsys, "lineage", "m@1", "--project", str(tmp_path))
    assert code == 0, err
    assert '"approver": "Zoë \ufffd"' in out and '"late \ufffdby\ufffd"' in out, out
    assert "\u202e" not in out and "\x9b" not in out and "\\u00eb" not in out, out
    code, out, _ = _pipec(capsys, "lineage", "m@1", "--format", "json",
                          "--project", str(tmp_path))
    approval = json.loads(out)["7. which gates and approvals"]["approval"]
    assert approval["approver"] == "Zoë \u202e"


def test_approving_again_shows_the_stored_approver_safely(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`already approved by NAME`: NAME is what another person stored; an ESC in it
    (retitle, clear the terminal) is shown as its picture."""
    registry = _registry(tmp_path, approval_by="risk")
    try:
        registry.approve("m", 1, approver="eve\x1b]0;pwned\x07\x1b[2J", team="risk")
    finally:
        registry.close()
    code, out, err = _pipec(capsys, "registry", "approve", "m@1", "--by", "risk",
                            "--project", str(tmp_path))
    assert code == 0, err
    assert "already approved by eve␛]0;pwned␇␛[2J (risk)" in out, out
    assert "\x1b" not in out and "\x07" not in out


def test_a_record_edited_by_hand_is_refused_not_shown(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Valid JSON whose text no longer hashes to the sha256 stored beside it (its
    environment deleted by hand): the audit trail is refused, naming the run, rather than
    shown as if it were what ran."""
    stored(tmp_path, _record("run1"), _record("run2"))
    _registry(tmp_path).close()
    edited = _record("run1")
    edited.pop("environment", None)
    _damage(tmp_path, "run1", json.dumps(edited, sort_keys=True))
    for command in (["runs", "show", "run1"], ["runs", "diff", "run1", "run2"],
                    ["lineage", "m@1"]):
        code, out, err = _pipec(capsys, *command, "--project", str(tmp_path))
        assert code == 2 and out == "", (command, out, err)
        assert "run1 is damaged: its text no longer matches its sha256" in err, err


def test_diff_names_the_stages_that_ran_again_and_whose_key_moved(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """"Why did this run train again?": the diff keys the stages by id and shows each
    one's status and cache key (it ignored the stages whole); their timings, which
    differ in any two runs, stay out."""
    def stage(stage_id: str, status: str, key: str, seconds: float) -> dict[str, Any]:
        return {"stage_id": stage_id, "status": status, "duration_s": seconds,
                "cpu_s": seconds, "cache_key": key}

    first = _record("run1", stages=[stage("source.events", "ran", "k1", 1.0),
                                    stage("train.m", "ran", "k2", 9.0)])
    second = _record("run2", stages=[stage("source.events", "skipped (cached)", "k1", 0.1),
                                     stage("train.m", "ran", "k3", 8.0)])
    stored(tmp_path, first, second)
    code, out, err = _pipec(capsys, "runs", "diff", "run1", "run2", "--project", str(tmp_path))
    assert code == 0, err
    assert out.splitlines() == ['stages.source.events.status: "ran" -> "skipped (cached)"',
                                'stages.train.m.cache_key: "k2" -> "k3"'], out
