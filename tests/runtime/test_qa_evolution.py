"""A pipeline as a team edits it over weeks: an edit, a run, the edit reverted, a run
again. What re-runs, what the registry binds a version to, and what `runs diff` and
`lineage` then say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pipec
import pytest
from model.project import write_project
from pipec.cli import main
from pipec.manifest import build_manifest
from pipec.stdlib.runtime import run_pipeline
from pipec.stdlib.runtime.registry import Registry


def _run(path: Path, **kwargs: Any) -> Any:
    manifest = build_manifest(pipec.compile(path))
    return run_pipeline(manifest, path.parent, path.parent, **kwargs)


def _output(result: Any, stage_id: str, name: str) -> str:
    return next(s.outputs[name] for s in result.stages if s.stage_id == stage_id)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


def _version(folder: Path, version: int = 1) -> Any:
    registry = Registry(folder / "registry")
    try:
        return registry.get("model", version)
    finally:
        registry.close()


def _approve_v1(folder: Path) -> None:
    registry = Registry(folder / "registry")
    try:
        registry.approve("model", 1, approver="ana", team="risk")
    finally:
        registry.close()


def _versions(folder: Path) -> list[Any]:
    registry = Registry(folder / "registry")
    try:
        return registry.versions("model")
    finally:
        registry.close()


def test_a_reverted_gate_edit_finds_the_approval_of_the_report_it_evaluates(
        tmp_path: Path) -> None:
    """Approved, then a gate edited (a new report: the approval no longer holds), then
    the edit reverted: the run evaluates (from the cache) the very report that was
    approved, and deploys. The cached registration left the candidate bound to the
    in-between run's report before: the run waited for an approval already given, and
    approving again approved a report of a program that no longer exists."""
    path = write_project(tmp_path, approval=True)
    assert _run(path).status == "waiting"
    _approve_v1(tmp_path)
    _edit(path, "primary roc_auc >= 0.6\n", "primary roc_auc >= 0.61\n")
    assert _run(path).status == "waiting"  # another report: not the one approved
    _edit(path, "primary roc_auc >= 0.61\n", "primary roc_auc >= 0.6\n")
    result = _run(path)
    assert result.status == "succeeded", result.report
    entry = _version(tmp_path)
    assert entry.state == "production"
    assert entry.report_sha256 == _output(result, "evaluate.model", "evaluation")
    assert entry.run_id == result.run_id


def test_lineage_names_only_the_feature_views_the_model_reads() -> None:
    """A second model added with a feature view of its own: the first model's lineage
    does not claim that view (it named every view the run computed before)."""
    from pipec.commands.lineage import answer

    views = {name: {"version": 1, "definition_hash": name, "table": name}
             for name in ("history", "extra")}
    record = {"environment": {"image": None}, "features": views,
              "models": {"model": {"model_sha256": "m", "features": ["amount",
                                                                      "history__visits_7d"]},
                         "other": {"model_sha256": "o", "features": ["extra__n_1d"]}}}
    entry = {"model": "model", "version": 1, "sha256": "m", "report_sha256": None,
             "state": "candidate", "run_id": "r", "info": {}}
    assert list(answer(entry, record, None)["3. which feature versions"]) == ["history"]
    other = entry | {"model": "other", "sha256": "o"}
    assert list(answer(other, record, None)["3. which feature versions"]) == ["extra"]


def test_a_reverted_feature_version_is_what_the_serving_models_lineage_says(
        tmp_path: Path) -> None:
    """A feature view's `version` bumped (the same features: the same model bytes, the
    same version in the registry, now bound to that run), then put back: the run that
    comes back from the cache made the production model too, and its lineage must not
    keep answering `version 2` for a program that no longer exists."""
    from pipec.stdlib.runtime.records import RunRecords

    path = write_project(tmp_path)
    assert _run(path).status == "succeeded"
    _edit(path, "features history version 1", "features history version 2")
    assert _run(path).status == "succeeded"
    _edit(path, "features history version 2", "features history version 1")
    result = _run(path)
    assert result.status == "succeeded"
    entry = _version(tmp_path)
    assert (entry.state, entry.run_id) == ("production", result.run_id)
    assert entry.report_sha256 == _output(result, "evaluate.model", "evaluation")
    records = RunRecords(tmp_path)
    try:
        assert records.get(entry.run_id)["features"]["history"]["version"] == 1
    finally:
        records.close()
    assert len(_versions(tmp_path)) == 1  # the same bytes: the same version


def test_lineage_takes_no_other_models_rejection() -> None:
    """A second model with its own approval step, rejected at its v1: the first model's
    v1 was not rejected, and its lineage must not say so (the step was found by the
    version number alone)."""
    from pipec.commands.lineage import answer

    record = {"environment": {"image": None},
              "approval": {"other": {"model": "other", "version": 1, "approver": "risk",
                                     "rejected_by": "bo"},
                           "model": {"model": "model", "version": 1, "approver": "risk",
                                     "approved_by": "ana"}}}
    entry = {"model": "model", "version": 1, "sha256": "m", "report_sha256": None,
             "state": "production", "run_id": "r", "info": {"approval_by": "risk"}}
    gates = answer(entry, record, None)["7. which gates and approvals"]
    assert "rejected_by" not in gates
    other = entry | {"model": "other", "sha256": "o"}
    assert answer(other, record, None)["7. which gates and approvals"]["rejected_by"] == "bo"


def test_a_serving_version_keeps_the_metrics_of_the_report_it_keeps(tmp_path: Path) -> None:
    """Approved and serving, then the split's test window edited (the train set, so the
    model bytes, unchanged): the version keeps its approved report and run, and `registry
    show` must show that report's metrics beside them, not the new test window's."""
    path = write_project(tmp_path, approval=True)
    assert _run(path).status == "waiting"
    _approve_v1(tmp_path)
    assert _run(path).status == "succeeded"
    approved = _version(tmp_path)
    _edit(path, "test from 2026-03-03", "test from 2026-03-10")
    assert _run(path).status == "succeeded"
    kept = _version(tmp_path)
    assert (kept.state, kept.report_sha256, kept.run_id) == \
        ("production", approved.report_sha256, approved.run_id)
    assert kept.info["metrics"] == approved.info["metrics"]
    assert kept.info["dag_hash"] == approved.info["dag_hash"]


def _drift_detail(result: Any) -> dict[str, Any]:
    report = next(s.report for s in result.stages if s.stage_id == "validate.events")
    return next(c["detail"] for c in report["checks"] if c["check"].startswith("drift"))


def test_a_cached_validation_says_which_baseline_its_drift_check_compared_with(
        tmp_path: Path) -> None:
    """The second run of an unchanged pipeline compares the drift statistic with the
    first run's value. Its validation came from the cache with the first run's words,
    "recorded as the baseline" and no baseline, so `runs show` said so of every later
    run, and `runs diff` named a baseline that vanished when a run came from the cache."""
    path = write_project(tmp_path)
    _edit(path, "    unique user, at\n",
          "    unique user, at\n    drift mean(amount) within 3x of baseline\n")
    first = _run(path)
    assert _drift_detail(first)["recorded"] is True
    second = _run(path)
    assert next(s.status for s in second.stages if s.stage_id == "validate.events") == \
        "skipped (cached)"
    current = _drift_detail(first)["current"]
    assert _drift_detail(second) == {"current": current, "baseline": current}


def test_runs_diff_names_a_feature_window_edit_and_an_owner_edit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`runs diff` is how a team finds what changed between two runs. A feature window
    edit showed only as a new definition hash and table, and an owner edit (which keeps
    every hash, so nothing re-runs) only as a new `dag_hash`."""
    path = write_project(tmp_path)
    first = _run(path).run_id
    _edit(path, "feature visits_7d = count() over 7d", "feature visits_7d = count() over 14d")
    _edit(path, "  validate events {\n    owner data\n", "  validate events {\n    owner ml\n")
    second = _run(path).run_id
    assert main(["runs", "diff", first, second, "--project", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert 'owners.validate.events: ["data"] -> ["ml"]' in lines
    assert "features.history.rule.aggregates.visits_7d.window_s: 604800 -> 1209600" in lines


def test_lineage_names_the_columns_the_model_was_fitted_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Question 4 (which parameters) named the estimator, its params, seed and split, but
    not what it read: a feature dropped from `features [...]` left the answer unchanged."""
    path = write_project(tmp_path)
    assert _run(path).status == "succeeded"
    assert main(["lineage", "model@1", "--project", str(tmp_path), "--format", "json"]) == 0
    answers = json.loads(capsys.readouterr().out)
    features = answers["4. which parameters"]["features"]
    assert "history__visits_7d" in features and "history__amount_mean_7d" in features
