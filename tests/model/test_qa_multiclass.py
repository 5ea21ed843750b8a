"""Multiclass metrics against scikit-learn when the model and the test set disagree on
the classes: a test class the model never saw (a carrier that started flying after the
train period), a champion trained on fewer classes than the candidate, and a train set
with a class of one row."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from pipec.stdlib.runtime import metrics as M
from pipec.stdlib.runtime.errors import TrainingRefused
from pipec.stdlib.runtime.evaluation import evaluate_model
from pipec.stdlib.runtime.model_stages import _fit_or_stop
from sklearn import metrics as skm

SCORE_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece")
ARGMAX_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1")


def _padded(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels renumbered 0..k-1 in code order (unseen codes -1, -2 ... after the model's
    classes) and the probabilities with a zero column for each unseen class: what
    scikit-learn scores when it is given every class of the test set."""
    unseen = sorted(np.unique(y[y < 0]).tolist(), reverse=True)
    position = {c: c for c in range(p.shape[1])} | {
        code: p.shape[1] + i for i, code in enumerate(unseen)}
    labels = np.array([position[c] for c in y.tolist()])
    return labels, np.hstack([p, np.zeros((len(y), len(unseen)))]), np.arange(len(position))


def _reference(name: str, y: np.ndarray, p: np.ndarray) -> float:
    labels, padded, classes = _padded(y, p)
    if name == "roc_auc":
        return float(np.mean([skm.roc_auc_score(labels == c, padded[:, c])
                              for c in classes if 0 < (labels == c).sum() < len(labels)]))
    if name == "pr_auc":
        return float(np.mean([skm.average_precision_score(labels == c, padded[:, c])
                              for c in classes if (labels == c).any()]))
    if name == "brier":
        return float(skm.brier_score_loss(labels, padded, labels=classes))
    if name == "log_loss":
        return float(skm.log_loss(labels, padded, labels=classes))
    if name == "ece":  # top-label, 10 equal-width bins, by hand
        confidence, right = padded.max(1), (padded.argmax(1) == labels).astype(float)
        bins = np.clip(np.floor(confidence * 10), 0, 9)
        return float(sum(abs(confidence[bins == b].sum() - right[bins == b].sum())
                         for b in range(10)) / len(labels))
    predicted = padded.argmax(1)
    if name == "accuracy":
        return float(skm.accuracy_score(labels, predicted))
    if name == "balanced_accuracy":
        return float(skm.balanced_accuracy_score(labels, predicted))
    score = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}
    return float(score[name](labels, predicted, average="macro", zero_division=0))


def _cases_with_unseen_classes(count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Small test sets over 3 model classes and 1 or 2 classes it never saw, every
    model class present (so the one-vs-rest reference is defined for it)."""
    rng = np.random.default_rng(23)
    cases = []
    while len(cases) < count:
        n = int(rng.integers(6, 14))
        y = rng.choice([0, 1, 2, -1, -2], n, p=[0.25, 0.25, 0.25, 0.15, 0.10])
        if set(range(3)) <= set(y.tolist()) and (y < 0).any():
            cases.append((y, rng.dirichlet(np.ones(3), n).round(1)))
    return cases


def _normalised(p: np.ndarray) -> np.ndarray:
    """Rounded probabilities (ties) that still sum to 1 per row."""
    p = np.where(p.sum(1, keepdims=True) == 0, 1 / 3, p)
    return p / p.sum(1, keepdims=True)


@pytest.mark.parametrize("name", SCORE_METRICS + ARGMAX_METRICS)
def test_every_multiclass_metric_scores_an_unseen_class_as_scikit_learn_does(
        name: str) -> None:
    """scikit-learn given every test class, the model's probability of a class it never
    saw being 0. roc_auc and pr_auc left such a class out and brier left out its own
    squared error: a model that cannot predict a class scored better on them."""
    for y, raw in _cases_with_unseen_classes(60):
        p = _normalised(raw)
        ours = M.value(M.MULTICLASS[name], y, p, 0.5)
        assert ours == pytest.approx(_reference(name, y, p)), \
            f"{name} y={y.tolist()} p={p.tolist()}"


def test_a_row_of_an_unseen_class_costs_brier_its_own_term() -> None:
    """A hard, right prediction costs 0; a row of a class the model never saw costs the
    squared probabilities it gave plus 1 for the class it gave nothing."""
    y, p = np.array([0, -1]), np.array([[1.0, 0.0], [0.5, 0.5]])
    assert M.value(M.MULTICLASS["brier"], y, p, 0.5) == pytest.approx((0 + 0.5 + 1) / 2)


def test_roc_auc_of_an_unseen_class_is_that_of_a_constant_score() -> None:
    """A perfect ranking of the model's two classes; the third class, never seen, is
    ranked by nothing (0.5). Left out, the macro average said 1.0."""
    y = np.array([0, 0, 1, 1, -1, -1])
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9], [0.6, 0.4], [0.4, 0.6]])
    ours = M.value(M.MULTICLASS["roc_auc"], y, p, 0.5)
    assert ours == pytest.approx(_reference("roc_auc", y, p))
    assert ours < 1.0


def test_bootstrap_rows_with_an_unseen_class_equal_resampling() -> None:
    """The weighted (bootstrap) form of each metric equals the metric of the resample
    it stands for, with unseen classes in the data."""
    y, raw = _cases_with_unseen_classes(1)[0]
    p = _normalised(raw)
    rng = np.random.default_rng(5)
    for _ in range(20):
        draw = rng.integers(0, len(y), len(y))
        weights = np.bincount(draw, minlength=len(y)).astype(float)[None, :]
        for name, metric in M.MULTICLASS.items():
            assert metric(y, p, 0.5, weights)[0] == pytest.approx(
                M.value(metric, y[draw], p[draw], 0.5), nan_ok=True), name


class Classes:
    """A fitted classifier of the given classes whose probabilities are fixed per test
    row (column `i` holds the row number)."""

    def __init__(self, classes: list[str], proba: np.ndarray) -> None:
        self.classes_ = np.array(classes, dtype=object)
        self.proba = proba

    def predict_proba(self, data: Any) -> np.ndarray:
        return self.proba[data["i"].to_numpy().astype(int)]

    def predict(self, data: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(data).argmax(1)]


def _gate(kind: str, metric: str, op: str, value: float) -> dict[str, Any]:
    return {"kind": kind, "metric": metric, "op": op, "value": value, "column": None,
            "min": None, "blocking": True}


# Rows of classes a, b, c. The candidate knows all three and ranks every class well; the
# champion was trained before class c existed: it ranks a and b as well, never c.
LABELS = ["a", "a", "b", "b", "c", "c", "a", "b"]
CANDIDATE = np.array([[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1],
                      [0.1, 0.2, 0.7], [0.2, 0.1, 0.7], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1]])
CHAMPION = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8],
                     [0.6, 0.4], [0.4, 0.6], [0.7, 0.3], [0.3, 0.7]])


def _evaluate(gates: list[dict[str, Any]]) -> dict[str, Any]:
    test = pa.table({"i": np.arange(len(LABELS), dtype=float), "y": LABELS})
    champion = (Classes(["a", "b"], CHAMPION),
                {"features": ["i"], "label": "y", "task": "multiclass", "version": 1})
    spec = {"task": "multiclass", "threshold": None, "gates": gates}
    return evaluate_model(Classes(["a", "b", "c"], CANDIDATE), 1000, spec,
                          {"features": ["i"], "label": "y"}, test, champion)


def test_a_champion_that_never_saw_a_class_is_scored_as_scikit_learn_scores_it() -> None:
    """The champion's roc_auc over a, b alone was 1.0, above the candidate's, so a
    candidate that adds a class was refused for it; scored with class c at probability
    0 (0.5 for c), the candidate is the better model and passes."""
    gates = [_gate("compare_champion", "roc_auc", ">=", 0.0),
             _gate("compare_champion", "brier", "<=", 0.0)]
    report = _evaluate(gates)
    y = np.array(["abc".index(v) for v in LABELS])
    champion_codes = np.where(y == 2, -1, y)
    for metric in ("roc_auc", "brier"):
        assert report["champion"]["metrics"][metric]["value"] == pytest.approx(
            _reference(metric, champion_codes, CHAMPION), abs=1e-6), metric
        assert report["metrics"][metric]["value"] == pytest.approx(
            _reference(metric, y, CANDIDATE), abs=1e-6), metric
    assert [g["passed"] for g in report["gates"]] == [True, True], report["gates"]


def test_the_report_names_the_test_classes_the_model_never_saw() -> None:
    test = pa.table({"i": np.arange(4, dtype=float), "y": ["a", "z", "b", "z"]})
    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.4, 0.6]])
    report = evaluate_model(Classes(["a", "b"], proba), 1000,
                            {"task": "multiclass", "threshold": None,
                             "gates": [_gate("primary", "accuracy", ">=", 0.0)]},
                            {"features": ["i"], "label": "y"}, test, None)
    assert report["classes_not_in_training"] == {"z": 2}


def test_a_class_of_one_train_row_is_named_when_the_estimator_cannot_split_it() -> None:
    """HistGradientBoosting's early stopping (on above 10,000 rows) splits the train set
    by class; scikit-learn names the class of one row by its encoded index ("[2.0]"),
    the stage names the label's value and what to change."""
    labels = ["x", "y"] * 5000 + ["rare"]
    train = pa.table({"a": np.arange(len(labels), dtype=float), "carrier": labels})
    stage = {"id": "train.m", "kind": "train",
             "model": "sklearn.ensemble.HistGradientBoostingClassifier",
             "features": ["a"], "label": "carrier", "task": "multiclass",
             "params": {"max_iter": 2}, "seed": 1}
    ctx = SimpleNamespace(stage=stage, manifest={"stages": [stage]}, options={})
    with pytest.raises(TrainingRefused) as refused:
        _fit_or_stop(ctx, train, 0)
    message = str(refused.value)
    assert "the class 'rare' of the label `carrier` has a single labelled train row" \
        in message
    assert "`early_stopping: false`" in message
