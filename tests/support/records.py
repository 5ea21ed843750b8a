"""Small run records written straight into a store, for the record commands' tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipec.stdlib.runtime import serialize
from pipec.stdlib.runtime.records import RunRecords


def run_record(run_id: str, gate: dict[str, Any], image: str, pipeline: str = "p",
               **changes: Any) -> dict[str, Any]:
    """A record of a run that trained, evaluated (with `gate`) and registered model `m`;
    `changes` replace its top-level fields."""
    record: dict[str, Any] = {
        "run_id": run_id, "pipeline": pipeline, "status": "succeeded", "stages": [],
        "code": {"declared": "auto", "commit": "c0ffee", "dirty": False},
        "environment": {"image": image, "python": "3.11", "packages": {}},
        "data": {"events": {"snapshot": "2026-03-31", "content_hash": "d" * 64,
                            "rows": 10}},
        "models": {"m": {"model": "sklearn.linear_model.LogisticRegression",
                         "params": {"C": 1.0}, "seed": 1,
                         "model_sha256": serialize.sha256(b"m")}},
        "evaluations": {"m": {"blessed": True, "report_sha256": "report-m",
                              "gates": [gate]}},
        "report": {"run_id": run_id, "stages": []},
    }
    return record | changes


def stored(folder: Path, *records: dict[str, Any]) -> Path:
    """`folder`, with `records` written into its run store."""
    store = RunRecords(folder)
    try:
        for record in records:
            store.write(record)
    finally:
        store.close()
    return folder
