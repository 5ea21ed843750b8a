"""Evaluation metrics with bootstrap 95% intervals, in numpy.

Binary metrics take the positive-class probability; threshold metrics (accuracy,
precision, recall, f1, balanced accuracy) cut it at the evaluate stage's `threshold`.
Intervals come from a fixed-seed bootstrap, so the same predictions always give the
same report.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BOOTSTRAP_SAMPLES = 200
BOOTSTRAP_SEED = 20130101
ECE_BINS = 10

Metric = Callable[[np.ndarray, np.ndarray, float], float]


def roc_auc(y: np.ndarray, p: np.ndarray, _t: float) -> float:
    """Mann-Whitney U with average ranks for ties."""
    positives = y == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(p)  # average ranks for ties, in C
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y: np.ndarray, p: np.ndarray, _t: float) -> float:
    """Sum over distinct thresholds of (recall gained) x precision, ties taken together."""
    order = np.argsort(-p, kind="mergesort")
    hits = (y[order] == 1).astype(float)
    total = hits.sum()
    if total == 0:
        return float("nan")
    scores = p[order]
    ends = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    true_positives = np.cumsum(hits)[ends]
    precision_at = true_positives / (ends + 1)
    recall_gain = np.diff(np.r_[0.0, true_positives]) / total
    return float(np.sum(recall_gain * precision_at))


def _confusion(y: np.ndarray, p: np.ndarray, t: float) -> tuple[int, int, int, int]:
    predicted = p >= t
    actual = y == 1
    return (int((predicted & actual).sum()), int((predicted & ~actual).sum()),
            int((~predicted & actual).sum()), int((~predicted & ~actual).sum()))


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def accuracy(y: np.ndarray, p: np.ndarray, t: float) -> float:
    tp, fp, fn, tn = _confusion(y, p, t)
    return _ratio(tp + tn, tp + fp + fn + tn)


def precision(y: np.ndarray, p: np.ndarray, t: float) -> float:
    tp, fp, _, _ = _confusion(y, p, t)
    return _ratio(tp, tp + fp)


def recall(y: np.ndarray, p: np.ndarray, t: float) -> float:
    tp, _, fn, _ = _confusion(y, p, t)
    return _ratio(tp, tp + fn)


def f1(y: np.ndarray, p: np.ndarray, t: float) -> float:
    tp, fp, fn, _ = _confusion(y, p, t)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def balanced_accuracy(y: np.ndarray, p: np.ndarray, t: float) -> float:
    tp, fp, fn, tn = _confusion(y, p, t)
    return (_ratio(tp, tp + fn) + _ratio(tn, tn + fp)) / 2


def log_loss(y: np.ndarray, p: np.ndarray, _t: float) -> float:
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)))


def brier(y: np.ndarray, p: np.ndarray, _t: float) -> float:
    return float(np.mean((p - y) ** 2))


def ece(y: np.ndarray, p: np.ndarray, _t: float) -> float:
    """Expected calibration error over equal-width probability bins."""
    bins = np.minimum((p * ECE_BINS).astype(int), ECE_BINS - 1)
    counts = np.bincount(bins, minlength=ECE_BINS)
    confidence = np.bincount(bins, weights=p, minlength=ECE_BINS)
    observed = np.bincount(bins, weights=y.astype(float), minlength=ECE_BINS)
    used = counts > 0
    gaps = np.abs(confidence[used] - observed[used]) / counts[used]
    return float(np.sum(gaps * counts[used]) / len(p)) if len(p) else float("nan")


def rmse(y: np.ndarray, p: np.ndarray, _t: float) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def mse(y: np.ndarray, p: np.ndarray, _t: float) -> float:
    return float(np.mean((y - p) ** 2))


def mae(y: np.ndarray, p: np.ndarray, _t: float) -> float:
    return float(np.mean(np.abs(y - p)))


def median_ae(y: np.ndarray, p: np.ndarray, _t: float) -> float:
    return float(np.median(np.abs(y - p)))


def r2(y: np.ndarray, p: np.ndarray, _t: float) -> float:
    total = np.sum((y - y.mean()) ** 2)
    return float(1 - np.sum((y - p) ** 2) / total) if total else float("nan")


def mape(y: np.ndarray, p: np.ndarray, _t: float) -> float:
    nonzero = y != 0
    return float(np.mean(np.abs((y[nonzero] - p[nonzero]) / y[nonzero]))) if nonzero.any() \
        else float("nan")


BINARY: dict[str, Metric] = {
    "roc_auc": roc_auc, "pr_auc": average_precision, "average_precision": average_precision,
    "accuracy": accuracy, "balanced_accuracy": balanced_accuracy, "precision": precision,
    "recall": recall, "f1": f1, "log_loss": log_loss, "brier": brier, "ece": ece,
}
REGRESSION: dict[str, Metric] = {
    "rmse": rmse, "mse": mse, "mae": mae, "median_ae": median_ae, "r2": r2, "mape": mape,
}


def metrics_for(task: str) -> dict[str, Metric]:
    return REGRESSION if task == "regression" else BINARY


def with_interval(metric: Metric, y: np.ndarray, p: np.ndarray, threshold: float,
                  samples: int = BOOTSTRAP_SAMPLES) -> dict[str, float | None]:
    """The metric and its percentile-bootstrap 95% interval."""
    value = metric(y, p, threshold)
    if len(y) < 2:
        return {"value": _clean(value), "low": None, "high": None}
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = rng.integers(0, len(y), size=(samples, len(y)))
    estimates = np.array([metric(y[d], p[d], threshold) for d in draws])
    estimates = estimates[~np.isnan(estimates)]
    if not len(estimates):
        return {"value": _clean(value), "low": None, "high": None}
    low, high = np.percentile(estimates, [2.5, 97.5])
    return {"value": _clean(value), "low": _clean(low), "high": _clean(high)}


def _clean(value: float) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 6)


def all_metrics(task: str, y: np.ndarray, p: np.ndarray, threshold: float,
                names: set[str] | None = None,
                samples: int = BOOTSTRAP_SAMPLES) -> dict[str, dict[str, float | None]]:
    table = metrics_for(task)
    chosen = sorted(names & table.keys()) if names is not None else sorted(table)
    return {name: with_interval(table[name], y, p, threshold, samples) for name in chosen}
