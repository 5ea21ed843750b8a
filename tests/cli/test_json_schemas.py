"""The published schemas of `runs list|show`, `registry list|show` and `lineage` with
`--format json` (docs/*.schema.json): each is a valid draft 2020-12 schema, the real
output of every kind of run validates against it (succeeded; blocked by a check, a gate
or a reviewer's rejection; waiting for an approval; failed after its retries; versions
candidate, production and archived; lineage with and without an approval), and the same
output with a field removed or a wrong value does not."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import REPO
from model.project import negative_amount, write_project
from pipec.cli import main

DOCS = REPO / "docs"
SCHEMAS = ("runs-list", "run-record", "registry", "lineage")
Mutation = Callable[[Any], object]


def _schema(name: str) -> dict[str, Any]:
    return json.loads((DOCS / f"{name}.schema.json").read_text("utf-8"))


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_schema(name))


def _rejects(validator: jsonschema.Draft202012Validator, document: Any,
             **mutations: Mutation) -> None:
    """Each mutation, applied to a copy of a valid `document`, makes it invalid."""
    validator.validate(document)
    for name, mutate in mutations.items():
        broken = copy.deepcopy(document)
        mutate(broken)
        assert not validator.is_valid(broken), f"the schema accepts {name}"


# ------------------------------------------------------------- running pipec in process


def _pipec(*args: str) -> tuple[int, str, str]:
    """pipec in process; module-scoped fixtures cannot use capsys."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _expect(code: int, *args: str) -> str:
    got, out, err = _pipec(*args)
    assert got == code, f"pipec {' '.join(args)}: exit {got}\n{out}{err}"
    return out


def _json(project: Path, *args: str) -> Any:
    return json.loads(_expect(0, *args, "--project", str(project), "--format", "json"))


def _records(project: Path) -> list[dict[str, Any]]:
    """Every run's record, newest first."""
    return [_json(project, "runs", "show", run["run_id"])
            for run in _json(project, "runs", "list")]


def _set_c(path: Path, old: str, new: str) -> None:
    """Another `C`: another model, so another registry version."""
    text = path.read_text("utf-8")
    path.write_text(text.replace(f"params {{ C: {old},", f"params {{ C: {new},"), "utf-8")


def _build(path: Path) -> Path:
    _expect(0, "build", str(path), "--target", "local", "-o", str(path.parent / "build"))
    return path.parent / "build" / "lineage.json"


def _stage(code: int, manifest: Path, stage: str, run_id: str, *extra: str) -> None:
    _expect(code, "stage", "run", "--manifest", str(manifest), "--stage", stage,
            "--run-id", run_id, *extra)


# ------------------------------------------------------------------ one project per case


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No approval: v1 deployed; v2 (another C) deployed over it, compared with v1 as the
    champion; then rolled back: v1 production again, v2 archived."""
    folder = tmp_path_factory.mktemp("released")
    path = write_project(folder)
    _expect(0, "run", str(path))
    _set_c(path, "1.0", "0.5")
    _expect(0, "run", str(path))
    _expect(0, "registry", "rollback", "model", "--reason", "schema test", "--project",
            str(folder))
    return folder


@pytest.fixture(scope="module")
def approvals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`approval by risk`: v1 waits, is approved, and the next run deploys it; v2 waits,
    is approved and promoted by hand (v1 archived); v3 waits, a candidate."""
    folder = tmp_path_factory.mktemp("approvals")
    path = write_project(folder, approval=True)
    _expect(3, "run", str(path))
    _expect(0, "registry", "approve", "model@1", "--by", "risk", "--approver", "ana",
            "--project", str(folder))
    _expect(0, "run", str(path))
    _set_c(path, "1.0", "0.5")
    _expect(3, "run", str(path))
    _expect(0, "registry", "approve", "model@2", "--by", "risk", "--approver", "bo",
            "--project", str(folder))
    _expect(0, "registry", "promote", "model@2", "--project", str(folder))
    _set_c(path, "0.5", "0.25")
    _expect(3, "run", str(path))
    return folder


@pytest.fixture(scope="module")
def blocked_by_check(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One negative amount breaks the blocking `range amount >= 0`."""
    folder = tmp_path_factory.mktemp("blocked_by_check")
    path = write_project(folder)
    negative_amount(folder)
    _expect(1, "run", str(path))
    return folder


@pytest.fixture(scope="module")
def blocked_by_gate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`primary roc_auc >= 0.99` fails: the register stage refuses the model."""
    folder = tmp_path_factory.mktemp("blocked_by_gate")
    _expect(1, "run", str(write_project(folder, min_auc=0.99)))
    return folder


@pytest.fixture(scope="module")
def rejected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stage by stage, as an orchestrator runs it: run x1 is rejected at the approval step
    (blocked); run d1 runs the deploy stage alone, which fails: nothing approved v1."""
    folder = tmp_path_factory.mktemp("rejected")
    manifest = _build(write_project(folder, approval=True))
    order = [s["id"] for s in json.loads(manifest.read_text("utf-8"))["stages"]]
    for stage in order[:order.index("approval.model")]:
        _stage(0, manifest, stage, "x1")
    _stage(0, manifest, "approval.model", "x1", "--rejected-by", "risk-reviewer")
    _stage(2, manifest, "deploy.model", "d1")
    return folder


@pytest.fixture(scope="module")
def failed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`retries 1` and `on_failure alert` on a source that cannot be read: the first
    attempt of run r1 ends nothing, the second ends it failed; `pipec run` fails too."""
    folder = tmp_path_factory.mktemp("failed")
    path = write_project(folder)
    text = path.read_text("utf-8").replace("  retrain manual\n",
                                           "  retrain manual\n  retries 1\n")
    path.write_text(text.replace("    owner data\n    from parquet", "    owner data\n"
                                 '    on_failure alert "no events"\n    from parquet', 1),
                    "utf-8")
    (folder / "data" / "events.parquet").write_bytes(b"not parquet")
    manifest = _build(path)
    _stage(2, manifest, "source.events", "r1")
    assert _pipec("runs", "show", "r1", "--project", str(folder))[0] == 2  # no record yet
    _stage(2, manifest, "source.events", "r1")
    _expect(2, "run", str(path), "--retry-delay", "0")
    return folder


# ----------------------------------------------------------------------- the schemas


@pytest.mark.parametrize("name", SCHEMAS)
def test_each_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    schema = _schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:pipec:schema:{name}:1"
    assert schema["description"] and schema["title"].startswith("pipec ")


def test_shared_pieces_are_defined_alike_in_every_schema() -> None:
    """The lineage answers quote the run record: their pieces must not drift apart."""
    record = _schema("run-record")["$defs"]
    for name in ("lineage", "registry", "runs-list"):
        for key, definition in _schema(name)["$defs"].items():
            assert key not in record or definition == record[key], f"{name}: {key}"
    assert set(_schema("lineage")["$defs"]) <= set(record)


# ------------------------------------------------------------------------- runs list


@pytest.mark.parametrize("case, statuses", [
    ("released", ["succeeded", "succeeded"]),
    ("approvals", ["waiting", "waiting", "succeeded", "waiting"]),
    ("blocked_by_check", ["blocked"]),
    ("blocked_by_gate", ["blocked"]),
    ("rejected", ["failed", "blocked"]),
    ("failed", ["failed", "failed"]),
])
def test_runs_list_validates(case: str, statuses: list[str],
                             request: pytest.FixtureRequest) -> None:
    runs = _json(request.getfixturevalue(case), "runs", "list")
    assert [run["status"] for run in runs] == statuses
    _rejects(_validator("runs-list"), runs,
             no_record_sha256=lambda d: d[0].pop("record_sha256"),
             an_unknown_status=lambda d: d[0].update(status="done"),
             a_short_hash=lambda d: d[0].update(record_sha256="5176428fcc77"),
             an_extra_field=lambda d: d[0].update(extra=1),
             a_string_time=lambda d: d[0].update(created_at="yesterday"))
    assert not _validator("runs-list").is_valid(runs[0])  # a run, not the list


# ------------------------------------------------------------------------ run records


def _valid_records(project: Path) -> list[dict[str, Any]]:
    records = _records(project)
    validator = _validator("run-record")
    for record in records:
        validator.validate(record)
        assert record["report"]["run_id"] == record["run_id"]
        assert record["report"]["status"] == record["status"]
    return records


def test_succeeded_records(released: Path) -> None:
    second, first = _valid_records(released)
    assert first["evaluations"]["model"]["champion"] is None
    assert second["evaluations"]["model"]["champion"]["version"] == 1
    assert second["deploy"]["model"]["version"] == 2 and "approval" not in second
    _rejects(_validator("run-record"), second,
             no_report=lambda d: d.pop("report"),
             an_unknown_status=lambda d: d.update(status="done"),
             a_stop_in_a_success=lambda d: d["report"].update(blocked_by="split"),
             an_unknown_stage_status=lambda d: d["stages"][0].update(status="finished"),
             rows_as_text=lambda d: d["data"]["events"].update(rows="3000"),
             an_extra_deploy_field=lambda d: d["deploy"]["model"].update(extra=1),
             an_unknown_metric=lambda d: d["evaluations"]["model"]["metrics"].update(
                 vibes={"value": 1, "low": 1, "high": 1}),
             no_package_versions=lambda d: d["environment"].pop("packages"))


def test_a_record_blocked_by_a_check(blocked_by_check: Path) -> None:
    [record] = _valid_records(blocked_by_check)
    assert record["report"]["blocked_by"] == "validate.events"
    assert record["report"]["validation"]["validate.events"]["passed"] is False
    assert record["register"] == {"model": None} and record["split"]["train"] is None
    _rejects(_validator("run-record"), record,
             no_blocked_by=lambda d: d["report"].pop("blocked_by"),
             failed_without_an_error=lambda d: d.update(status="failed"),
             a_fatal_check=lambda d: d["report"]["validation"]["validate.events"][
                 "checks"][0].update(severity="fatal"),
             no_policy=lambda d: d["report"]["validation"]["validate.events"].pop("policy"))


def test_a_record_blocked_by_a_gate(blocked_by_gate: Path) -> None:
    """The register stage that refuses the model records the whole evaluation report."""
    [record] = _valid_records(blocked_by_gate)
    assert record["report"]["blocked_by"] == "register.model"
    refused = record["register"]["model"]
    assert refused["blessed"] is False and "version" not in refused
    _rejects(_validator("run-record"), record,
             a_blessed_refusal=lambda d: d["register"]["model"].update(blessed=True),
             an_unknown_gate=lambda d: d["evaluations"]["model"]["gates"][0].update(
                 kind="vibes"),
             a_gate_without_verdict=lambda d: d["evaluations"]["model"]["gates"][0].pop(
                 "passed"))


def test_records_waiting_for_then_finding_an_approval(approvals: Path) -> None:
    records = _valid_records(approvals)
    assert [r["approval"]["model"].get("approved_by") for r in records] == [
        None, None, "ana", None]
    waiting = records[0]
    assert waiting["status"] == "waiting" and waiting["deploy"] == {"model": None}
    _rejects(_validator("run-record"), waiting,
             no_reason=lambda d: d["report"].pop("reason"),
             an_approval_without_its_team=lambda d: d["approval"]["model"].update(
                 approved_by="ana"),
             no_version=lambda d: d["approval"]["model"].pop("version"))


def test_records_rejected_at_the_approval_step_and_a_failed_deploy(rejected: Path) -> None:
    failed_deploy, rejection = _valid_records(rejected)
    assert rejection["status"] == "blocked"
    assert rejection["approval"]["model"]["rejected_by"] == "risk-reviewer"
    assert failed_deploy["status"] == "failed" and failed_deploy["approval"]["model"] is None
    assert set(failed_deploy["deploy"]["model"]) == {"error", "attempt"}
    _rejects(_validator("run-record"), rejection,
             a_nameless_rejection=lambda d: d["approval"]["model"].update(rejected_by=None))
    _rejects(_validator("run-record"), failed_deploy,
             attempt_zero=lambda d: d["deploy"]["model"].update(attempt=0),
             a_stop_in_a_failure=lambda d: d["report"].update(blocked_by="deploy.model"))


def test_records_failed_after_their_retries(failed: Path) -> None:
    local, staged = _valid_records(failed)
    assert staged["run_id"] == "r1"
    for record in (local, staged):
        assert [(s["stage_id"], s["status"]) for s in record["stages"]] == [
            ("source.events", "failed")]
        assert [a["message"] for a in record["report"]["alerts"]] == ["no events"]
    _rejects(_validator("run-record"), staged,
             no_error=lambda d: d["report"].pop("error"),
             no_alerts=lambda d: d["report"].update(alerts=[]),
             an_alert_without_why=lambda d: d["report"]["alerts"][0].pop("why"),
             a_hashless_cache_key=lambda d: d["stages"][0].update(cache_key="none"))


# -------------------------------------------------------------------------- registry


@pytest.mark.parametrize("case, states", [
    ("released", ["production", "archived"]),
    ("approvals", ["archived", "production", "candidate"]),
    ("rejected", ["candidate"]),
    ("blocked_by_gate", []),
])
def test_registry_list_validates(case: str, states: list[str],
                                 request: pytest.FixtureRequest) -> None:
    versions = _json(request.getfixturevalue(case), "registry", "list")
    assert [v["state"] for v in versions] == states
    if not versions:
        _validator("registry").validate(versions)
        return
    _rejects(_validator("registry"), versions,
             an_unknown_state=lambda d: d[0].update(state="staging"),
             version_zero=lambda d: d[0].update(version=0),
             a_show_field=lambda d: d[0].update(approval=None),
             no_rollback=lambda d: d[0]["info"].pop("rollback"),
             no_sha256=lambda d: d[0].pop("sha256"))


@pytest.mark.parametrize("case, ref, history, approver", [
    ("released", "model@1", ["candidate", "production", "archived", "production"], None),
    ("released", "model@2", ["candidate", "production", "archived"], None),
    ("approvals", "model@1", ["candidate", "production", "archived"], "ana"),
    ("approvals", "model@2", ["candidate", "production"], "bo"),
    ("approvals", "model@3", ["candidate"], None),
    ("rejected", "model@1", ["candidate", "candidate"], None),  # registered, rejected
])
def test_registry_show_validates(case: str, ref: str, history: list[str],
                                 approver: str | None,
                                 request: pytest.FixtureRequest) -> None:
    shown = _json(request.getfixturevalue(case), "registry", "show", ref)
    assert [t["to_state"] for t in shown["transitions"]] == history
    assert (shown["approval"] or {}).get("approver") == approver
    _rejects(_validator("registry"), shown,
             no_transitions=lambda d: d.pop("transitions"),
             an_empty_history=lambda d: d.update(transitions=[]),
             an_unknown_from_state=lambda d: d["transitions"][0].update(
                 from_state="deleted"),
             an_approval_without_its_team=lambda d: d.update(approval={"approver": "ana",
                                                                       "at": 1.0}),
             an_extra_field=lambda d: d.update(extra=1))


# --------------------------------------------------------------------------- lineage


@pytest.mark.parametrize("case, ref, required_by, approver, rejected_by", [
    ("released", "model@1", None, None, None),
    ("approvals", "model@1", "risk", "ana", None),
    ("approvals", "model@3", "risk", None, None),
    ("rejected", "model@1", "risk", None, "risk-reviewer"),
])
def test_lineage_validates(case: str, ref: str, required_by: str | None,
                           approver: str | None, rejected_by: str | None,
                           request: pytest.FixtureRequest) -> None:
    answers = _json(request.getfixturevalue(case), "lineage", ref)
    gates = answers["7. which gates and approvals"]
    assert gates["approval_required_by"] == required_by
    assert (gates["approval"] or {}).get("approver") == approver
    assert gates.get("rejected_by") == rejected_by
    _rejects(_validator("lineage"), answers,
             no_image=lambda d: d.pop("5. which image"),
             an_eighth_question=lambda d: d.update({"8. which weather": "sunny"}),
             an_approval_without_its_team=lambda d: d["7. which gates and approvals"].update(
                 approval={"approver": "ana", "at": 1.0}),
             a_numbered_rejection=lambda d: d["7. which gates and approvals"].update(
                 rejected_by=3),
             an_unjudged_gate=lambda d: d["7. which gates and approvals"].update(
                 gates=["maybe primary roc_auc >= 0.6"]),
             an_unknown_state=lambda d: d["model"].update(state="staging"))
