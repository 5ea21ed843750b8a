"""Event triggers for `retrain triggered ...` and `retrain continuous`, shared by targets.

Each trigger is an event about one thing, keyed `source.NAME` (a new snapshot of that
source landed) or `drift.COLUMN` (a drift monitor measured the column's drift above the
threshold):

- `triggered on new_snapshot`: the base source (every source when there is none);
- `triggered on drift(COL) > V`: `drift.COL`, with the comparison attached;
- `continuous`: every source; any one of them starts a run.

Airflow: each key is an `Asset` with the URI `x-pipec://PIPELINE/source/NAME` (or
`/drift/COLUMN`); whatever lands the data (or the monitor) emits an asset event for it,
e.g. through the REST API. Argo: each key is an Argo Events dependency on the event
`dns_label(KEY)` of the EventSource `dns_label(PIPELINE)`, which the platform provides.

A drift monitor may report every measurement, `{"value": X}` (Airflow: the asset
event's `extra`; Argo: the event's body): a run starts only when X crosses the
threshold. Argo's sensor filters on it; Airflow starts a DAG run on any event, so the
DAG's first task (a ShortCircuitOperator) ends the run when no event's X crosses it.
"""

from __future__ import annotations

from typing import Any

from pipec.backends.plan import Plan

URI_SCHEME = "x-pipec"  # Airflow keeps `x-` schemes as written


def trigger_keys(plan: Plan) -> list[str]:
    retrain = plan.retrain
    if retrain.get("kind") == "triggered" and retrain.get("on") == "drift":
        return [f"drift.{retrain.get('column')}"]
    if retrain.get("kind") == "triggered" and plan.base_source:
        return [f"source.{plan.base_source}"]
    if retrain.get("kind") in ("triggered", "continuous"):
        return [f"source.{name}" for name in plan.sources]
    return []


def drift_condition(plan: Plan) -> dict[str, Any] | None:
    retrain = plan.retrain
    if retrain.get("on") != "drift":
        return None
    return {"column": retrain.get("column"), "op": retrain.get("op"),
            "value": retrain.get("value")}


def trigger_assets(plan: Plan) -> list[dict[str, Any]]:
    """Keyword arguments of `airflow.sdk.Asset` for each trigger."""
    assets = []
    for key in trigger_keys(plan):
        kind, _, name = key.partition(".")
        extra = drift_condition(plan) if kind == "drift" else {}
        assets.append({"name": f"{plan.name}.{key}",
                       "uri": f"{URI_SCHEME}://{plan.name}/{kind}/{name}",
                       "extra": extra or {}})
    return assets
