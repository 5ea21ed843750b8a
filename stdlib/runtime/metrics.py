"""Evaluation metrics with bootstrap 95% intervals, in numpy.

Binary metrics take the positive-class probability; threshold metrics (accuracy,
precision, recall, f1, balanced accuracy) cut it at the evaluate stage's `threshold`.
Intervals come from a fixed-seed bootstrap, so the same predictions always give the
same report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

BOOTSTRAP_SAMPLES = 200
BOOTSTRAP_SEED = 20130101
ECE_BINS = 10

Metric = Callable[[np.ndarray, np.ndarray, float, np.ndarray], np.ndarray]
CHUNK = 25  # bootstrap samples evaluated together: (CHUNK, n) weight matrices

# Every metric takes weights `w` of shape (k, n) (row i: how often each example is in
# bootstrap sample i; all ones for the plain metric) and returns k values. Sorting and
# grouping ties happen once per call, so 200 bootstrap samples cost a few passes over
# the data instead of 200 sorts.


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _groups(values: np.ndarray) -> np.ndarray:
    """Start index of each run of equal values in a sorted array."""
    return np.r_[0, np.flatnonzero(np.diff(values)) + 1]


def roc_auc(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    """Mann-Whitney U: ties count one half."""
    order = np.argsort(p, kind="mergesort")
    starts = _groups(p[order])
    ws, ys = w[:, order], y[order].astype(float)
    pos = np.add.reduceat(ws * ys, starts, axis=1)
    neg = np.add.reduceat(ws * (1 - ys), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    return _safe_div((pos * (below + 0.5 * neg)).sum(1), pos.sum(1) * neg.sum(1))


def average_precision(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    """Sum over distinct thresholds of (recall gained) x precision, ties taken together."""
    order = np.argsort(-p, kind="mergesort")
    starts = _groups(p[order])
    ws, ys = w[:, order], y[order].astype(float)
    hits = np.add.reduceat(ws * ys, starts, axis=1)
    seen = np.add.reduceat(ws, starts, axis=1)
    precision_at = _safe_div(np.cumsum(hits, axis=1), np.cumsum(seen, axis=1))
    total = hits.sum(1)
    return _safe_div(np.nansum(hits * precision_at, axis=1), total)


def _confusion(y: np.ndarray, p: np.ndarray, t: float,
               w: np.ndarray) -> tuple[np.ndarray, ...]:
    predicted, actual = p >= t, y == 1
    return tuple(w[:, mask].sum(1) for mask in (predicted & actual, predicted & ~actual,
                                                ~predicted & actual, ~predicted & ~actual))


def accuracy(y: np.ndarray, p: np.ndarray, t: float, w: np.ndarray) -> np.ndarray:
    tp, fp, fn, tn = _confusion(y, p, t, w)
    return _safe_div(tp + tn, tp + fp + fn + tn)


def precision(y: np.ndarray, p: np.ndarray, t: float, w: np.ndarray) -> np.ndarray:
    tp, fp, _, _ = _confusion(y, p, t, w)
    return _safe_div(tp, tp + fp)


def recall(y: np.ndarray, p: np.ndarray, t: float, w: np.ndarray) -> np.ndarray:
    tp, _, fn, _ = _confusion(y, p, t, w)
    return _safe_div(tp, tp + fn)


def f1(y: np.ndarray, p: np.ndarray, t: float, w: np.ndarray) -> np.ndarray:
    tp, fp, fn, _ = _confusion(y, p, t, w)
    return _safe_div(2 * tp, 2 * tp + fp + fn)


def balanced_accuracy(y: np.ndarray, p: np.ndarray, t: float, w: np.ndarray) -> np.ndarray:
    tp, fp, fn, tn = _confusion(y, p, t, w)
    return (_safe_div(tp, tp + fn) + _safe_div(tn, tn + fp)) / 2


def _mean(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _safe_div(w @ values, w.sum(1))


def log_loss(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    return _mean(-(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)), w)


def brier(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    return _mean((p - y) ** 2, w)


def ece(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    """Expected calibration error over equal-width probability bins."""
    bins = np.minimum((p * ECE_BINS).astype(int), ECE_BINS - 1)
    onehot = np.zeros((len(p), ECE_BINS))
    onehot[np.arange(len(p)), bins] = 1.0
    confidence = w @ (onehot * p[:, None])
    observed = w @ (onehot * y[:, None].astype(float))
    return _safe_div(np.abs(confidence - observed).sum(1), w.sum(1))


def rmse(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    return np.sqrt(_mean((y - p) ** 2, w))


def mse(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    return _mean((y - p) ** 2, w)


def mae(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    return _mean(np.abs(y - p), w)


def median_ae(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    errors = np.abs(y - p)
    order = np.argsort(errors, kind="mergesort")
    cumulative = np.cumsum(w[:, order], axis=1)
    half = cumulative[:, -1:] / 2
    index = np.minimum((cumulative < half).sum(1), len(errors) - 1)
    return errors[order][index]


def r2(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    mean_y = _mean(y, w)[:, None]
    total = (w * (y[None, :] - mean_y) ** 2).sum(1)
    return 1 - _safe_div(w @ ((y - p) ** 2), total)


def mape(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    nonzero = y != 0
    return _mean(np.abs((y[nonzero] - p[nonzero]) / y[nonzero]), w[:, nonzero])


BINARY: dict[str, Metric] = {
    "roc_auc": roc_auc, "pr_auc": average_precision, "average_precision": average_precision,
    "accuracy": accuracy, "balanced_accuracy": balanced_accuracy, "precision": precision,
    "recall": recall, "f1": f1, "log_loss": log_loss, "brier": brier, "ece": ece,
}
REGRESSION: dict[str, Metric] = {
    "rmse": rmse, "mse": mse, "mae": mae, "median_ae": median_ae, "r2": r2, "mape": mape,
}


# Multiclass: `y` holds class indices (-1: a class the model never saw), `p` the
# (n, classes) probabilities; averages over classes are unweighted (macro).
def _one_vs_rest(metric: Metric) -> Metric:
    def macro(y: np.ndarray, p: np.ndarray, t: float, w: np.ndarray) -> np.ndarray:
        per_class = [metric((y == c).astype(int), p[:, c], t, w) for c in range(p.shape[1])]
        with np.errstate(invalid="ignore"):
            return np.nanmean(np.vstack(per_class), axis=0)

    return macro


def _top_label(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (p.argmax(1) == y).astype(int), p.max(1)


def mc_accuracy(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    return _mean((p.argmax(1) == y).astype(float), w)


def mc_balanced_accuracy(y: np.ndarray, p: np.ndarray, _t: float,
                         w: np.ndarray) -> np.ndarray:
    predicted = p.argmax(1)
    recalls = [_safe_div(w[:, (y == c) & (predicted == c)].sum(1), w[:, y == c].sum(1))
               for c in range(p.shape[1]) if (y == c).any()]
    return np.mean(np.vstack(recalls), axis=0)


def mc_log_loss(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    chosen = np.where(y >= 0, p[np.arange(len(y)), np.maximum(y, 0)], 0.0)
    return _mean(-np.log(np.clip(chosen, 1e-15, 1.0)), w)


def mc_brier(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    onehot = np.zeros_like(p)
    known = y >= 0
    onehot[np.arange(len(y))[known], y[known]] = 1.0
    return _mean(((p - onehot) ** 2).sum(1), w)


def mc_ece(y: np.ndarray, p: np.ndarray, t: float, w: np.ndarray) -> np.ndarray:
    """Top-label calibration: the winning class's probability against being right."""
    correct, confidence = _top_label(y, p)
    return ece(correct, confidence, t, w)


def _argmax_binary(metric: Metric) -> Metric:
    def macro(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
        predicted = p.argmax(1)
        per_class = [metric((y == c).astype(int), (predicted == c).astype(float), 0.5, w)
                     for c in range(p.shape[1])]
        with np.errstate(invalid="ignore"):
            return np.nanmean(np.vstack(per_class), axis=0)

    return macro


MULTICLASS: dict[str, Metric] = {
    "roc_auc": _one_vs_rest(roc_auc), "pr_auc": _one_vs_rest(average_precision),
    "average_precision": _one_vs_rest(average_precision), "accuracy": mc_accuracy,
    "balanced_accuracy": mc_balanced_accuracy, "precision": _argmax_binary(precision),
    "recall": _argmax_binary(recall), "f1": _argmax_binary(f1), "log_loss": mc_log_loss,
    "brier": mc_brier, "ece": mc_ece,
}


def metrics_for(task: str) -> dict[str, Metric]:
    return {"regression": REGRESSION, "multiclass": MULTICLASS}.get(task, BINARY)


def value(metric: Metric, y: np.ndarray, p: np.ndarray, threshold: float) -> float:
    """The plain metric (every example once)."""
    return float(metric(y, p, threshold, np.ones((1, len(y))))[0])


def bootstrap_weights(n: int, samples: int) -> Iterable[np.ndarray]:
    """Weight matrices of a percentile bootstrap: row i counts how often each example
    was drawn for sample i. Fixed seed: the same data give the same intervals. Kept in
    memory when small (every metric reuses them), regenerated chunk by chunk otherwise."""
    chunks = _BootstrapChunks(n, samples)
    return list(chunks) if n * samples <= KEEP_WEIGHTS else chunks


KEEP_WEIGHTS = 20_000_000  # 160 MB of float64 weights


class _BootstrapChunks:
    def __init__(self, n: int, samples: int) -> None:
        self.n, self.samples = n, samples

    def __iter__(self) -> Iterator[np.ndarray]:
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        for start in range(0, self.samples, CHUNK):
            k = min(CHUNK, self.samples - start)
            draws = rng.integers(0, self.n, size=(k, self.n)) + (np.arange(k) * self.n)[:, None]
            counts = np.bincount(draws.ravel(), minlength=k * self.n)
            yield counts.reshape(k, self.n).astype(float)


def with_interval(metric: Metric, y: np.ndarray, p: np.ndarray, threshold: float,
                  samples: int = BOOTSTRAP_SAMPLES,
                  weights: Iterable[np.ndarray] | None = None) -> dict[str, float | None]:
    """The metric and its percentile-bootstrap 95% interval."""
    plain = value(metric, y, p, threshold)
    if len(y) < 2:
        return {"value": _clean(plain), "low": None, "high": None}
    chunks = weights if weights is not None else bootstrap_weights(len(y), samples)
    estimates = np.concatenate([metric(y, p, threshold, w) for w in chunks])
    estimates = estimates[~np.isnan(estimates)]
    if not len(estimates):
        return {"value": _clean(plain), "low": None, "high": None}
    low, high = np.percentile(estimates, [2.5, 97.5])
    return {"value": _clean(plain), "low": _clean(low), "high": _clean(high)}


def _clean(value: float) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 6)


def all_metrics(task: str, y: np.ndarray, p: np.ndarray, threshold: float,
                names: set[str] | None = None,
                samples: int = BOOTSTRAP_SAMPLES) -> dict[str, dict[str, float | None]]:
    table = metrics_for(task)
    chosen = sorted(names & table.keys()) if names is not None else sorted(table)
    weights = bootstrap_weights(len(y), samples) if len(y) >= 2 else None
    return {name: with_interval(table[name], y, p, threshold, samples, weights)
            for name in chosen}
