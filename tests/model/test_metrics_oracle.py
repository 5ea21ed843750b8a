"""Metrics and gate verdicts against independent oracles (scikit-learn, hand counts) on
small hostile inputs: one class, NaN and infinite scores, ties, constant models, tiny
slices, values exactly at a gate's limit, a champion that cannot be scored."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from pipec.literals import duration_seconds, size_bytes
from pipec.stdlib.runtime import metrics as M
from pipec.stdlib.runtime.evaluation import evaluate_model, judge
from pipec.stdlib.runtime.modeling import (
    ModelLoadError,
    build_model,
    fit,
    frame,
    scores,
    training_threads,
)
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

BINARY_SCORE = {"roc_auc": skm.roc_auc_score, "average_precision": skm.average_precision_score,
                "brier": skm.brier_score_loss, "log_loss": skm.log_loss}
BINARY_CUT = {"precision": skm.precision_score, "recall": skm.recall_score,
              "f1": skm.f1_score, "accuracy": skm.accuracy_score,
              "balanced_accuracy": skm.balanced_accuracy_score}


def _hostile_cases(count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Tiny test sets of both classes with heavy ties and hard 0/1 probabilities."""
    rng = np.random.default_rng(11)
    cases = []
    while len(cases) < count:
        n = int(rng.integers(2, 9))
        y = rng.integers(0, 2, n)
        if y.min() != y.max():
            cases.append((y, rng.choice([0.0, 0.2, 0.5, 0.5, 1.0], n)))
    return cases


def test_binary_metrics_match_scikit_learn_on_ties_and_hard_scores() -> None:
    for y, p in _hostile_cases(300):
        case = f"y={y.tolist()} p={p.tolist()}"
        for name, reference in BINARY_SCORE.items():
            assert M.value(M.BINARY[name], y, p, 0.5) == pytest.approx(reference(y, p)), \
                f"{name} {case}"
        predicted = (p >= 0.5).astype(int)
        for name, reference in BINARY_CUT.items():
            ours = M.value(M.BINARY[name], y, p, 0.5)
            if name == "precision" and predicted.sum() == 0:
                assert np.isnan(ours), case  # undefined: None in the report, gates fail
                continue
            assert ours == pytest.approx(reference(y, predicted)), f"{name} {case}"


def test_log_loss_of_a_hard_wrong_probability_matches_scikit_learn() -> None:
    y, p = np.array([1, 0, 1]), np.array([0.0, 0.0, 1.0])
    assert M.value(M.log_loss, y, p, 0.5) == pytest.approx(skm.log_loss(y, p))


@pytest.mark.parametrize("n", [2, 4, 6, 7])
def test_median_absolute_error_of_an_even_count_averages_the_middle_pair(n: int) -> None:
    y = np.arange(n, dtype=float)
    p = y + np.array([0.5, -1.0, 2.0, 0.25, -3.0, 1.5, 0.1])[:n]
    assert M.value(M.median_ae, y, p, 0.5) == pytest.approx(skm.median_absolute_error(y, p))


def test_weighted_regression_and_multiclass_metrics_equal_resampling() -> None:
    rng = np.random.default_rng(12)
    draw = rng.integers(0, 40, 40)
    weights = np.bincount(draw, minlength=40).astype(float)[None, :]
    y = rng.normal(size=40).round(1)
    p = y + rng.normal(size=40).round(1)
    for name, metric in M.REGRESSION.items():
        assert metric(y, p, 0.5, weights)[0] == pytest.approx(
            M.value(metric, y[draw], p[draw], 0.5)), name
    labels = rng.integers(0, 3, 40)
    proba = rng.dirichlet(np.ones(3), 40)
    for name, metric in M.MULTICLASS.items():
        assert metric(labels, proba, 0.5, weights)[0] == pytest.approx(
            M.value(metric, labels[draw], proba[draw], 0.5), nan_ok=True), name


def test_a_constant_multiclass_model_is_not_rewarded_by_the_macro_average() -> None:
    """Always predicting class 0: scikit-learn's macro precision counts the classes
    never predicted as 0 (dropping them would report 1/3 instead of 1/9)."""
    y = np.array([0, 1, 2] * 4)
    p = np.tile([0.6, 0.3, 0.1], (12, 1))
    table, predicted = M.metrics_for("multiclass"), p.argmax(1)
    for name, reference in (("precision", skm.precision_score), ("recall", skm.recall_score),
                            ("f1", skm.f1_score)):
        assert M.value(table[name], y, p, 0.5) == pytest.approx(
            reference(y, predicted, average="macro", zero_division=0)), name


def test_a_test_class_the_model_never_saw_counts_in_macro_averages() -> None:
    """Label -1 is a test class absent from training: it can never be predicted, so its
    recall is 0 (scikit-learn counts it; leaving it out would inflate the average)."""
    y = np.array([0, 1, 2, -1, -1, 0, 1, 2])
    p = np.eye(3)[[0, 1, 2, 0, 1, 0, 1, 1]] * 0.8 + 0.2 / 3
    table, predicted = M.metrics_for("multiclass"), p.argmax(1)
    assert M.value(table["balanced_accuracy"], y, p, 0.5) == pytest.approx(
        skm.balanced_accuracy_score(y, predicted))
    for name, reference in (("precision", skm.precision_score), ("recall", skm.recall_score),
                            ("f1", skm.f1_score)):
        assert M.value(table[name], y, p, 0.5) == pytest.approx(
            reference(y, predicted, average="macro", zero_division=0)), name


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_non_finite_scores_leave_every_metric_undefined(bad: float, task: str) -> None:
    y = np.array([0, 1, 0, 1, 1, 0])
    p = np.array([0.1, bad, 0.3, 0.9, 0.8, 0.2])
    report = M.all_metrics(task, y, p, 0.5)
    assert report and all(v == {"value": None, "low": None, "high": None}
                          for v in report.values())


def test_ece_equal_width_bins_by_hand() -> None:
    """Bins [0, .1), [.1, .2) ... [.9, 1]: |.05-0| + |.15-1| + |.55-1| + |(.95+1)-(1+0)|,
    over 5 examples."""
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.15, 0.95, 1.0, 0.55])
    assert M.value(M.ece, y, p, 0.5) == pytest.approx((0.05 + 0.85 + 0.45 + 0.95) / 5)
    # A score exactly on a bin edge belongs to the bin above it.
    assert M.value(M.ece, np.array([1, 0]), np.array([0.1, 0.2]), 0.5) == pytest.approx(
        (0.9 + 0.2) / 2)


def test_constant_binary_scores_match_scikit_learn() -> None:
    y = np.array([0, 1, 0, 1, 1, 0])
    p = np.full(6, 0.4)
    assert M.value(M.roc_auc, y, p, 0.5) == pytest.approx(skm.roc_auc_score(y, p))
    assert M.value(M.average_precision, y, p, 0.5) == pytest.approx(
        skm.average_precision_score(y, p))
    assert M.value(M.recall, y, p, 0.5) == 0.0
    assert M.all_metrics("binary", y, p, 0.5, {"precision"})["precision"]["value"] is None


# Gate verdicts -------------------------------------------------------------------------
def _gate(kind: str, metric: str | None, op: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "metric": metric, "op": op, "value": value, "blocking": True,
            "column": None, "min": None} | extra


@pytest.mark.parametrize("op, passes", [(">=", True), (">", False), ("<=", True),
                                        ("<", False), ("==", True), ("!=", False)])
def test_a_metric_exactly_at_the_limit(op: str, passes: bool) -> None:
    """recall 3/5 and balanced accuracy (3/5 + 7/10) / 2 = 0.65, whose float sum is
    0.6499999999999999: a value at the limit is judged at the limit."""
    y = np.array([1] * 5 + [0] * 10)
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.2] + [0.1] * 7 + [0.6] * 3)
    report = {"metrics": M.all_metrics("binary", y, p, 0.5)}
    assert report["metrics"]["recall"]["value"] == pytest.approx(
        skm.recall_score(y, p >= 0.5))
    assert judge(_gate("guardrail", "recall", op, 0.6), report)["passed"] is passes
    assert judge(_gate("primary", "balanced_accuracy", op, 0.65), report)["passed"] is passes


def test_regression_gate_directions_by_hand() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.0, 2.0, 3.0, 6.0])  # errors 0 0 0 2: rmse 1, mae 0.5
    report = {"metrics": M.all_metrics("regression", y, p, 0.5)}
    r2 = 1 - 4 / 5
    assert report["metrics"]["r2"]["value"] == pytest.approx(skm.r2_score(y, p)) == r2
    assert judge(_gate("primary", "rmse", "<=", 1.0), report)["passed"]
    assert not judge(_gate("primary", "rmse", "<=", 0.99), report)["passed"]
    assert not judge(_gate("primary", "rmse", ">=", 1.01), report)["passed"]
    assert judge(_gate("guardrail", "mae", "<", 0.51), report)["passed"]
    assert not judge(_gate("guardrail", "r2", ">=", 0.21), report)["passed"]


def test_size_and_latency_gates_compare_bytes_and_seconds() -> None:
    report = {"size_bytes": 50_000_000, "latency_s": {"p50": 0.004, "p99": 0.02}}
    assert judge(_gate("size", None, "<=", size_bytes("50MB")), report)["passed"]
    assert not judge(_gate("size", None, "<=", size_bytes("47MiB")), report)["passed"]
    assert judge(_gate("size", None, "<=", size_bytes("48MiB")), report)["passed"]
    assert judge(_gate("latency", "p99", "<=", duration_seconds("20ms")), report)["passed"]
    assert not judge(_gate("latency", "p99", "<", duration_seconds("20ms")), report)["passed"]
    missing = judge(_gate("latency", "p99", "<=", 0.02), {"latency_s": {}})
    assert missing["passed"] is False and "could not be computed" in missing["note"]


# Whole evaluations ---------------------------------------------------------------------
class Fixed:
    """A fitted-model stand-in whose scores are given."""

    classes_ = np.array([0, 1])

    def __init__(self, positive: np.ndarray) -> None:
        self.positive = positive

    def predict_proba(self, data: Any) -> np.ndarray:
        chosen = self.positive[data["i"].to_numpy().astype(int)]
        return np.column_stack([1 - chosen, chosen])

    def predict(self, data: Any) -> np.ndarray:
        return (self.predict_proba(data)[:, 1] >= 0.5).astype(int)


def _test_set(y: list[int], group: list[str] | None = None) -> pa.Table:
    n = len(y)
    return pa.table({"i": np.arange(n, dtype=float), "y": y,
                     "group": group or ["a"] * n})


def _evaluate(model: Any, test: pa.Table, gates: list[dict[str, Any]],
              champion: tuple[Any, dict[str, Any]] | None = None,
              label: str = "y") -> dict[str, Any]:
    spec = {"task": "binary", "threshold": 0.5, "gates": gates}
    return evaluate_model(model, 1000, spec, {"features": ["i"], "label": label}, test,
                          champion)


PRIMARY = _gate("primary", "roc_auc", ">=", 0.5)


def test_a_one_class_test_set_does_not_pass_an_auc_gate() -> None:
    report = _evaluate(Fixed(np.linspace(0, 1, 8)), _test_set([0] * 8), [PRIMARY])
    assert report["metrics"]["roc_auc"]["value"] is None
    assert report["gates"][0]["passed"] is False
    assert "could not be computed" in report["gates"][0]["note"]
    assert report["blessed"] is False


def test_nan_scores_fail_every_metric_gate_and_say_why() -> None:
    scores_ = np.array([0.1, np.nan, 0.3, 0.9, 0.8, 0.2])
    gates = [PRIMARY, _gate("calibration", "ece", "<=", 1.0),
             _gate("slice", "roc_auc", ">=", 0.0, column="group", min=1)]
    report = _evaluate(Fixed(scores_), _test_set([0, 1, 0, 1, 1, 0]), gates)
    assert report["non_finite_scores"] == 1
    assert [g["passed"] for g in report["gates"]] == [False, False, False]
    assert "1 NaN or infinite scores" in report["gates"][0]["note"]


def test_tiny_slices_are_reported_and_gated_only_from_min_rows() -> None:
    """A slice of one row and a slice with no positive: with `min 1` both are gated, and
    an undefined AUC fails the gate rather than passing it."""
    y = [1, 0, 1, 0, 0, 0]
    group = ["big", "big", "big", "big", "one", "none"]
    model = Fixed(np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.4]))
    gate = _gate("slice", "roc_auc", ">=", 0.5, column="group", min=1)
    report = _evaluate(model, _test_set(y, group), [gate])
    per_value = report["slices"]["group"]["roc_auc"]
    assert {k: v["rows"] for k, v in per_value.items()} == {"big": 4, "none": 1, "one": 1}
    assert per_value["big"]["roc_auc"]["value"] == 1.0
    assert report["gates"][0]["passed"] is False
    assert "none: no value (the slice holds examples of one class only)" in \
        report["gates"][0]["note"]
    lenient = _evaluate(model, _test_set(y, group), [gate | {"min": 2}])
    assert lenient["gates"][0]["passed"] is True


def test_two_slice_gates_on_one_column_keep_their_own_min() -> None:
    """A blocking gate from `min 2` and a warning from `min 1000` on the same column and
    metric: the warning's larger `min` must not exempt the slices the blocking gate
    covers (it did when the last gate's `min` was stored for both)."""
    y = [1, 0, 1, 0, 0, 1, 1, 0]
    group = ["a"] * 4 + ["b"] * 4
    model = Fixed(np.array([0.9, 0.1, 0.8, 0.2, 0.9, 0.1, 0.2, 0.8]))  # b: auc 0
    strict = _gate("slice", "roc_auc", ">=", 0.5, column="group", min=2)
    loose = strict | {"min": 1000, "blocking": False}
    report = _evaluate(model, _test_set(y, group), [strict, loose])
    assert [g["passed"] for g in report["gates"]] == [False, True]
    assert "b=0.0" in report["gates"][0]["note"]
    assert report["blessed"] is False


def test_the_bootstrap_interval_is_repeatable_and_the_gate_uses_the_value() -> None:
    rng = np.random.default_rng(13)
    y = rng.integers(0, 2, 60)
    positive = np.clip(y * 0.3 + rng.random(60) * 0.7, 0, 1)
    limit = _gate("primary", "roc_auc", ">=", 0.0)
    first = _evaluate(Fixed(positive), _test_set(y.tolist()), [limit])
    again = _evaluate(Fixed(positive), _test_set(y.tolist()), [limit])
    auc = first["metrics"]["roc_auc"]
    assert auc == again["metrics"]["roc_auc"]
    assert auc["low"] < auc["value"] < auc["high"]
    # Between the lower bound and the value: the point value decides (language.md
    # reports the interval, it does not gate on it).
    between = _gate("primary", "roc_auc", ">=", (auc["low"] + auc["value"]) / 2)
    assert judge(between, first)["passed"] is True


def test_no_champion_passes_and_says_so() -> None:
    gate = _gate("compare_champion", "roc_auc", ">=", -0.01)
    report = _evaluate(Fixed(np.array([0.9, 0.1])), _test_set([1, 0]), [gate])
    assert report["gates"][0]["passed"] is True
    assert "no champion" in report["gates"][0]["note"]


def test_the_champion_is_scored_on_the_candidates_labels() -> None:
    """The champion was trained when the label had another name: "the same test set"
    means this test set's labels, not a KeyError on the old name."""
    gate = _gate("compare_champion", "roc_auc", ">=", -0.01)
    test = _test_set([1, 0, 1, 0])
    worse = Fixed(np.array([0.6, 0.7, 0.9, 0.1]))  # auc 0.75
    info = {"features": ["i"], "label": "old_label", "task": "binary", "version": 3}
    report = _evaluate(Fixed(np.array([0.9, 0.1, 0.8, 0.2])), test, [gate], (worse, info))
    assert report["champion"]["metrics"]["roc_auc"]["value"] == 0.75
    assert report["gates"][0]["observed"] == 0.25 and report["gates"][0]["passed"]


def test_a_champion_of_another_task_fails_the_comparison_without_a_crash() -> None:
    from sklearn.linear_model import LinearRegression

    regressor = LinearRegression().fit(np.arange(4.0)[:, None], np.arange(4.0))
    info = {"features": ["i"], "label": "y", "task": "regression", "version": 2}
    gate = _gate("compare_champion", "roc_auc", ">=", -0.01)
    report = _evaluate(Fixed(np.array([0.9, 0.1])), _test_set([1, 0]), [gate],
                       (regressor, info))
    assert report["gates"][0]["passed"] is False
    assert "regression" in report["gates"][0]["note"]


class Broken(Fixed):
    def predict_proba(self, data: Any) -> np.ndarray:
        raise ValueError("could not convert string to float: 'JFK'")


def test_a_champion_that_cannot_score_the_test_set_fails_the_comparison() -> None:
    info = {"features": ["i"], "label": "y", "task": "binary", "version": 4}
    gate = _gate("compare_champion", "roc_auc", ">=", -0.01)
    report = _evaluate(Fixed(np.array([0.9, 0.1])), _test_set([1, 0]), [gate],
                       (Broken(np.zeros(2)), info))
    assert report["gates"][0]["passed"] is False
    assert "champion v4 cannot be scored: ValueError" in report["gates"][0]["note"]


# Training ------------------------------------------------------------------------------
def _train_spec(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "features": ["a"], "label": "y", "task": "binary",
            "params": {}, "seed": 5} | extra


def _train_table(y: list[int]) -> pa.Table:
    return pa.table({"a": np.arange(len(y), dtype=float), "y": y})


def test_params_and_seed_reach_the_estimator() -> None:
    spec = _train_spec("sklearn.ensemble.RandomForestClassifier",
                       params={"n_estimators": 7, "max_depth": 2})
    table = _train_table([0, 1] * 5)
    estimator = build_model(spec, frame(table, ["a"]), ("sklearn",)).named_steps["model"]
    assert (estimator.n_estimators, estimator.max_depth, estimator.random_state) == (7, 2, 5)
    assert training_threads({"resources": {"cpu": 4}}) == 4
    assert training_threads({"resources": {"cpu": "500m"}}) == 1
    assert training_threads({}) == 1


@pytest.mark.parametrize("params, message", [
    ({"n_estimatorz": 3}, "has no parameter"),
    ({"random_state": 1}, "contradicts seed 5")])
def test_bad_params_are_a_clear_error(params: dict[str, Any], message: str) -> None:
    spec = _train_spec("sklearn.ensemble.RandomForestClassifier", params=params)
    with pytest.raises(ModelLoadError, match=message):
        fit(spec, _train_table([0, 1] * 5), ("sklearn",))


def test_a_model_that_needs_constructor_arguments_is_a_clear_error() -> None:
    spec = _train_spec("sklearn.ensemble.StackingClassifier")
    with pytest.raises(ModelLoadError, match="estimators"):
        fit(spec, _train_table([0, 1] * 5), ("sklearn",))


def test_a_model_fitted_on_one_class_scores_zero_not_index_error() -> None:
    spec = _train_spec("sklearn.tree.DecisionTreeClassifier")
    model = fit(spec, _train_table([0] * 10), ("sklearn",))
    test = pa.table({"a": np.arange(6.0), "y": [0, 1, 0, 1, 0, 1]})
    assert scores(model, frame(test, ["a"]), "binary").tolist() == [0.0] * 6
    report = evaluate_model(model, 1000, {"task": "binary", "gates": [PRIMARY]},
                            {"features": ["a"], "label": "y"}, test, None)
    assert report["metrics"]["roc_auc"]["value"] == 0.5
    assert report["metrics"]["precision"]["value"] is None


def test_a_fitted_logistic_regression_matches_its_own_probabilities() -> None:
    table = _train_table([0, 0, 1, 0, 1, 1, 0, 1])
    model = fit(_train_spec("sklearn.linear_model.LogisticRegression"), table, ("sklearn",))
    direct = LogisticRegression(random_state=5).fit(np.arange(8.0)[:, None],
                                                    [0, 0, 1, 0, 1, 1, 0, 1])
    assert scores(model, frame(table, ["a"]), "binary") == pytest.approx(
        direct.predict_proba(np.arange(8.0)[:, None])[:, 1])


@pytest.mark.parametrize("task, model, labels", [
    ("binary", "sklearn.tree.DecisionTreeClassifier", [0, 1] * 5),
    ("multiclass", "sklearn.tree.DecisionTreeClassifier", ["x", "y"] * 5),
    ("regression", "sklearn.linear_model.LinearRegression", [0.5, 1.5] * 5)])
def test_an_empty_test_set_fails_its_gates_instead_of_crashing(task: str, model: str,
                                                               labels: list[Any]) -> None:
    spec = _train_spec(model, task=task)
    table = _train_table([0] * 10).set_column(1, "y", pa.array(labels))
    fitted = fit(spec, table, ("sklearn",))
    metric = "rmse" if task == "regression" else "accuracy"
    gate = _gate("primary", metric, "<=" if task == "regression" else ">=", 0.0)
    report = evaluate_model(fitted, 1000, {"task": task, "gates": [gate]}, spec,
                            table.slice(0, 0), None)
    assert report["test_rows"] == 0 and report["latency_s"] == {}
    assert all(v["value"] is None for v in report["metrics"].values())
    assert report["gates"][0]["passed"] is False and report["blessed"] is False
