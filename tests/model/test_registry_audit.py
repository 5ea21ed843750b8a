"""The registry, lineage and run records as a user meets them: answers about the version
asked for, a tampered model never promoted, a damaged file named clearly (exit 2), and
run ids and diffs that say what really happened."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pipec.cli import main
from pipec.commands.lineage import answer
from pipec.commands.runs import diff
from pipec.stdlib.runtime import serialize
from pipec.stdlib.runtime.records import AmbiguousRun, RunRecords
from pipec.stdlib.runtime.registry import Registry, RegistryError

IMAGE = "example.com/train@sha256:" + "ab" * 32


def _record(run_id: str, **changes: Any) -> dict[str, Any]:
    """A run that trained and evaluated two models, `a` and `b`, as one pipeline may."""
    record: dict[str, Any] = {
        "run_id": run_id, "pipeline": "p", "status": "succeeded", "stages": [],
        "code": {"declared": "abc", "commit": "abc", "dirty": None},
        "environment": {"image": IMAGE, "python": "3.11", "packages": {}},
        "data": {"events": {"snapshot": "2026-03-31", "content_hash": "d" * 64}},
        "models": {name: {"model": "sklearn.linear_model.LogisticRegression",
                          "params": {"C": c}, "seed": seed,
                          "model_sha256": serialize.sha256(name.encode())}
                   for name, c, seed in (("a", 1.0, 1), ("b", 0.1, 7))},
        "evaluations": {name: {"blessed": True, "report_sha256": f"report-{name}",
                               "gates": [{"line": f"primary roc_auc >= {gate}",
                                          "passed": True, "observed": 0.9}]}
                        for name, gate in (("a", 0.6), ("b", 0.7))},
        "report": {"run_id": run_id, "stages": []},
    }
    return record | changes


def _register(registry: Registry, name: str, data: bytes, run_id: str = "run1",
              info: dict[str, Any] | None = None) -> None:
    registry.register(name, data, serialize.sha256(data), run_id=run_id,
                      report_sha256=f"report-{name}", info=info or {}, actor="ml")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Models `a` and `b` registered from one run, and that run's record."""
    registry = Registry(tmp_path / "registry")
    try:
        for name in ("a", "b"):
            _register(registry, name, name.encode())
    finally:
        registry.close()
    records = RunRecords(tmp_path)
    try:
        records.write(_record("run1"))
    finally:
        records.close()
    return tmp_path


def _pipec(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_lineage_answers_about_the_model_asked_for(project: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _pipec(capsys, "lineage", "b@1", "--project", str(project),
                          "--format", "json")
    assert code == 0
    answers = json.loads(out)
    assert answers["4. which parameters"]["params"] == {"C": 0.1}
    assert answers["4. which parameters"]["seed"] == 7
    gates = answers["7. which gates and approvals"]
    assert gates["gates"] == ["pass primary roc_auc >= 0.7 (0.9)"]
    assert gates["evaluation_report"] == "report-b"


def test_lineage_of_a_run_that_stopped_before_its_approval_stage() -> None:
    """`pipec run --until register` records the approval and deploy it did not run as
    None: lineage reads them as no approval (it crashed on them)."""
    record = _record("run1", approval={"b": None}, deploy={"b": None})
    entry = {"model": "b", "version": 1, "sha256": serialize.sha256(b"b"),
             "report_sha256": "report-b", "state": "candidate", "run_id": "run1",
             "info": {"approval_by": "risk"}}
    gates = answer(entry, record, None)["7. which gates and approvals"]
    assert gates["approval"] is None and gates["approval_required_by"] == "risk"
    assert "rejected_by" not in gates


def test_lineage_writes_observed_values_as_json() -> None:
    """A gate's observed value in lineage is JSON, as the rest of the answer."""
    gates = [{"line": line, "passed": True, "observed": observed} for line, observed in (
        ("compare champion roc_auc >= -0.01", None), ("features compatible", True),
        ("slice origin min 1000: roc_auc >= 0.65", {"JFK": 0.7, "EWR": 0.68}))]
    record = _record("run1", evaluations={"b": {"blessed": True, "report_sha256": "report-b",
                                                "gates": gates}})
    entry = {"model": "b", "version": 1, "sha256": serialize.sha256(b"b"),
             "report_sha256": "report-b", "state": "candidate", "run_id": "run1", "info": {}}
    assert answer(entry, record, None)["7. which gates and approvals"]["gates"] == [
        "pass compare champion roc_auc >= -0.01 (null)", "pass features compatible (true)",
        'pass slice origin min 1000: roc_auc >= 0.65 ({"EWR": 0.68, "JFK": 0.7})']


def test_lineage_without_a_run_store_creates_none(project: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, _, err = _pipec(capsys, "lineage", "a@1", "--project", str(elsewhere),
                          "--registry", str(project / "registry"))
    assert code == 2 and "the record of run run1 is not in" in err
    assert not (elsewhere / ".pipec").exists()


def _flip(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[0] ^= 1
    path.write_bytes(bytes(raw))


def test_a_tampered_model_is_never_promoted_or_restored(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    try:
        _register(registry, "m", b"first")
        _register(registry, "m", b"second")
        registry.promote("m", 1, actor="a", reason="first")
        registry.promote("m", 2, actor="a", reason="second")
        _flip(registry.object_path(serialize.sha256(b"first")))
        with pytest.raises(serialize.ModelIntegrityError, match="m v1: the model file"):
            registry.rollback("m", actor="a")
        with pytest.raises(serialize.ModelIntegrityError, match="m v1: the model file"):
            registry.promote("m", 1, actor="a", reason="by hand")
        assert registry.production("m").version == 2  # type: ignore[union-attr]
        # Registering the good bytes again repairs the file, even at the same size.
        _register(registry, "m", b"first")
        assert registry.integrity() == []
        assert registry.rollback("m", actor="a").version == 1
    finally:
        registry.close()


def test_cli_refuses_a_tampered_promotion(project: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    _flip(project / "registry" / "objects" / f"{serialize.sha256(b'a')}.skops")
    code, _, err = _pipec(capsys, "registry", "promote", "a@1", "--project", str(project))
    assert code == 2 and err.startswith("pipec: a v1: the model file was altered")


def test_rollback_refuses_a_version_it_would_ignore(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    registry = Registry(tmp_path / "registry")
    try:
        for data in (b"v1", b"v2", b"v3"):
            _register(registry, "m", data)
            registry.promote("m", registry.versions("m")[-1].version, actor="a", reason="up")
    finally:
        registry.close()
    code, _, err = _pipec(capsys, "registry", "rollback", "m@1", "--project", str(tmp_path))
    assert code == 2 and "pipec registry promote m@1" in err
    code, out, _ = _pipec(capsys, "registry", "show", "m", "--format", "json",
                          "--project", str(tmp_path))
    assert json.loads(out)["version"] == 3  # nothing changed


@pytest.mark.parametrize("command", [["registry", "list"], ["registry", "rollback", "a"],
                                     ["lineage", "a"]])
def test_a_damaged_registry_is_named_not_an_internal_error(
        project: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    database = project / "registry" / "registry.sqlite"
    for leftover in database.parent.glob("registry.sqlite-*"):
        leftover.unlink()
    database.write_bytes(b"not a database at all" * 200)
    code, _, err = _pipec(capsys, *command, "--project", str(project))
    assert code == 2 and "internal error" not in err
    assert "cannot be read" in err and "registry.sqlite" in err


def test_a_hand_edited_entry_is_named(project: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    con = sqlite3.connect(project / "registry" / "registry.sqlite")
    with con:
        con.execute("UPDATE versions SET info = 'not json' WHERE model = 'a'")
    con.close()
    code, _, err = _pipec(capsys, "registry", "show", "a@1", "--project", str(project))
    assert code == 2 and "a v1: its registry entry is damaged" in err


def test_run_id_prefixes_are_unique_and_literal(tmp_path: Path) -> None:
    records = RunRecords(tmp_path)
    try:
        for run_id in ("abc1", "abc2", "xyz9"):
            records.write(_record(run_id))
        assert records.get("abc1")["run_id"] == "abc1"  # type: ignore[index]
        assert records.get("xy")["run_id"] == "xyz9"  # type: ignore[index]
        with pytest.raises(AmbiguousRun, match="`abc` is the start of 2 run ids"):
            records.get("abc")
        for pattern in ("", "%", "_bc1", "ABC1"):
            assert records.get(pattern) is None
    finally:
        records.close()


def test_cli_names_an_ambiguous_run(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = RunRecords(project)
    try:
        records.write(_record("run2"))
    finally:
        records.close()
    code, _, err = _pipec(capsys, "runs", "show", "run", "--project", str(project))
    assert code == 2 and "is the start of 2 run ids" in err


def test_a_damaged_run_store_is_named(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = project / ".pipec" / "index.sqlite"
    for leftover in index.parent.glob("index.sqlite-*"):
        leftover.unlink()
    index.write_bytes(b"garbage" * 1000)
    code, _, err = _pipec(capsys, "runs", "list", "--project", str(project))
    assert code == 2 and "internal error" not in err and "cannot be read" in err


def test_runs_diff_shows_the_image_and_why_a_run_stopped() -> None:
    first = _record("run1")
    second = _record("run2", environment=first["environment"] | {"image": "other"},
                     status="blocked",
                     report={"run_id": "run2", "stages": [{"duration_s": 1.0}],
                             "reason": "validate.events: 3 rows"})
    changes = diff(first, second)
    assert changes["environment.image"] == (IMAGE, "other")
    assert changes["report.reason"] == (None, "validate.events: 3 rows")
    assert not any(path.startswith(("run_id", "report.run_id", "report.stages"))
                   for path in changes)


def test_runs_show_says_a_production_version_had_nothing_to_approve() -> None:
    """The approval stage of a run that re-registered a serving version recorded
    `already_production`; `runs show` said it was waiting for an approval."""
    from pipec.commands.runs import _registry_lines

    record = {"approval": {"m": {"version": 1, "approver": "risk",
                                 "already_production": True}},
              "deploy": {"m": {"version": 1, "state": "production"}}}
    assert _registry_lines(record) == [
        "  approval  m: v1 already in production: nothing to approve",
        "  deploy    m: v1 production"]


@pytest.mark.parametrize("action", [["approve", "a", "--by", "risk"], ["promote", "a"]])
def test_a_state_change_names_its_version(project: Path, capsys: pytest.CaptureFixture[str],
                                          action: list[str]) -> None:
    code, _, err = _pipec(capsys, "registry", *action, "--project", str(project))
    assert code == 2 and f"`registry {action[0]}` needs a version, as in `a@3`" in err
    code, out, _ = _pipec(capsys, "registry", "show", "a@1", "--format", "json",
                          "--project", str(project))
    assert json.loads(out)["state"] == "candidate" and json.loads(out)["approval"] is None


def test_state_changes_answer_in_json_when_asked(project: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    registry = Registry(project / "registry")
    try:
        _register(registry, "c", b"c", info={"approval_by": "risk"})
    finally:
        registry.close()
    code, out, _ = _pipec(capsys, "registry", "approve", "c@1", "--by", "risk", "--approver",
                          "ana", "--project", str(project), "--format", "json")
    assert code == 0 and json.loads(out) == {
        "model": "c", "version": 1, "approver": "ana", "team": "risk",
        "report_sha256": "report-c"}
    code, out, _ = _pipec(capsys, "registry", "promote", "c@1", "--project", str(project),
                          "--format", "json")
    assert code == 0 and json.loads(out)["state"] == "production"


@pytest.mark.parametrize(("ref", "says"), [
    ("a@", "a version is a whole number"), ("@1", "name the model"),
    ("a@\u0663", "a version is a whole number"), ("a@+1", "a version is a whole number"),
])
def test_a_malformed_model_reference_is_a_usage_error(ref: str, says: str) -> None:
    from pipec.commands._runtime import parse_model_ref

    with pytest.raises(ValueError, match=says):
        parse_model_ref(ref)
    assert parse_model_ref("a@12") == ("a", 12) and parse_model_ref("a") == ("a", None)


def test_rollback_restores_the_pinned_version(tmp_path: Path) -> None:
    """`rollback VERSION` on the register stage: the registry records it with the
    version, and a rollback from that version restores the pinned one, not the last."""
    registry = Registry(tmp_path)
    try:
        for i, data in enumerate((b"v1", b"v2", b"v3"), 1):
            registry.register("m", data, serialize.sha256(data), run_id=f"r{i}",
                              report_sha256=f"rep{i}", actor="ml",
                              info={"rollback": 1 if i == 3 else "previous"})
            registry.promote("m", i, actor="a", reason="deployed")
        assert registry.rollback("m", actor="a").version == 1  # v3 pins v1, skipping v2
        registry.promote("m", 2, actor="a", reason="again")
        assert registry.rollback("m", actor="a").version == 1  # v2: the previous (v1)
        registry.register("m", b"v4", serialize.sha256(b"v4"), run_id="r4", actor="ml",
                          report_sha256="rep4", info={"rollback": 9})
        registry.promote("m", 4, actor="a", reason="deployed")
        with pytest.raises(RegistryError, match=r"pins `rollback 9`, but the registry has no"):
            registry.rollback("m", actor="a")
    finally:
        registry.close()


def test_promote_and_rollback_record_the_reason_given(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = Registry(project / "registry")
    try:
        _register(registry, "a", b"a2")
    finally:
        registry.close()
    for command in (["promote", "a@1"], ["promote", "a@2", "--reason", "fixes\nthe drift"],
                    ["rollback", "a", "--reason", "p99 latency doubled"]):
        assert _pipec(capsys, "registry", *command, "--project", str(project))[0] == 0
    code, out, _ = _pipec(capsys, "registry", "show", "a@1", "--project", str(project),
                          "--format", "json")
    reasons = [t["reason"] for t in json.loads(out)["transitions"]]
    assert reasons == ["registered (blessed)", "promoted by hand",
                       "replaced by v2", "rollback from v2: p99 latency doubled"]
    code, out, _ = _pipec(capsys, "registry", "show", "a@2", "--project", str(project))
    assert "promoted by hand: fixes the drift" in out
    assert "rolled back: p99 latency doubled" in out


def test_show_is_text_unless_json_is_asked_for(project: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _pipec(capsys, "registry", "show", "a@1", "--project", str(project))
    assert code == 0 and out.startswith("a@1  ") and "  history\n" in out
    assert "approval    none required" in out


def test_runs_show_is_text_unless_json_is_asked_for(project: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _pipec(capsys, "runs", "show", "run1", "--project", str(project))
    assert code == 0 and out.startswith("run run1  p  succeeded") and "\n  stages" in out
    assert "  model     a: sklearn.linear_model.LogisticRegression seed 1" in out
    code, out, _ = _pipec(capsys, "runs", "show", "run1", "--format", "json",
                          "--project", str(project))
    assert json.loads(out)["run_id"] == "run1"


def test_a_missing_registry_says_where_to_look(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["lineage", "m@1"], ["registry", "list"]):
        code, _, err = _pipec(capsys, *command, "--project", str(tmp_path))
        assert code == 2 and "relative to its .pipe file" in err and "--registry DIR" in err


def test_a_production_version_is_not_sent_back_for_approval(tmp_path: Path) -> None:
    """Re-registering its bytes (a re-run re-evaluates: latency is measured anew, so the
    report hash changes) leaves a version already in production bound to the run and the
    report it was approved and promoted with: its approval stands, its lineage names the
    run that made it, and promoting it again is a no-op."""
    registry = Registry(tmp_path / "registry")
    try:
        info = {"approval_by": "risk"}
        registry.register("m", b"m", serialize.sha256(b"m"), run_id="run1",
                          report_sha256="rep1", info=info, actor="ml")
        registry.approve("m", 1, approver="ana", team="risk")
        registry.promote("m", 1, actor="ana", reason="approved")
        again = registry.register("m", b"m", serialize.sha256(b"m"), run_id="run2",
                                  report_sha256="rep2", info=info, actor="ml")
        assert (again.version, again.report_sha256, again.run_id) == (1, "rep1", "run1")
        assert registry.missing_approval(again) is None
        # What the register stage now says (here: a pinned rollback) applies from now on.
        pinned = registry.register("m", b"m", serialize.sha256(b"m"), run_id="run3",
                                   report_sha256="rep3", info=info | {"rollback": 7},
                                   actor="ml")
        assert pinned.info["rollback"] == 7
        assert registry.promote("m", 1, actor="ml", reason="deployed").state == "production"
        assert len([t for t in registry.transitions("m") if t["to_state"] == "production"]) == 1
    finally:
        registry.close()


def test_a_candidate_is_bound_to_the_run_that_registered_it_last(tmp_path: Path) -> None:
    """Before promotion the newest evaluation is the one to approve."""
    registry = Registry(tmp_path / "registry")
    try:
        for run in ("run1", "run2"):
            version = registry.register("m", b"m", serialize.sha256(b"m"), run_id=run,
                                        report_sha256=f"rep-{run}", info={}, actor="ml")
        assert (version.version, version.report_sha256, version.run_id) == \
            (1, "rep-run2", "run2")
    finally:
        registry.close()


def test_a_moved_project_still_finds_its_registry(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A record kept the registry's absolute path: a project moved or cloned elsewhere
    (a CI checkout) no longer found a registry that is not at `registry/`."""
    import shutil

    from model.project import write_project

    path = write_project(tmp_path / "here")
    path.write_text(path.read_text("utf-8").replace('registry local "registry/"',
                                                    'registry local "models/"'), "utf-8")
    assert main(["run", str(path)]) == 0
    shutil.move(tmp_path / "here", tmp_path / "there")
    capsys.readouterr()
    code, out, err = _pipec(capsys, "registry", "list", "--project", str(tmp_path / "there"))
    assert code == 0 and out.startswith("model@1"), err


def test_the_registry_is_found_from_the_run_store_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`pipec run FILE --project STORE` keeps the registry beside FILE (its `registry
    local "registry/"`): `lineage` and `registry` with `--project STORE` find it through
    the run records, and say what to pass when there is nothing to find."""
    from model.project import write_project

    write_project(tmp_path / "code")
    store = tmp_path / "store"
    assert main(["run", str(tmp_path / "code" / "spend.pipe"), "--project", str(store)]) == 0
    capsys.readouterr()
    code, out, err = _pipec(capsys, "registry", "list", "--project", str(store))
    assert code == 0 and out.startswith("model@1"), err
    code, out, err = _pipec(capsys, "lineage", "model@1", "--project", str(store))
    assert code == 0, err
    code, _, err = _pipec(capsys, "registry", "list", "--project", str(tmp_path / "none"))
    assert code == 2 and "--registry DIR" in err
    assert not (tmp_path / "none").exists()  # looking created no run store


def test_rollback_never_restores_a_version_that_never_served(tmp_path: Path) -> None:
    """A pin to a candidate that waits for (or was refused) its approval is no way into
    production: the rollback is refused and nothing changes. A version that served is
    restored, and its history says from which state."""
    registry = Registry(tmp_path)
    try:
        for i, info in enumerate(({}, {"approval_by": "risk"}, {"rollback": 2}), 1):
            data = f"v{i}".encode()
            registry.register("m", data, serialize.sha256(data), run_id=f"r{i}",
                              report_sha256=f"rep{i}", actor="ml", info=info)
        registry.promote("m", 1, actor="a", reason="deployed")
        registry.promote("m", 3, actor="a", reason="deployed")
        with pytest.raises(RegistryError, match="v2 was never in production"):
            registry.rollback("m", actor="a")
        assert (registry.production("m").version, registry.get("m", 2).state) == \
            (3, "candidate")
        registry.register("m", b"v3", serialize.sha256(b"v3"), run_id="r4",
                          report_sha256="rep4", actor="ml", info={"rollback": 1})
        assert registry.rollback("m", actor="a").version == 1
        restored = registry.transitions("m")[-1]
        assert (restored["version"], restored["from_state"], restored["to_state"]) == \
            (1, "archived", "production")
    finally:
        registry.close()


def test_a_rerun_without_approval_by_does_not_waive_a_recorded_one(tmp_path: Path) -> None:
    """A candidate registered under `approval by risk` still waits for risk when the same
    bytes are registered again from a file without the line; a new team replaces it."""
    registry = Registry(tmp_path)
    try:
        for run, info in (("r1", {"approval_by": "risk"}), ("r2", {})):
            entry = registry.register("m", b"m", serialize.sha256(b"m"), run_id=run,
                                      report_sha256=f"rep-{run}", actor="ml", info=info)
        assert registry.missing_approval(entry) == "risk"
        with pytest.raises(RegistryError, match="waits for approval by risk"):
            registry.promote("m", 1, actor="ml", reason="deployed")
        entry = registry.register("m", b"m", serialize.sha256(b"m"), run_id="r3",
                                  report_sha256="rep-r3", actor="ml",
                                  info={"approval_by": "ops"})
        assert registry.missing_approval(entry) == "ops"
    finally:
        registry.close()


def test_registry_and_run_text_never_pass_terminal_escapes(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A shared registry's names and reasons are other people's text: an ESC in them
    (recolour, retitle the terminal) is shown as a picture, in `registry show|list` and
    `runs show` alike, and JSON keeps the exact text."""
    evil = "evil\x1b[31mred\x1b]0;pwned\x07"
    for command in (["promote", "a@1", "--reason", evil], ["promote", "b@1", "--reason", evil]):
        assert _pipec(capsys, "registry", *command, "--project", str(project))[0] == 0
    registry = Registry(project / "registry")
    try:
        registry.register("a", b"a2", serialize.sha256(b"a2"), run_id="run\x1b[2J",
                          report_sha256="r", info={}, actor="ml")
    finally:
        registry.close()
    for command in (["registry", "show", "a@1"], ["registry", "list"]):
        code, out, _ = _pipec(capsys, *command, "--project", str(project))
        assert code == 0 and "\x1b" not in out and "\x07" not in out, out
    assert "evil␛[31mred␛]0;pwned␇" in _pipec(capsys, "registry", "show", "a@1",
                                               "--project", str(project))[1]
    code, out, _ = _pipec(capsys, "registry", "show", "a@1", "--format", "json",
                          "--project", str(project))
    assert json.loads(out)["transitions"][-1]["reason"] == f"promoted by hand: {evil}"


def test_runs_list_says_when_it_shows_only_the_newest(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """More runs than `--limit`: the newest are listed and stderr says how many there
    are; `--limit 0` lists them all."""
    records = RunRecords(project)
    try:
        for run_id in ("run2", "run3"):
            records.write(_record(run_id))
    finally:
        records.close()
    code, out, err = _pipec(capsys, "runs", "list", "--limit", "2", "--project", str(project))
    assert code == 0 and len(out.splitlines()) == 2
    assert "(the newest 2 of 3 runs; `--limit 0` lists them all)" in err
    code, out, err = _pipec(capsys, "runs", "list", "--limit", "0", "--project", str(project))
    assert code == 0 and len(out.splitlines()) == 3 and err == ""
    with pytest.raises(SystemExit):
        main(["runs", "list", "--limit", "-1", "--project", str(project)])


def test_a_record_says_which_label_rule_and_split_dates_it_ran() -> None:
    """Lineage and `runs diff` answer from the record: a label threshold or a split date
    edited between two runs shows there, not only as another dag_hash."""
    from pipec.stdlib.runtime.records import _add_stage

    def recorded(value: int, test_from: str) -> dict[str, Any]:
        record: dict[str, Any] = {}
        label = {"id": "label.late", "kind": "label", "name": "late", "mode": "when",
                 "column": "arr_delay", "op": ">", "value": value, "owner": "a",
                 "definition_hash": f"h{value}"}
        split = {"id": "split", "kind": "split", "name": "split", "by": "time", "on": "t",
                 "train_before": {"date": "2013-10-01"}, "test_from": {"date": test_from}}
        _add_stage(record, label, {"censored": 0}, {})
        _add_stage(record, split, {"train": 5}, {})
        return record

    first, second = recorded(15, "2013-10-03"), recorded(60, "2013-10-05")
    assert first["labels"]["late"]["rule"] == {"column": "arr_delay", "mode": "when",
                                               "op": ">", "value": 15}
    assert first["labels"]["late"]["definition_hash"] == "h15"
    changes = diff(first, second)
    assert changes["labels.late.rule.value"] == (15, 60)
    assert changes["split.rule.test_from.date"] == ("2013-10-03", "2013-10-05")


def test_approve_refuses_a_version_that_needs_none_and_records_one_approval(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An approval nobody asked for is refused (it would read as a sign-off in `show`);
    approving a report the team already approved records nothing and says who did."""
    code, _, err = _pipec(capsys, "registry", "approve", "a@1", "--by", "no_such_team",
                          "--project", str(project))
    assert code == 2 and "needs no approval" in err
    registry = Registry(project / "registry")
    try:
        _register(registry, "c", b"c", info={"approval_by": "risk"})
    finally:
        registry.close()
    for approver in ("ana", "bo"):
        code, out, _ = _pipec(capsys, "registry", "approve", "c@1", "--by", "risk",
                              "--approver", approver, "--project", str(project))
        assert code == 0
    assert "was already approved by ana (risk)" in out and "nothing recorded" in out


def test_a_run_without_a_record_is_named_as_such(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run killed before its record (SIGKILL) stays `running` in the index: `runs show`
    and `runs diff` say so, and which of the two runs `diff` could not find."""
    from pipec.stdlib.runtime.store import RunIndex

    index = RunIndex(project)
    try:
        index.start_run("killed123", None)
    finally:
        index.close()
    code, _, err = _pipec(capsys, "runs", "show", "killed", "--project", str(project))
    assert code == 2 and "run killed123 has no record: the run index says `running`" in err
    code, _, err = _pipec(capsys, "runs", "diff", "run1", "nosuch", "--project", str(project))
    assert code == 2 and err.strip() == "pipec: no run `nosuch`"


def test_a_rollback_to_a_version_that_failed_its_latest_evaluation_warns(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In an incident the version that served before is restored all the same, but the
    rollback says that its latest evaluation failed."""
    registry = Registry(project / "registry")
    try:
        _register(registry, "a", b"a2")
        registry.promote("a", 1, actor="ml", reason="up")
        registry.promote("a", 2, actor="ml", reason="up")
        registry.mark_unblessed(registry.get("a", 1), run_id="run9", report_sha256="r",
                                failed=["primary roc_auc >= 0.9"])
    finally:
        registry.close()
    code, out, err = _pipec(capsys, "registry", "rollback", "a", "--project", str(project))
    assert code == 0 and "a@1 is production again" in out
    assert "warning: a v1 failed its gates in its latest evaluation (run run9: " \
           "primary roc_auc >= 0.9)" in err
