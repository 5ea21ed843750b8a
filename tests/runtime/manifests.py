"""Hand-written manifests (docs/manifest.md) and tiny data for the runtime tests."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

DAY = 86_400


def _hash(stage: dict[str, Any]) -> str:
    body = {k: v for k, v in stage.items() if k != "definition_hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def stage(kind: str, name: str, inputs: list[str], **fields: Any) -> dict[str, Any]:
    sid = name if kind in ("join", "split") else f"{kind}.{name}"
    out = {
        "id": sid,
        "kind": kind,
        "name": name,
        "owner": "team",
        "on_failure": "block",
        "retries": 0,
        "timeout_s": None,
        "inputs": sorted(inputs),
    } | fields
    out["definition_hash"] = _hash(out)
    return out


def col(name: str, type_: str, constraint: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "type": type_,
        "constraint": constraint,
        "pii": False,
        "after_event": False,
    }


def source(
    name: str,
    path: str,
    entity: str,
    time: str,
    schema: list[dict[str, Any]],
    *,
    fmt: str = "parquet",
    snapshot: str | None = "latest",
    lag_s: int = 0,
    query: str | None = None,
) -> dict[str, Any]:
    fields = {
        "format": fmt,
        "snapshot": snapshot,
        "entity": entity,
        "time": time,
        "lag_s": lag_s,
        "freshness_s": DAY,
        "schema": schema,
    }
    fields |= {"query": query} if fmt == "sql" else {"path": path}
    return stage("source", name, [], **fields)


def fraud_manifest(
    *,
    txn_checks: list[dict[str, Any]] | None = None,
    split: dict[str, Any] | None = None,
    txn_on_failure: str = "block",
) -> dict[str, Any]:
    """The reference program's data half (plus a train stage), as the compiler would emit."""
    txn_schema = [
        col("account_id", "string"),
        col("decision_at", "timestamp"),
        col("amount", "float", {"op": ">=", "value": 0}),
        col("country", "category"),
    ]
    cb_schema = [
        col("account_id", "string"),
        col("reported_at", "timestamp"),
        col("disputed_amount", "float", {"op": ">=", "value": 0}),
    ]
    checks = (
        txn_checks
        if txn_checks is not None
        else [
            {"kind": "require", "columns": ["account_id", "decision_at", "amount"]},
            {"kind": "range", "column": "amount", "op": ">=", "value": 0},
            {"kind": "completeness", "column": "amount", "op": ">=", "value": 0.99},
            {"kind": "unique", "columns": ["account_id", "decision_at"]},
            {"kind": "drift", "stat": "mean", "column": "amount", "factor": 5},
            {"kind": "freshness", "column": "decision_at", "within_s": 2 * DAY},
        ]
    )
    # As the compiler writes them: every line blocks unless marked `warn`; the stage's
    # `on_failure` decides whether a blocking failure stops the run.
    checks = [{"kind": "schema", "columns": txn_schema}] + checks
    checks = [c | {"severity": "block"} for c in checks]
    split = split or {
        "by": "time",
        "on": "decision_at",
        "test": None,
        "valid": None,
        "seed": None,
        "train_before": {"snapshot_minus_s": 100 * DAY},
        "gap_s": 32 * DAY,
        "test_from": {"snapshot_minus_s": 68 * DAY},
        "test_until": None,
        "holdout": None,
    }
    stages = [
        stage(
            "features",
            "account_risk",
            ["validate.transactions"],
            version=12,
            source="transactions",
            entity="account_id",
            time="decision_at",
            point_in_time=True,
            lag_s=0,
            columns=["country"],
            backfill=None,
            aggregates=[
                {"name": "txn_count_7d", "agg": "count", "column": None, "window_s": 7 * DAY},
                {
                    "name": "amount_mean_30d",
                    "agg": "mean",
                    "column": "amount",
                    "window_s": 30 * DAY,
                },
            ],
        ),
        stage(
            "label",
            "is_fraud",
            # As the compiler emits it: a windowed label reads the base source's events.
            ["validate.chargebacks", "validate.transactions"],
            mode="window",
            source="chargebacks",
            window_s=30 * DAY,
            column=None,
            op=None,
            value=None,
            maturity_s=32 * DAY,
            definition="chargeback within the window",
        ),
        source(
            "chargebacks",
            "data/chargebacks.parquet",
            "account_id",
            "reported_at",
            cb_schema,
            lag_s=2 * DAY,
        ),
        source(
            "transactions", "data/transactions.parquet", "account_id", "decision_at", txn_schema
        ),
        stage(
            "validate",
            "chargebacks",
            ["source.chargebacks"],
            source="chargebacks",
            checks=[
                {"kind": "schema", "columns": cb_schema, "severity": "block"},
                {"kind": "unique", "columns": ["account_id", "reported_at"], "severity": "block"},
            ],
        ),
        stage(
            "validate",
            "transactions",
            ["source.transactions"],
            source="transactions",
            on_failure=txn_on_failure,
            checks=checks,
        ),
        stage(
            "join",
            "join",
            ["features.account_risk", "label.is_fraud", "validate.transactions"],
            base="transactions",
            entity="account_id",
            time="decision_at",
            label="label.is_fraud",
            label_name="is_fraud",
            feature_views=["features.account_risk"],
        ),
        stage("split", "split", ["join"], **split),
        stage(
            "train",
            "fraud_gbm",
            ["split"],
            model="sklearn.dummy.DummyClassifier",
            task="binary",
            label="is_fraud",
            features=[],
            params={},
            seed=42,
            resources={},
            distributed=None,
        ),
    ]
    order = [
        "source.chargebacks",
        "source.transactions",
        "validate.chargebacks",
        "validate.transactions",
        "features.account_risk",
        "label.is_fraud",
        "join",
        "split",
        "train.fraud_gbm",
    ]
    stages.sort(key=lambda s: order.index(s["id"]))
    return {
        "schema_version": 1,
        "pipec_version": "0.1.0",
        "pipeline": {"name": "fraud_detection", "owner": "ml_fraud", "base_source": "transactions"},
        "base_dir": ".",
        "dag_hash": "test",
        "stages": stages,
        "edges": [],
    }


START = datetime(2026, 1, 1, tzinfo=UTC)


def write_fraud_data(
    root: Path, *, days: int = 200, accounts: int = 20, amount_scale: float = 1.0
) -> None:
    """Deterministic transactions and chargebacks under `root/data/`."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    txn = {"account_id": [], "decision_at": [], "amount": [], "country": []}
    cbs = {"account_id": [], "reported_at": [], "disputed_amount": []}
    for day in range(days):
        for a in range(accounts):
            if (day * 7 + a * 3) % 5:
                continue
            at = START + timedelta(days=day, hours=a % 24)
            txn["account_id"].append(f"acc{a}")
            txn["decision_at"].append(at)
            txn["amount"].append(float((day * 13 + a * 17) % 100) * amount_scale)
            txn["country"].append(["US", "FR", "DE"][a % 3])
            if (day + a) % 11 == 0:
                cbs["account_id"].append(f"acc{a}")
                cbs["reported_at"].append(at + timedelta(days=(day % 40) + 1))
                cbs["disputed_amount"].append(10.0)
    pq.write_table(pa.table(txn), root / "data" / "transactions.parquet")
    pq.write_table(pa.table(cbs), root / "data" / "chargebacks.parquet")
