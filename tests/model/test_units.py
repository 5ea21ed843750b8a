"""Model-runtime pieces on their own: canonical bytes, the registry's invariants,
metrics against scikit-learn, the model allow-list, gate verdicts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pipec.stdlib.runtime import metrics as M
from pipec.stdlib.runtime import serialize
from pipec.stdlib.runtime.evaluation import judge
from pipec.stdlib.runtime.modeling import ModelLoadError, estimator_class
from pipec.stdlib.runtime.registry import Registry, RegistryError
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

DUMP = """
import numpy as np, sys
from sklearn.linear_model import LogisticRegression
from pipec.stdlib.runtime import serialize
x = np.arange(40.0).reshape(20, 2); y = np.arange(20) % 2
sys.stdout.write(serialize.sha256(serialize.dumps(LogisticRegression(random_state=0).fit(x, y))))
"""


def small_model() -> LogisticRegression:
    x = np.arange(40.0).reshape(20, 2)
    return LogisticRegression(random_state=0).fit(x, np.arange(20) % 2)


def frame_model() -> LogisticRegression:
    """`small_model` fitted on the columns `a` and `b` the evaluation scores it with, as
    the train stage fits on a frame: scoring a frame with a model fitted on a bare array
    warns "X has feature names" at every call."""
    import pandas as pd

    x = pd.DataFrame(np.arange(40.0).reshape(20, 2), columns=["a", "b"])
    return LogisticRegression(random_state=0).fit(x, np.arange(20) % 2)


def test_canonical_bytes_are_the_same_in_two_processes() -> None:
    hashes = {subprocess.run([sys.executable, "-c", DUMP], capture_output=True, text=True,
                             check=True).stdout for _ in range(2)}
    assert len(hashes) == 1 and len(hashes.pop()) == 64


def test_altered_bytes_are_refused() -> None:
    data = serialize.dumps(small_model())
    digest = serialize.sha256(data)
    assert serialize.loads(data, digest).predict(np.zeros((1, 2))).shape == (1,)
    tampered = bytearray(data)
    tampered[len(tampered) // 2] ^= 0xFF
    with pytest.raises(serialize.ModelIntegrityError, match="altered or corrupted"):
        serialize.loads(bytes(tampered), digest)


def test_registry_keeps_one_production_and_a_history(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    data = serialize.dumps(small_model())
    sha = serialize.sha256(data)
    first = registry.register("m", data, sha, run_id="r1", report_sha256="e1", info={},
                              actor="ml")
    again = registry.register("m", data, sha, run_id="r2", report_sha256="e2", info={},
                              actor="ml")
    assert first.version == again.version == 1
    other = serialize.dumps(LogisticRegression(C=0.1, random_state=0).fit(
        np.arange(40.0).reshape(20, 2), np.arange(20) % 2))
    second = registry.register("m", other, serialize.sha256(other), run_id="r3",
                               report_sha256="e3", info={}, actor="ml")
    registry.promote("m", 1, actor="a", reason="first")
    registry.promote("m", 2, actor="a", reason="second")
    assert [v.state for v in registry.versions("m")] == ["archived", "production"]
    assert registry.rollback("m", actor="a").version == 1
    assert registry.champion("m", second.sha256).version == 1
    assert registry.integrity() == []
    with pytest.raises(RegistryError):
        registry.get("m", 9)


def test_approval_is_bound_to_the_report(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    data = serialize.dumps(small_model())
    sha = serialize.sha256(data)
    info = {"approval_by": "risk"}
    registry.register("m", data, sha, run_id="r1", report_sha256="e1", info=info, actor="ml")
    registry.approve("m", 1, approver="ana", team="risk")
    assert registry.approval("m", 1)["approver"] == "ana"
    registry.register("m", data, sha, run_id="r2", report_sha256="e2", info=info, actor="ml")
    assert registry.approval("m", 1) is None  # re-evaluated: a new approval is needed


def test_a_guarded_version_needs_its_teams_approval(tmp_path: Path) -> None:
    """`approval by risk` (recorded at registration): another team's approval is refused,
    and nothing promotes the version before risk approves its current report."""
    registry = Registry(tmp_path)
    data = serialize.dumps(small_model())
    registry.register("m", data, serialize.sha256(data), run_id="r1", report_sha256="e1",
                      info={"approval_by": "risk"}, actor="ml")
    with pytest.raises(RegistryError, match="needs approval by team `risk`"):
        registry.approve("m", 1, approver="bo", team="serving")
    with pytest.raises(RegistryError, match="waits for approval by risk"):
        registry.promote("m", 1, actor="bo", reason="by hand")
    assert registry.missing_approval(registry.get("m", 1)) == "risk"
    registry.approve("m", 1, approver="ana", team="risk")
    assert registry.approval("m", 1, "serving") is None
    assert registry.approval("m", 1, "risk")["approver"] == "ana"
    assert registry.promote("m", 1, actor="bo", reason="approved").state == "production"
    with pytest.raises(RegistryError, match="already in production"):
        registry.approve("m", 1, approver="ana", team="risk")


def test_tampered_registry_file_is_found_and_refused(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    data = serialize.dumps(small_model())
    sha = serialize.sha256(data)
    registry.register("m", data, sha, run_id="r", report_sha256="e", info={}, actor="ml")
    path = registry.object_path(sha)
    raw = bytearray(path.read_bytes())
    raw[100] ^= 1
    path.write_bytes(bytes(raw))
    assert registry.integrity() == ["m v1: model bytes altered"]
    with pytest.raises(serialize.ModelIntegrityError):
        registry.load("m", 1)


@pytest.mark.parametrize("name, reference", [
    ("roc_auc", skm.roc_auc_score), ("average_precision", skm.average_precision_score),
    ("brier", skm.brier_score_loss), ("log_loss", skm.log_loss)])
def test_probability_metrics_match_scikit_learn(name: str, reference: object) -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 2000)
    p = np.clip(np.round(rng.random(2000) * 0.6 + y * 0.3, 2), 0.001, 0.999)
    assert M.value(M.BINARY[name], y, p, 0.5) == pytest.approx(reference(y, p), rel=1e-9)


def test_threshold_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 500)
    p = rng.random(500)
    predicted = (p >= 0.3).astype(int)
    assert M.value(M.recall, y, p, 0.3) == pytest.approx(skm.recall_score(y, predicted))
    assert M.value(M.precision, y, p, 0.3) == pytest.approx(skm.precision_score(y, predicted))
    assert M.value(M.f1, y, p, 0.3) == pytest.approx(skm.f1_score(y, predicted))


@pytest.mark.parametrize("name, reference", [
    ("rmse", lambda y, p: skm.mean_squared_error(y, p) ** 0.5),
    ("mae", skm.mean_absolute_error), ("r2", skm.r2_score),
    ("median_ae", skm.median_absolute_error)])
def test_regression_metrics_match_scikit_learn(name: str, reference: object) -> None:
    rng = np.random.default_rng(6)
    y = rng.normal(size=501)
    p = y + rng.normal(scale=0.5, size=501)
    assert M.value(M.REGRESSION[name], y, p, 0.5) == pytest.approx(reference(y, p), rel=1e-9)


def test_weighted_bootstrap_equals_resampling() -> None:
    """A weight row is the same as the resampled data it counts."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.random(300), 2)
    draw = rng.integers(0, 300, 300)
    weights = np.bincount(draw, minlength=300).astype(float)[None, :]
    for name, metric in M.BINARY.items():
        resampled = M.value(metric, y[draw], p[draw], 0.4)
        assert metric(y, p, 0.4, weights)[0] == pytest.approx(resampled, rel=1e-9), name


@pytest.mark.parametrize("ties", ["none", "few", "many"])
@pytest.mark.parametrize("name, reference", [
    ("roc_auc", skm.roc_auc_score), ("average_precision", skm.average_precision_score)])
def test_ranking_metrics_on_weight_rows_match_resampled_scikit_learn(
        ties: str, name: str, reference: object) -> None:
    """Several bootstrap rows at once, scores sorted or not, with no tied scores, a few
    (read per tie group) and many (summed per group): each row gives what scikit-learn
    gives on the resample it counts."""
    rng = np.random.default_rng(11)
    n = 400
    y = rng.integers(0, 2, n)
    p = rng.random(n) * 0.7 + y * 0.2
    if ties == "few":
        p[::37], p[1] = p[5], p[2]
    elif ties == "many":
        p = np.round(p, 1)
    draws = rng.integers(0, n, (3, n))
    w = np.vstack([np.bincount(d, minlength=n) for d in draws]).astype(float)
    want = [reference(y[d], p[d]) for d in draws]
    assert M.BINARY[name](y, p, 0.5, w) == pytest.approx(want, rel=1e-9)
    order = np.argsort(p, kind="mergesort")
    assert M.BINARY[name](y[order], p[order], 0.5, w[:, order]) == pytest.approx(want, rel=1e-9)


def test_bootstrap_interval_brackets_the_value_and_is_repeatable() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 1000)
    p = rng.random(1000) * 0.5 + y * 0.4
    first = M.with_interval(M.roc_auc, y, p, 0.5)
    assert first["low"] <= first["value"] <= first["high"]
    assert M.with_interval(M.roc_auc, y, p, 0.5) == first


@pytest.mark.parametrize("path", ["os.system", "subprocess.Popen", "sklearnx.Model",
                                  "sklearn.linear_model.NoSuchModel", "sklearn.base"])
def test_model_allow_list(path: str) -> None:
    with pytest.raises(ModelLoadError):
        estimator_class(path)


def test_warn_gates_do_not_block_and_small_slices_are_not_gated() -> None:
    report = {"metrics": {"recall": {"value": 0.1}}, "slices": {"c": {"roc_auc": {
        "a": {"rows": 5, "gated": False, "roc_auc": {"value": 0.1}},
        "b": {"rows": 500, "gated": True, "roc_auc": {"value": 0.9}}}}}}
    warn = judge({"kind": "guardrail", "metric": "recall", "op": ">=", "value": 0.5,
                  "blocking": False}, report)
    assert warn["passed"] is False and warn["blocking"] is False
    sliced = judge({"kind": "slice", "metric": "roc_auc", "op": ">=", "value": 0.8,
                    "column": "c", "min": 100, "blocking": True}, report)
    assert sliced["passed"] is True and "1 below 100 rows" in sliced["note"]


def test_multiclass_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 3, 600)
    logits = rng.normal(size=(600, 3)) + np.eye(3)[y] * 1.5
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    table = M.metrics_for("multiclass")
    assert M.value(table["accuracy"], y, p, 0.5) == pytest.approx(
        skm.accuracy_score(y, p.argmax(1)))
    assert M.value(table["log_loss"], y, p, 0.5) == pytest.approx(skm.log_loss(y, p))
    assert M.value(table["roc_auc"], y, p, 0.5) == pytest.approx(
        skm.roc_auc_score(y, p, multi_class="ovr", average="macro"))
    assert M.value(table["f1"], y, p, 0.5) == pytest.approx(
        skm.f1_score(y, p.argmax(1), average="macro"))
    assert M.value(table["balanced_accuracy"], y, p, 0.5) == pytest.approx(
        skm.balanced_accuracy_score(y, p.argmax(1)))


def _evaluation(spec_extra: dict, gates: list[dict]) -> dict:
    import pyarrow as pa
    from pipec.stdlib.runtime.evaluation import evaluate_model

    x = np.arange(40.0).reshape(20, 2)
    test = pa.table({"a": x[:, 0], "b": x[:, 1], "y": np.arange(20) % 2,
                     "group": ["g1", "g2"] * 10})
    spec = {"task": "binary", "gates": gates} | spec_extra
    return evaluate_model(frame_model(), 1000, spec, {"features": ["a", "b"], "label": "y"},
                          test, None)


def test_threshold_zero_is_a_threshold_not_the_default() -> None:
    report = _evaluation({"threshold": 0}, [])
    assert report["threshold"] == 0.0
    assert report["metrics"]["recall"]["value"] == 1.0  # every score is >= 0


def test_slice_min_zero_gates_every_slice() -> None:
    gate = {"kind": "slice", "column": "group", "metric": "roc_auc", "op": ">=", "value": 0.0,
            "min": 0, "blocking": True, "line": "slice group min 0: roc_auc >= 0"}
    slices = _evaluation({}, [gate])["slices"]["group"]["roc_auc"]
    assert all(entry["gated"] for entry in slices.values())


def test_a_feature_with_no_value_trains_a_nan_taking_model() -> None:
    """Every `amount` NULL: HistGradientBoosting stopped on "window shape cannot be larger
    than input array shape" (no bin thresholds); the column is a constant instead."""
    import pyarrow as pa
    from pipec.stdlib.runtime.modeling import fit, frame, scores

    rng = np.random.default_rng(0)
    table = pa.table({"a": pa.array([None] * 100, pa.float64()), "x": rng.normal(size=100),
                      "c": pa.array([None] * 100, pa.string()), "y": np.arange(100) % 2 == 0})
    spec = {"model": "sklearn.ensemble.HistGradientBoostingClassifier", "task": "binary",
            "params": {"max_iter": 5}, "features": ["a", "x", "c"], "label": "y", "seed": 1}
    model = fit(spec, table, ("sklearn",))
    assert scores(model, frame(table, spec["features"]), "binary").shape == (100,)


def test_an_infinite_feature_is_missing_to_the_model() -> None:
    import pyarrow as pa
    from pipec.stdlib.runtime.modeling import frame, infinite_values

    table = pa.table({"a": [1.0, float("inf"), -float("inf"), None], "b": [1, 2, 3, 4]})
    data = frame(table, ["a", "b"])
    assert data["a"].isna().tolist() == [False, True, True, True]
    assert infinite_values(table, ["a", "b"]) == {"a": 2}
