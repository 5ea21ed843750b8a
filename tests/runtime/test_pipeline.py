"""End-to-end runs of hand-written manifests over tiny parquet files."""

from __future__ import annotations

import copy
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipec.stdlib.runtime import (
    StageNotAvailable,
    run_pipeline,
    run_stage,
)

from .manifests import DAY, fraud_manifest, stage, write_fraud_data


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    write_fraud_data(tmp_path)
    return tmp_path


def test_until_split_reports_everything(project: Path) -> None:
    result = run_pipeline(fraud_manifest(), project, project, until="split")
    assert result.status == "succeeded"
    report = result.report
    assert set(report["validation"]) == {"validate.chargebacks", "validate.transactions"}
    assert report["examples"] == 800 and report["censored"] == 0
    split = report["split"]
    assert split["train"] > 0 and split["test"] > 0
    assert split["train"] + split["test"] + split["valid"] + split["dropped"] == 800
    assert "train.fraud_gbm" not in [s["id"] for s in report["stages"]]


def test_second_run_is_cached(project: Path) -> None:
    run_pipeline(fraud_manifest(), project, project, until="split")
    seen: list[tuple[str, str]] = []
    again = run_pipeline(
        fraud_manifest(),
        project,
        project,
        until="split",
        progress=lambda sid, status: seen.append((sid, status)),
    )
    status = {s.stage_id: s.status for s in again.stages}
    # An unchanged file keeps even its source stage cached: every stage is skipped.
    for sid in ("source.transactions", "validate.transactions", "features.account_risk",
                "label.is_fraud", "join", "split"):
        assert status[sid] == "skipped (cached)"
    assert ("join", "skipped (cached)") in seen


def test_changed_data_invalidates_downstream(project: Path) -> None:
    first = run_pipeline(fraud_manifest(), project, project, until="split")
    write_fraud_data(project, days=150)
    second = run_pipeline(fraud_manifest(), project, project, until="split")
    assert {s.status for s in second.stages} == {"ran"}
    assert second.report["examples"] < first.report["examples"]


def test_censoring_uses_label_source_snapshot(project: Path) -> None:
    manifest = fraud_manifest()
    cb = next(s for s in manifest["stages"] if s["id"] == "source.chargebacks")
    cb["snapshot"] = "2026-06-01"  # rows after 2026-06-01 + 1d - 32d are censored
    cb["definition_hash"] = "changed"
    result = run_pipeline(manifest, project, project, until="join")
    assert result.report["censored"] > 0
    assert result.report["examples"] + result.report["censored"] == 800


def test_blocking_validation_stops_before_features(project: Path) -> None:
    table = pq.read_table(project / "data" / "transactions.parquet")
    amounts = table.column("amount").to_pylist()
    amounts[0] = -5.0
    table = table.set_column(2, "amount", pa.array(amounts))
    pq.write_table(table, project / "data" / "transactions.parquet")
    result = run_pipeline(fraud_manifest(), project, project, until="split")
    assert result.status == "blocked"
    assert result.report["blocked_by"] == "validate.transactions"
    failed = [
        c for c in result.report["validation"]["validate.transactions"]["checks"] if not c["passed"]
    ]
    assert failed[0]["check"] == "range amount >= 0" and failed[0]["rows_failing"] == 1
    assert failed[0]["values"] == ["-5.0"]
    assert not any(s.stage_id.startswith("features") for s in result.stages)
    warn = run_pipeline(fraud_manifest(txn_on_failure="warn"), project, project, until="split")
    assert warn.status == "succeeded"


def test_drift_against_first_run(project: Path) -> None:
    assert (
        run_pipeline(fraud_manifest(), project, project, until="validate.transactions").status
        == "succeeded"
    )
    write_fraud_data(project, amount_scale=10.0)
    result = run_pipeline(fraud_manifest(), project, project, until="validate.transactions")
    assert result.status == "blocked"
    drift = [
        c
        for c in result.report["validation"]["validate.transactions"]["checks"]
        if c["kind"] == "drift"
    ][0]
    assert not drift["passed"] and drift["detail"]["baseline"] == 47.5


def test_drift_baselines_are_kept_per_pipeline(project: Path) -> None:
    """Two pipelines in one project share the run store and their stage ids: the first
    run of the second pipeline records its own baseline instead of failing against the
    first pipeline's data."""
    first = run_pipeline(fraud_manifest(), project, project, until="validate.transactions")
    assert first.status == "succeeded"
    write_fraud_data(project, amount_scale=10.0)
    other = fraud_manifest()
    other["pipeline"] = other["pipeline"] | {"name": "fraud_scaled"}
    result = run_pipeline(other, project, project, until="validate.transactions")
    assert result.status == "succeeded"
    drift = next(c for c in result.report["validation"]["validate.transactions"]["checks"]
                 if c["kind"] == "drift")
    assert drift["passed"] and drift["detail"]["baseline"] is None


def test_run_stage_directly_and_missing_upstream(project: Path) -> None:
    manifest = fraud_manifest()
    result = run_stage(manifest, project, "source.transactions", project, "r1")
    assert result.status == "ran" and result.report["snapshot"] == "2026-07-19"
    assert result.report["content_hash"] == result.outputs["dataset"]
    from pipec.stdlib.runtime import MissingUpstream

    with pytest.raises(MissingUpstream):
        run_stage(manifest, project, "join", project, "r1")


def test_unknown_stage_kind_is_a_typed_error(project: Path) -> None:
    manifest = fraud_manifest()
    odd = next(s for s in manifest["stages"] if s["id"] == "train.fraud_gbm")
    odd["kind"] = "frobnicate"
    result = run_pipeline(manifest, project, project)
    assert result.status == "failed" and \
        "the runtime cannot run stages of kind 'frobnicate'" in result.report["error"]
    with pytest.raises(StageNotAvailable):
        run_stage(manifest, project, "train.fraud_gbm", project, result.run_id)


def test_from_stage_reuses_earlier_outputs(project: Path) -> None:
    run_pipeline(fraud_manifest(), project, project, until="split")
    result = run_pipeline(fraud_manifest(), project, project, from_stage="split", until="split")
    status = {s.stage_id: s.status for s in result.stages}
    assert status["join"] == "reused" and status["split"] == "skipped (cached)"


def test_from_stage_refuses_outputs_made_by_another_program(project: Path) -> None:
    """`--from train` after an edit of the split: the old split is not handed on (the
    record and the model's lineage would describe the edited split), and the run says
    from where to start instead, before anything runs."""
    run_pipeline(fraud_manifest(), project, project, until="split")
    again = run_pipeline(fraud_manifest(), project, project, from_stage="train.fraud_gbm",
                         until="train.fraud_gbm")
    assert again.status != "failed"
    earlier = {"by": "time", "on": "decision_at", "test": None, "valid": None, "seed": None,
               "train_before": {"snapshot_minus_s": 110 * DAY}, "gap_s": 32 * DAY,
               "test_from": {"snapshot_minus_s": 78 * DAY}, "test_until": None,
               "holdout": None}
    edited = run_pipeline(fraud_manifest(split=earlier), project, project,
                          from_stage="train.fraud_gbm", until="train.fraud_gbm")
    assert edited.status == "failed"
    assert "split changed since its outputs were made" in edited.report["error"]
    assert "`--from split`" in edited.report["error"]
    assert "train.fraud_gbm" not in {s.stage_id for s in edited.stages}


def test_from_stage_reuses_the_outputs_that_match_after_an_edit_is_reverted(
        project: Path) -> None:
    """Split S1, then S2 (an edit, or another pipeline sharing the store), then S1 again
    with `--from train`: S1's own outputs match what the split would make now, so they
    are reused, not refused because S2 ran last."""
    run_pipeline(fraud_manifest(), project, project, until="split")
    earlier = {"by": "time", "on": "decision_at", "test": None, "valid": None, "seed": None,
               "train_before": {"snapshot_minus_s": 110 * DAY}, "gap_s": 32 * DAY,
               "test_from": {"snapshot_minus_s": 78 * DAY}, "test_until": None,
               "holdout": None}
    run_pipeline(fraud_manifest(split=earlier), project, project, until="split")
    back = run_pipeline(fraud_manifest(), project, project, from_stage="train.fraud_gbm",
                        until="train.fraud_gbm")
    assert back.status != "failed", back.report.get("error")
    assert {s.stage_id: s.status for s in back.stages}["split"] == "reused"


def test_column_label_and_random_split(project: Path) -> None:
    manifest = fraud_manifest(split={"by": "random", "test": 0.25, "valid": 0.1, "seed": 5})
    stages = [s for s in manifest["stages"] if s["id"] != "label.is_fraud"]
    stages.insert(
        5,
        stage(
            "label",
            "big",
            ["validate.transactions"],
            mode="when",
            source=None,
            window_s=None,
            column="amount",
            op=">",
            value=50,
            maturity_s=0,
            definition=None,
        ),
    )
    join = next(s for s in stages if s["id"] == "join")
    join.update(
        label="label.big",
        label_name="big",
        definition_hash="j2",
        inputs=["features.account_risk", "label.big", "validate.transactions"],
    )
    manifest = copy.deepcopy(manifest) | {"stages": stages}
    result = run_pipeline(manifest, project, project, until="split")
    assert result.status == "succeeded", result.report
    assert result.report["censored"] == 0
    sizes = result.report["split"]
    assert sizes["valid"] > 0 and sizes["dropped"] == 0
    assert sum(sizes[k] for k in ("train", "valid", "test")) == 800


def test_a_blocked_first_run_sets_no_drift_baseline(project: Path) -> None:
    """QA: a first run on an empty export (blocked) recorded its missing mean as the
    baseline; every later run then drifted from "no baseline" and none could be blessed
    to replace it. A blocked validation records nothing, and says so."""
    import pyarrow.parquet as pq

    data = project / "data" / "transactions.parquet"
    full = pq.read_table(data)
    pq.write_table(full.slice(0, 0), data)
    blocked = run_pipeline(fraud_manifest(), project, project, until="validate.transactions")
    assert blocked.status == "blocked"
    drift = next(c for c in blocked.report["validation"]["validate.transactions"]["checks"]
                 if c["kind"] == "drift")
    assert drift["detail"] == {"current": None, "baseline": None, "recorded": False}
    pq.write_table(full, data)
    again = run_pipeline(fraud_manifest(), project, project, until="validate.transactions")
    assert again.status == "succeeded", again.report
    drift = next(c for c in again.report["validation"]["validate.transactions"]["checks"]
                 if c["kind"] == "drift")
    assert drift["detail"]["recorded"] is True


def test_rows_without_a_time_are_counted_in_the_report(project: Path) -> None:
    """QA: rows with no time were left out by the source and counted nowhere a user
    reads when no `require` named the time column."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pipec.commands.run_report import report_lines

    data = project / "data" / "transactions.parquet"
    table = pq.read_table(data)
    at = table.column("decision_at").to_pylist()
    at[0] = at[1] = None
    index = table.schema.get_field_index("decision_at")
    pq.write_table(table.set_column(index, "decision_at",
                                    pa.array(at, table.schema.field(index).type)), data)
    result = run_pipeline(fraud_manifest(), project, project, until="validate.transactions")
    report = result.report["validation"]["validate.transactions"]
    assert report["rows_without_time"] == 2
    stages = {s.stage_id: s for s in result.stages}
    line = next(x for x in report_lines(result.status, result.report, stages)
                if x.startswith("validate.transactions:"))
    assert f"on {report['rows']:,} rows (2 more without a time left out)" in line


def test_an_empty_base_with_snapshot_latest_stops_the_split_with_a_reason(
        project: Path) -> None:
    """QA: `snapshot latest` over a header-only export failed the split with "a date
    relative to the snapshot needs a resolved snapshot" (exit 2, as a broken
    environment). It stops the run, naming the source and why."""
    import pyarrow.parquet as pq
    from pipec.stdlib.runtime.errors import RunStopped

    data = project / "data" / "transactions.parquet"
    pq.write_table(pq.read_table(data).slice(0, 0), data)
    manifest = fraud_manifest()
    for entry in manifest["stages"]:
        if entry["kind"] == "validate":
            entry["on_failure"] = "warn"  # past the checks an empty export fails
    from pipec.stdlib.runtime import run_stage

    ids = [entry["id"] for entry in manifest["stages"]]
    for stage_id in ids[:ids.index("split")]:
        run_stage(manifest, project, stage_id, project, "r1")
    with pytest.raises(RunStopped, match="source `transactions` has no rows with a time, so "
                       "`snapshot latest` resolved to no date, and the split's train before, "
                       "test from"):
        run_stage(manifest, project, "split", project, "r1")
