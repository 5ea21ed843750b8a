"""Evaluation metrics with bootstrap 95% intervals, in numpy.

Binary metrics take the positive-class probability; threshold metrics (accuracy,
precision, recall, f1, balanced accuracy) cut it at the evaluate stage's `threshold`
(a score at or above it is positive). Intervals come from a fixed-seed bootstrap, so
the same predictions always give the same report.

A metric that is undefined on its data (roc_auc on a test set of one class, binary
precision when nothing is predicted positive, r2 of a constant target) is None, and a
gate on it fails. Scores that are NaN or infinite make every metric None: a model that
emits them is not ranked or calibrated on the finite rest; so do NaN or infinite
targets of a regression (the evaluate stage says how many). Macro averages (multiclass
precision, recall, f1) follow scikit-learn: over the classes that are true or
predicted, a class's undefined ratio counting 0. ECE uses ECE_BINS equal-width bins.

Multiclass metrics take the class probabilities and score them as scikit-learn scores
them padded with a column of zeros for each test class the model never saw: roc_auc
and pr_auc are one-vs-rest macro averages over the classes present in the test set
(a slice: in the slice), brier is summed over the classes (0..2), log_loss clips as
the binary one does, ece is top-label (the likeliest class's probability against
being right), and accuracy and the macro averages read the likeliest class.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator

import numpy as np

BOOTSTRAP_SAMPLES = 200
BOOTSTRAP_SEED = 20130101
ECE_BINS = 10

Metric = Callable[[np.ndarray, np.ndarray, float, np.ndarray], np.ndarray]
# Bootstrap samples are evaluated together as (k, n) weight matrices of about this many
# cells (32 MB of float64): fewer, larger chunks pay each metric's sort and searches less
# often; the cap keeps a metric's temporaries of the same shape in bounds for large n.
CHUNK_CELLS = 4_000_000
MAX_CHUNK = 100

# Every metric takes weights `w` of shape (k, n) (row i: how often each example is in
# bootstrap sample i; all ones for the plain metric) and returns k values. Sorting and
# finding tie groups happen once per call, so 200 bootstrap samples cost a few passes
# over the data instead of 200 sorts.


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _by_class(y: np.ndarray, p: np.ndarray, w: np.ndarray,
              descending: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scores and weights of the positives and of the negatives, each sorted by score
    (ascending, or descending), weights as (k, m) matrices."""
    key = -p if descending else p
    order = np.argsort(key, kind="mergesort")
    positive = (y[order] == 1)
    pos, neg = order[positive], order[~positive]
    return key[pos], key[neg], w[:, pos], w[:, neg]


def _cumulative(w: np.ndarray) -> np.ndarray:
    """Running sums along each row with a leading zero: c[:, j] = sum of w[:, :j]."""
    out = np.zeros((w.shape[0], w.shape[1] + 1))
    np.cumsum(w, axis=1, out=out[:, 1:])
    return out


def roc_auc(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    """Mann-Whitney U: ties count one half.

    Each positive scores the weight of the negatives below it plus half of those tied
    with it; where those negatives start and end is found once by binary search, so
    every bootstrap row costs one running sum over the negatives and two lookups."""
    pos_p, neg_p, wp, wn = _by_class(y, p, w, descending=False)
    below = _cumulative(wn)
    lo = np.searchsorted(neg_p, pos_p, side="left")
    hi = np.searchsorted(neg_p, pos_p, side="right")
    scored = (wp * (below[:, lo] + below[:, hi])).sum(1) / 2
    return _safe_div(scored, wp.sum(1) * wn.sum(1))


def average_precision(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    """Sum over distinct thresholds of (recall gained) x precision, ties taken together.

    A positive's threshold is its own score: precision there counts every example
    scored at least as high (its whole tie group included), so it is read from running
    sums of positives and negatives at the ends of that group."""
    pos_key, neg_key, wp, wn = _by_class(y, p, w, descending=True)
    hits, misses = _cumulative(wp), _cumulative(wn)
    end_pos = np.searchsorted(pos_key, pos_key, side="right")
    end_neg = np.searchsorted(neg_key, pos_key, side="right")
    found = hits[:, end_pos]
    precision_at = _safe_div(found, found + misses[:, end_neg])
    return _safe_div(np.nansum(wp * precision_at, axis=1), wp.sum(1))


def _confusion(y: np.ndarray, p: np.ndarray, t: float,
               w: np.ndarray) -> tuple[np.ndarray, ...]:
    predicted, actual = p >= t, y == 1
    cells = np.column_stack([predicted & actual, predicted & ~actual,
                             ~predicted & actual, ~predicted & ~actual]).astype(float)
    # One (k, n) x (n, 4) product instead of four boolean-indexed copies of `w`.
    counts = w @ cells
    return tuple(counts[:, i] for i in range(4))


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


# scikit-learn's clip: a hard 0 or 1 costs -log(eps), as in `sklearn.metrics.log_loss`.
EPS = np.finfo(float).eps


def log_loss(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, EPS, 1 - EPS)
    return _mean(-(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)), w)


def brier(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    return _mean((p - y) ** 2, w)


def ece(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    """Expected calibration error over ECE_BINS equal-width probability bins
    ([0, 0.1), ..., [0.9, 1.0]): the example-weighted mean of |mean score - positive
    rate| per bin."""
    bins = np.clip(np.floor(p * ECE_BINS), 0, ECE_BINS - 1).astype(int)
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
    """The weighted median of |y - p|; with an even count, the mean of the two middle
    errors (as numpy and scikit-learn take it)."""
    errors = np.abs(y - p)
    if not len(errors):
        return np.full(w.shape[0], np.nan)
    order = np.argsort(errors, kind="mergesort")
    cumulative = np.cumsum(w[:, order], axis=1)
    half = cumulative[:, -1:] / 2
    last = len(errors) - 1
    lower = np.minimum((cumulative < half).sum(1), last)
    upper = np.minimum((cumulative <= half).sum(1), last)
    return (errors[order][lower] + errors[order][upper]) / 2


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


# Multiclass: `y` holds class indices (negative: a class the model never saw, one code
# per such class), `p` the (n, classes) probabilities; averages over classes are
# unweighted (macro). A class the model never saw is scored as if it had a probability
# column of zeros, as scikit-learn scores the probabilities padded with that class.
def _one_vs_rest(metric: Metric) -> Metric:
    """The macro average of a binary ranking metric over each class against the rest,
    over the classes present in the (weighted) sample. A class the model never saw is
    one of them, ranked by a score of 0 for every row (roc_auc 0.5): left out, a model
    that cannot predict a class scored higher than one that predicts it poorly."""
    def macro(y: np.ndarray, p: np.ndarray, t: float, w: np.ndarray) -> np.ndarray:
        never = np.zeros(len(y))
        per_class = [metric((y == c).astype(int), p[:, c] if c >= 0 else never, t, w)
                     for c in _true_classes(y, p.shape[1])]
        with warnings.catch_warnings():  # no class defined: NaN, not a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(np.vstack(per_class), axis=0)

    return macro


def _top_label(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (p.argmax(1) == y).astype(int), p.max(1)


def mc_accuracy(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    return _mean((p.argmax(1) == y).astype(float), w)


def _true_classes(y: np.ndarray, classes: int) -> list[int]:
    """The model's classes, and the test set's classes it never saw (negative codes:
    classes it cannot predict, each with recall 0 and a score of 0 on every row, not
    left out of a macro average)."""
    return list(range(classes)) + sorted(np.unique(y[y < 0]).tolist())


def mc_balanced_accuracy(y: np.ndarray, p: np.ndarray, _t: float,
                         w: np.ndarray) -> np.ndarray:
    """Mean recall over the classes present in each (weighted) sample."""
    predicted = p.argmax(1)
    recalls = [_safe_div(w[:, (y == c) & (predicted == c)].sum(1), w[:, y == c].sum(1))
               for c in _true_classes(y, p.shape[1]) if (y == c).any()]
    if not recalls:  # an empty test set
        return np.full(w.shape[0], np.nan)
    with warnings.catch_warnings():  # no class present in a sample: NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.vstack(recalls), axis=0)


def mc_log_loss(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    chosen = np.where(y >= 0, p[np.arange(len(y)), np.maximum(y, 0)], 0.0)
    return _mean(-np.log(np.clip(chosen, EPS, 1 - EPS)), w)


def mc_brier(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
    """The squared error summed over the classes (0..2), as scikit-learn's multiclass
    `brier_score_loss`. A row of a class the model never saw adds that class's own term,
    (0 - 1)^2 = 1: without it, such a row cost less than one of a class it knows."""
    onehot = np.zeros_like(p)
    known = y >= 0
    onehot[np.arange(len(y))[known], y[known]] = 1.0
    return _mean(((p - onehot) ** 2).sum(1) + (y < 0), w)


def mc_ece(y: np.ndarray, p: np.ndarray, t: float, w: np.ndarray) -> np.ndarray:
    """Top-label calibration: the winning class's probability against being right."""
    correct, confidence = _top_label(y, p)
    return ece(correct, confidence, t, w)


def _macro(ratio: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, ...]]
           ) -> Metric:
    """A macro average of a per-class ratio of the argmax predictions, as scikit-learn's
    `average="macro"`: over the classes that are true or predicted in the (weighted)
    sample, an undefined ratio (a class never predicted has no precision) counting 0.
    Dropping such a class instead would reward a model that always predicts one class."""
    def macro(y: np.ndarray, p: np.ndarray, _t: float, w: np.ndarray) -> np.ndarray:
        predicted = p.argmax(1)
        values, present = [], []
        for c in _true_classes(y, p.shape[1]):
            actual, chosen = y == c, predicted == c
            tp, fp, fn = (w[:, m].sum(1) for m in (actual & chosen, ~actual & chosen,
                                                    actual & ~chosen))
            num, den = ratio(tp, fp, fn)
            values.append(np.nan_to_num(_safe_div(num, den)))
            present.append(tp + fp + fn > 0)
        counted = np.vstack(present)
        return _safe_div((np.vstack(values) * counted).sum(0), counted.sum(0))

    return macro


MULTICLASS: dict[str, Metric] = {
    "roc_auc": _one_vs_rest(roc_auc), "pr_auc": _one_vs_rest(average_precision),
    "average_precision": _one_vs_rest(average_precision), "accuracy": mc_accuracy,
    "balanced_accuracy": mc_balanced_accuracy,
    "precision": _macro(lambda tp, fp, fn: (tp, tp + fp)),
    "recall": _macro(lambda tp, fp, fn: (tp, tp + fn)),
    "f1": _macro(lambda tp, fp, fn: (2 * tp, 2 * tp + fp + fn)), "log_loss": mc_log_loss,
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
        rows = max(1, min(MAX_CHUNK, CHUNK_CELLS // max(self.n, 1)))
        for start in range(0, self.samples, rows):
            k = min(rows, self.samples - start)
            # int32 draws and one bincount per row: a third of the time of int64 draws
            # offset into one long bincount (fewer bytes to write and to count).
            draws = rng.integers(0, self.n, size=(k, self.n), dtype=np.int32)
            counts = np.empty((k, self.n))
            for row in range(k):
                counts[row] = np.bincount(draws[row], minlength=self.n)
            yield counts


def with_interval(metric: Metric, y: np.ndarray, p: np.ndarray, threshold: float,
                  samples: int = BOOTSTRAP_SAMPLES,
                  weights: Iterable[np.ndarray] | None = None) -> dict[str, float | None]:
    """The metric and its percentile-bootstrap 95% interval."""
    if not (finite(p) and finite(y)):
        return dict(UNDEFINED)
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


UNDEFINED: dict[str, float | None] = {"value": None, "low": None, "high": None}


def finite(p: np.ndarray) -> bool:
    """Every score (or target) is a number: NaN or infinite scores leave every metric
    undefined, and so does a regression target that is (an rmse of infinity is no
    measurement, and numpy warned on every bootstrap sample)."""
    return bool(np.isfinite(p).all())


def _clean(value: float) -> float | None:
    """Rounded to 6 decimals (the report's precision, and the gates'); NaN and infinity
    (an overflowed rmse) are None: JSON cannot carry them and no gate passes on them."""
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def all_metrics(task: str, y: np.ndarray, p: np.ndarray, threshold: float,
                names: set[str] | None = None,
                samples: int = BOOTSTRAP_SAMPLES) -> dict[str, dict[str, float | None]]:
    table = metrics_for(task)
    chosen = sorted(names & table.keys()) if names is not None else sorted(table)
    if not (finite(p) and finite(y)):
        return {name: dict(UNDEFINED) for name in chosen}
    weights = bootstrap_weights(len(y), samples) if len(y) >= 2 else None
    # Aliases (pr_auc, average_precision) share one function: compute it once.
    results: dict[Metric, dict[str, float | None]] = {}
    for name in chosen:
        metric = table[name]
        if metric not in results:
            results[metric] = with_interval(metric, y, p, threshold, samples, weights)
    return {name: dict(results[table[name]]) for name in chosen}
