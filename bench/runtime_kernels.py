"""The two sides of the runtime benchmark: pipec's DuckDB runtime (the real stage
functions) and a straightforward pandas implementation of the same work.

Work: validation (require, range, completeness, unique, freshness) of the events, and
point-in-time features for every event: sum, mean and count of the account's amounts in
the 30 days before it (strictly before, as pipec defines visibility) plus the account's
latest balance strictly before it (as-of).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pipec.stdlib.runtime.db import connect, load_parquet, scalar
from pipec.stdlib.runtime.features import Aggregate, ViewSpec, build_features
from pipec.stdlib.runtime.join import build_examples
from pipec.stdlib.runtime.validation import CheckContext, run_checks

DAY_US = 86_400 * 1_000_000
WINDOW = "30d"
SNAPSHOT = date(2025, 12, 31)
CHECKS: list[dict[str, Any]] = [
    {"kind": "require", "columns": ["account_id", "at"]},
    {"kind": "range", "column": "amount", "op": ">=", "value": 0},
    {"kind": "completeness", "column": "amount", "op": ">=", "value": 0.95},
    {"kind": "unique", "columns": ["account_id", "at"]},
    {"kind": "freshness", "column": "at", "within_s": 2 * 86_400},
]
ACTIVITY = ViewSpec("activity", "account_id", "at", "at", 0, (
    Aggregate("amount_sum", "sum", "amount", 30 * DAY_US),
    Aggregate("amount_mean", "mean", "amount", 30 * DAY_US),
    Aggregate("events", "count", None, 30 * DAY_US)), ())
BALANCE = ViewSpec("balance", "account_id", "at", "at", 0, (), ("balance",))


# ---------------------------------------------------------------- pipec (DuckDB)
def pipec_validate(events: Path) -> list[dict[str, Any]]:
    con = connect()
    load_parquet(con, "events", events)
    ctx = CheckContext("events", SNAPSHOT, [], [], "block", lambda _s, _c: (False, None),
                       lambda _s, _c, _v: None)
    return run_checks(con, CHECKS, ctx)


def pipec_features(events: Path, balances: Path, keep: bool = False) -> Any:
    con = connect()
    load_parquet(con, "events", events, row_id=True)
    load_parquet(con, "balances", balances)
    build_features(con, ACTIVITY, "events", "events", "f_activity")
    build_features(con, BALANCE, "events", "balances", "f_balance")
    # The views side by side, one row per event, as the join stage puts them (pandas
    # aligns its columns on the row index); the event's row id is the only base column.
    con.execute("CREATE VIEW ids AS SELECT __row_id, __row_id AS row FROM events")
    build_examples(con, "ids", None, None, ["f_activity", "f_balance"], "features")
    if not keep:
        return scalar(con, "SELECT count(*) FROM features")
    return con.sql("SELECT * FROM features").df().rename(columns={"row": "__row_id"})


# ---------------------------------------------------------------- pandas
def pandas_validate(events: Path) -> dict[str, Any]:
    df = pd.read_parquet(events)
    required = df[["account_id", "at"]].isna()
    amount = df["amount"]
    newest = df["at"].max()
    end = pd.Timestamp(SNAPSHOT) + pd.Timedelta(days=1)
    return {
        "require": int(required.any(axis=1).sum()),
        "require_columns": [c for c in required.columns if required[c].any()],
        "range": int((amount.notna() & ~(amount >= 0)).sum()),
        "completeness": float(amount.notna().mean()),
        "unique": int(df.duplicated(["account_id", "at"], keep=False).sum()),
        "freshness": (end - newest.tz_localize(None) if newest.tzinfo else end - newest)
        <= pd.Timedelta(days=2),
    }


def pandas_features(events: Path, balances: Path, keep: bool = False) -> Any:
    df = pd.read_parquet(events)
    bal = pd.read_parquet(balances)
    df["__row_id"] = np.arange(len(df))
    df["__one"] = 1.0
    ordered = df.sort_values(["account_id", "at"], kind="stable")
    # closed="left": the window [t - 30d, t), so an event never sees itself or a
    # same-instant event, as pipec's strict visibility rule says.
    rolling = ordered.groupby("account_id").rolling(WINDOW, on="at", closed="left")
    sums = rolling["amount"].sum()
    means = rolling["amount"].mean()
    counts = rolling["__one"].sum()
    features = pd.DataFrame({
        "activity__amount_sum": sums.to_numpy(),
        "activity__amount_mean": means.to_numpy(),
        "activity__events": counts.fillna(0).to_numpy(),
    }, index=ordered["__row_id"].to_numpy())
    asof = pd.merge_asof(df[["__row_id", "account_id", "at"]].sort_values("at"),
                         bal.sort_values("at"), on="at", by="account_id",
                         allow_exact_matches=False, direction="backward")
    features["balance__balance"] = asof.set_index("__row_id")["balance"]
    if not keep:
        return len(features)
    return features.sort_index()


def agree(n_checked: int, pipec_out: Any, pandas_out: Any) -> str:
    """Do both sides compute the same features? (compared on the smallest size)"""
    p = pipec_out.set_index("__row_id").sort_index()
    q = pandas_out
    # groupby-rolling gives sum 0.0 over an empty window where pipec gives NULL, and
    # counts NaN-only windows differently; compare where pipec has a value.
    diffs = []
    for column in ("activity__amount_sum", "activity__amount_mean", "activity__events",
                   "balance__balance"):
        a = p[column].astype(float).to_numpy()
        b = q[column].astype(float).to_numpy()
        both = ~np.isnan(a) & ~np.isnan(b)
        mismatch = int((~np.isclose(a[both], b[both], rtol=1e-9, atol=1e-6)).sum())
        nulls = int((np.isnan(a) != np.isnan(b)).sum())
        diffs.append(f"`{column}`: {mismatch} values differ, {nulls} NULLs differ")
    return f"on {n_checked:,} rows: " + "; ".join(diffs)
