"""The hand-written baseline of `pipec run examples/flights/flights.pipe`: the work the
.pipe file declares, in pandas and scikit-learn: the three sources' schema constraints
and validate blocks, the label, the point-in-time features, the split, the model, the
evaluate block's metrics (once each, no intervals), and register/deploy as a pickled
model with its hash and a production pointer in a folder. None of pipec's own extras:
no snapshots or artifact hashes, no lineage, caching, run records or bootstrap.

    python bench/flights_sklearn.py DATA_DIR SPEC.json [REGISTRY_DIR]

SPEC.json holds what the .pipe file decides and this script would otherwise hard-code:
the train stage's features, params, seed and cpus, and the evaluate stage's threshold.
"""

import hashlib
import json
import os
import pickle
import sys
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, recall_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

SNAPSHOT_END = pd.Timestamp("2014-01-01")
HOUR = pd.Timedelta(hours=1)


def window(src, key, value, query, lo, hi):
    """For each query row: (sum of `value`, count of non-null `value`, count of rows)
    over the source rows of the same key with time in [t - lo, t - hi)."""
    out = np.zeros((len(query), 3))
    for k, q in query.groupby(key):
        rows = src[src[key] == k].sort_values("time_hour")
        times = rows["time_hour"].to_numpy()
        vals = rows[value].to_numpy(dtype=float)
        csum = np.concatenate([[0.0], np.cumsum(np.nan_to_num(vals))])
        cnt = np.concatenate([[0], np.cumsum(~np.isnan(vals))])
        t = q["time_hour"].to_numpy()
        a = np.searchsorted(times, t - lo, side="left")
        b = np.searchsorted(times, t - hi, side="left")
        idx = query.index.get_indexer(q.index)
        out[idx, 0] = csum[b] - csum[a]
        out[idx, 1] = cnt[b] - cnt[a]
        out[idx, 2] = b - a
    return out


def failing(frame, rules):
    """Rows failing each rule (a boolean Series over `frame`: True = the row fails)."""
    return {name: int(rule(frame).sum()) for name, rule in rules.items()}


def in_range(column, low, high):
    return lambda f: f[column].notna() & ~f[column].between(low, high)


def at_least(column, low, strict=False):
    return lambda f: f[column].notna() & ~(f[column] > low if strict else f[column] >= low)


def required(columns):
    return lambda f: f[columns].isna().any(axis=1)


def duplicated(columns):
    return lambda f: f.duplicated(columns, keep=False)


def validate(flights, weather, planes):
    """The schema constraints and validate blocks of flights.pipe; raises when one fails."""
    checks = {
        "flights": failing(flights, {
            "month in 1..12": in_range("month", 1, 12), "day in 1..31": in_range("day", 1, 31),
            "distance >= 0": at_least("distance", 0),
            "require": required(["time_hour", "origin", "carrier", "sched_dep_time",
                                 "distance"]),
            "range distance > 0": at_least("distance", 0, strict=True),
            "unique": duplicated(["time_hour", "carrier", "flight", "origin"])}),
        "weather": failing(weather, {
            "humid in 0..100": in_range("humid", 0, 100),
            "wind_speed >= 0": at_least("wind_speed", 0), "precip >= 0": at_least("precip", 0),
            "visib >= 0": at_least("visib", 0), "require": required(["origin", "time_hour"]),
            "unique": duplicated(["origin", "time_hour"])}),
        "planes": failing(planes, {
            "seats >= 0": at_least("seats", 0), "require": required(["tailnum"]),
            "unique": duplicated(["tailnum"])}),
    }
    problems = [f"{source}: {name}" for source, found in checks.items()
                for name, rows in found.items() if rows]
    if flights["tailnum"].notna().mean() < 0.99:
        problems.append("flights: completeness tailnum")
    if weather["temp"].notna().mean() < 0.99:
        problems.append("weather: completeness temp")
    if SNAPSHOT_END - flights["time_hour"].max() > pd.Timedelta(days=2):
        problems.append("flights: freshness")
    # drift mean(distance) within 3x of baseline: the first run records the baseline.
    checks["flights"]["mean distance"] = float(flights["distance"].mean())
    if problems:
        raise SystemExit(f"validation failed: {problems}")
    return checks


def features(data_dir):
    flights = pd.read_parquet(f"{data_dir}/flights.parquet")
    weather = pd.read_parquet(f"{data_dir}/weather.parquet")
    planes = pd.read_parquet(f"{data_dir}/planes.parquet")
    flights = flights[flights["time_hour"] < SNAPSHOT_END].reset_index(drop=True)
    weather = weather[weather["time_hour"] < SNAPSHOT_END]
    validate(flights, weather, planes)
    # label: arrived > 15 min late, known a day later; unripe labels are censored
    flights = flights[flights["time_hour"] + pd.Timedelta(days=1) <= SNAPSHOT_END]
    flights = flights.reset_index(drop=True)
    flights["late"] = (flights["arr_delay"] > 15).where(flights["arr_delay"].notna())
    # weather as of the departure hour, published an hour late
    cols = ["temp", "humid", "wind_speed", "visib", "precip"]
    query = flights[["origin", "time_hour"]].assign(q=flights["time_hour"] - HOUR)
    query["row"] = np.arange(len(query))
    w = weather[["origin", "time_hour", *cols]].sort_values("time_hour")
    asof = pd.merge_asof(query.sort_values("q"), w.rename(columns={"time_hour": "q"}),
                         on="q", by="origin", allow_exact_matches=False)
    asof = asof.sort_values("row")
    for c in cols:
        flights[f"weather__{c}"] = asof[c].to_numpy()
    precip = window(weather, "origin", "precip", flights, 6 * HOUR, HOUR)
    flights["weather__precip_6h"] = np.where(precip[:, 1] > 0, precip[:, 0], np.nan)
    # departure delays at the origin over the last day, known six hours later
    delays = window(flights, "origin", "dep_delay", flights, 24 * HOUR, 6 * HOUR)
    flights["origin_delays__dep_delay_mean_1d"] = np.where(
        delays[:, 1] > 0, delays[:, 0] / np.maximum(delays[:, 1], 1), np.nan)
    flights["origin_delays__departures_1d"] = delays[:, 2]
    p = planes[["tailnum", "year", "seats", "engines"]].rename(
        columns={"year": "planes__year", "seats": "planes__seats", "engines": "planes__engines"})
    return flights.merge(p, on="tailnum", how="left")


def model(spec, x):
    categorical = [c for c in x.columns if x[c].dtype == object or str(x[c].dtype) in
                   ("string", "str", "category")]
    numeric = [c for c in x.columns if c not in categorical]
    encode = ColumnTransformer(
        [("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                        encoded_missing_value=np.nan), categorical),
         ("numeric", "passthrough", numeric)])
    gbm = HistGradientBoostingClassifier(
        **spec["params"], random_state=spec["seed"],
        categorical_features=[True] * len(categorical) + [False] * len(numeric))
    return Pipeline([("encode", encode), ("model", gbm)])


def ece(y, p, bins=10):
    idx = np.minimum((p * bins).astype(int), bins - 1)
    gaps = np.abs(np.bincount(idx, p, bins) - np.bincount(idx, y, bins))
    return float(gaps.sum() / len(p))


def timed(predict, single):
    start = time.perf_counter()
    predict(single)
    return time.perf_counter() - start


def main(argv):
    with open(argv[2], encoding="utf-8") as handle:
        data_dir, spec = argv[1], json.load(handle)
    table = features(data_dir)
    train = table[(table["time_hour"] < pd.Timestamp("2013-10-01")) & table["late"].notna()]
    test = table[(table["time_hour"] >= pd.Timestamp("2013-10-03")) & table["late"].notna()]
    cols = spec["features"]
    with threadpool_limits(limits=spec["cpu"]):
        clf = model(spec, train[cols]).fit(train[cols], train["late"].astype(int))
        p = clf.predict_proba(test[cols])[:, 1]
    y = test["late"].astype(int).to_numpy()
    metrics = {"roc_auc": roc_auc_score(y, p),
               "recall": recall_score(y, p >= spec["threshold"]),
               "ece": ece(y, p), "brier": brier_score_loss(y, p),
               "size_bytes": len(pickle.dumps(clf))}
    for origin in sorted(test["origin"].unique()):
        mask = (test["origin"] == origin).to_numpy()
        metrics[f"roc_auc[{origin}]"] = roc_auc_score(y[mask], p[mask])
    rng = np.random.default_rng(7)
    with threadpool_limits(limits=1):
        singles = [test[cols].iloc[[int(row)]]
                   for row in rng.choice(len(test), size=300, replace=False)]
        timings = [timed(clf.predict_proba, single) for single in singles]
        for i in sorted(range(300), key=timings.__getitem__)[-15:]:  # the slowest 5% again
            timings[i] = min(timings[i], *(timed(clf.predict_proba, singles[i]) for _ in "ab"))
    metrics["latency_p99_s"] = float(np.percentile(timings, 99))
    if len(argv) > 3:
        register(argv[3], pickle.dumps(clf), metrics, spec)
    print(json.dumps(metrics, sort_keys=True))
    return 0


def register(folder, model, metrics, spec):
    """register + deploy: the model under its hash, its metadata, a production pointer."""
    os.makedirs(folder, exist_ok=True)
    digest = hashlib.sha256(model).hexdigest()
    with open(os.path.join(folder, f"{digest}.pkl"), "wb") as handle:
        handle.write(model)
    with open(os.path.join(folder, f"{digest}.json"), "w", encoding="utf-8") as handle:
        json.dump({"sha256": digest, "metrics": metrics, "features": spec["features"],
                   "params": spec["params"], "seed": spec["seed"]}, handle, sort_keys=True)
    with open(os.path.join(folder, "production"), "w", encoding="utf-8") as handle:
        handle.write(digest)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
