"""Models a team would try beside the bundled ones: a project's own classes (one without
`predict_proba`, one drawing from numpy's global generator, one whose fitted state skops
cannot load back), a `class_weight` map, regression targets that are not numbers, and a
stored model of a module the project no longer allows."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pytest
from model.project import write_project
from pipec.stdlib.runtime import metrics as M
from pipec.stdlib.runtime import model_code, serialize
from pipec.stdlib.runtime.errors import TrainingRefused
from pipec.stdlib.runtime.evaluation import evaluate_model
from pipec.stdlib.runtime.model_stages import _fit_or_stop
from pipec.stdlib.runtime.modeling import ModelLoadError, fit
from sklearn.linear_model import LogisticRegression


def pipec(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def own_model_project(folder: Path, module: str, source: str, model: str) -> Path:
    """The spend project whose train stage fits `module.model` (no params), a module
    beside it that its pyproject allows."""
    path = write_project(folder)
    text = path.read_text("utf-8").replace("    params { C: 1.0, max_iter: 300 }\n", "")
    path.write_text(text.replace("sklearn.linear_model.LogisticRegression",
                                 f"{module}.{model}"), "utf-8")
    (folder / f"{module}.py").write_text(source, "utf-8")
    (folder / "pyproject.toml").write_text(
        f'[tool.pipec]\nallowed_model_modules = ["sklearn", "{module}"]\n', "utf-8")
    return path


def train_report(project: Path) -> dict:
    with sqlite3.connect(project / ".pipec" / "index.sqlite") as db:
        row = db.execute("SELECT report_json FROM stage_cache WHERE stage_id = 'train.model'"
                         ).fetchone()
    return json.loads(row[0])


def table(rows: int = 200, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    return pa.table({"x": x, "z": rng.normal(size=rows), "y": x + rng.normal(0, 0.5, rows) > 0,
                     "amount": x * 10 + rng.normal(size=rows)})


def binary_spec(**fields: object) -> dict:
    return {"id": "train.m", "model": "sklearn.linear_model.LogisticRegression",
            "features": ["x", "z"], "label": "y", "task": "binary"} | fields


# A classifier with decision_function and no predict_proba, which the checker (T005)
# cannot know by name; its fit leaves a mark, so the test sees whether it ran.
MARGIN = """
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import LinearSVC


class Margin(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        (Path(__file__).parent / "FITTED").touch()
        self.inner_ = LinearSVC().fit(np.asarray(X, float), y)
        self.classes_ = self.inner_.classes_
        return self

    def decision_function(self, X):
        return self.inner_.decision_function(np.asarray(X, float))

    def predict(self, X):
        return self.inner_.predict(np.asarray(X, float))
"""


def test_a_project_classifier_without_probabilities_is_refused_before_it_fits(
        tmp_path: Path) -> None:
    """It failed at the evaluate stage, after training, with "AttributeError: This
    'Pipeline' has no attribute 'predict_proba'"."""
    path = own_model_project(tmp_path, "qa_margin_model", MARGIN, "Margin")
    result = pipec("run", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "failed: train.model" in result.stdout
    assert "`qa_margin_model.Margin` gives no class probabilities (`predict_proba`)" \
        in result.stdout
    assert "Traceback" not in result.stderr and not (tmp_path / "FITTED").exists()


# A classifier without `random_state` that subsamples with numpy's global generator.
GLOBAL_RNG = """
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


class Bagged(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        X = np.nan_to_num(np.asarray(X, dtype=float))
        rows = np.random.choice(len(X), size=len(X) // 2, replace=False)
        self.inner_ = LogisticRegression(max_iter=300).fit(X[rows], np.asarray(y)[rows])
        self.classes_ = self.inner_.classes_
        return self

    def predict_proba(self, X):
        return self.inner_.predict_proba(np.nan_to_num(np.asarray(X, dtype=float)))

    def predict(self, X):
        return self.inner_.predict(np.nan_to_num(np.asarray(X, dtype=float)))
"""


def test_the_seed_of_a_model_without_random_state_gives_the_same_bytes(
        tmp_path: Path) -> None:
    """`seed 1` on a class without `random_state` was dropped: two fresh runs of the same
    project registered models with different hashes."""
    hashes = []
    for name in ("first", "second"):
        path = own_model_project(tmp_path / name, "qa_bagged_model", GLOBAL_RNG, "Bagged")
        result = pipec("run", str(path), "--until", "train.model")
        assert result.returncode == 0, result.stdout + result.stderr
        report = train_report(tmp_path / name)
        hashes.append(report["model_sha256"])
    assert hashes[0] == hashes[1]
    assert "has no random_state: the seed seeds numpy's and Python's global generators" \
        in report["seed_note"]


def test_the_global_generators_are_restored_after_a_seeded_fit() -> None:
    state = np.random.get_state()[1].copy()
    fit(binary_spec(seed=5), table(), ("sklearn",))
    assert (np.random.get_state()[1] == state).all()


# A classifier whose fitted state holds a lambda: skops stores it, and cannot load it.
LAMBDA = """
from sklearn.linear_model import LogisticRegression


class WithLambda(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight)
        self.scale_ = lambda v: v
        return self
"""


def test_a_model_that_cannot_be_loaded_back_is_refused_at_the_train_stage(
        tmp_path: Path) -> None:
    """It was stored, and the evaluate stage failed with skops' words: "module
    'qa_lambda_model' has no attribute '<lambda>'"."""
    path = own_model_project(tmp_path, "qa_lambda_model", LAMBDA, "WithLambda")
    result = pipec("run", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "failed: train.model" in result.stdout and "evaluate.model" not in result.stdout
    assert "the fitted `qa_lambda_model.WithLambda` cannot be stored and loaded back" \
        in result.stdout
    assert "Traceback" not in result.stderr


def test_a_class_weight_map_is_keyed_by_the_binary_labels() -> None:
    """A .pipe map's keys are text: `{ "0": 1, "1": 3 }` stopped the fit with "The
    classes, [0, 1], are not in class_weight", so no binary model could be weighted."""
    spec = binary_spec(params={"class_weight": {"0": 1, "1": 3}})
    model = fit(spec, table(), ("sklearn",))
    assert model.named_steps["model"].class_weight == {0: 1, 1: 3}
    named = fit(binary_spec(params={"class_weight": {"false": 1, "true": 2}}), table(),
                ("sklearn",))
    assert named.named_steps["model"].class_weight == {0: 1, 1: 2}


def test_a_class_weight_key_that_is_no_class_says_which_classes_there_are() -> None:
    spec = binary_spec(params={"class_weight": {"yes": 3}})
    with pytest.raises(ModelLoadError, match=r"names 'yes', which is not a class of the "
                                             r"train set \(its classes: '0', '1'\)"):
        fit(spec, table(), ("sklearn",))


def _regression_ctx(train: pa.Table) -> SimpleNamespace:
    stage = {"id": "train.m", "model": "sklearn.linear_model.Ridge", "features": ["x", "z"],
             "label": "amount", "task": "regression"}
    return SimpleNamespace(stage=stage, manifest={"stages": [stage]}, options={})


def test_an_infinite_regression_target_is_refused_with_its_count() -> None:
    """It stopped with scikit-learn's "Input y contains infinity or a value too large for
    dtype('float64')", which names neither the label nor how many rows."""
    train = table()
    amount = train.column("amount").to_numpy().copy()
    amount[[3, 7]] = np.inf
    train = train.set_column(3, "amount", pa.array(amount))
    with pytest.raises(TrainingRefused) as refused:
        _fit_or_stop(_regression_ctx(train), train, 0)
    assert "the label `amount` is NaN or infinite in 2 of the 200 labelled train rows" \
        in str(refused.value)


def test_an_infinite_test_target_makes_metrics_undefined_and_says_why() -> None:
    """numpy warned on every bootstrap sample, and the gate said only "rmse could not be
    computed"."""
    spec = _regression_ctx(table()).stage
    model = fit(spec, table(), ("sklearn",))
    test = table(seed=1)
    amount = test.column("amount").to_numpy().copy()
    amount[5] = -np.inf
    test = test.set_column(3, "amount", pa.array(amount))
    gate = {"kind": "primary", "metric": "rmse", "op": "<=", "value": 5.0, "blocking": True}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        report = evaluate_model(model, 1, {"task": "regression", "gates": [gate]}, spec,
                                test, None)
    assert report["non_finite_labels"] == 1
    assert all(entry["value"] is None for entry in report["metrics"].values())
    assert report["gates"][0]["note"] == \
        "rmse could not be computed: 1 test rows have a NaN or infinite label"


def test_a_non_finite_target_leaves_every_metric_undefined_without_a_warning() -> None:
    y, p = np.array([1.0, np.nan, 3.0]), np.array([1.0, 2.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert all(v == M.UNDEFINED for v in M.all_metrics("regression", y, p, 0.5).values())
        assert M.with_interval(M.r2, y, p, 0.5) == M.UNDEFINED


class _Dated(LogisticRegression):
    """Holds a standard-library type no model needs."""


def test_a_refused_model_type_says_how_the_project_allows_its_module(tmp_path: Path) -> None:
    """A model of the project's class, once its module is dropped from the allowed ones:
    the refusal names what to add; a standard-library type gets no such advice."""
    x, y = np.arange(40.0).reshape(20, 2), np.arange(20) % 2
    own = serialize.dumps(_Dated().fit(x, y))
    with pytest.raises(serialize.ModelIntegrityError) as refused:
        serialize.loads(own, serialize.sha256(own), ())
    assert f"add `{__name__.partition('.')[0]}` to [tool.pipec] allowed_model_modules" \
        in str(refused.value)
    dated = LogisticRegression().fit(x, y)
    dated.trained_on_ = dt.date(2026, 1, 1)
    data = serialize.dumps(dated)
    with pytest.raises(serialize.ModelIntegrityError) as refused:
        serialize.loads(data, serialize.sha256(data), ())
    assert "datetime.date; nothing of it was loaded or run" in str(refused.value)
    assert "allowed_model_modules" not in str(refused.value)


def test_a_helper_the_model_module_imports_is_part_of_its_code(tmp_path: Path) -> None:
    """The model module's own source was hashed, not a project module it imports:
    editing `scaling.py` reused the model the old helper made."""
    (tmp_path / "qa_scaled_model.py").write_text(
        "import numpy\nfrom scaling import SHIFT\n\nclass Scaled:\n    pass\n", "utf-8")
    (tmp_path / "scaling.py").write_text("SHIFT = 0.0\n", "utf-8")
    (tmp_path / "unrelated.py").write_text("X = 1\n", "utf-8")

    def code() -> str:
        model_code.module_code.cache_clear()
        return model_code.model_code("qa_scaled_model.Scaled", tmp_path)

    before = code()
    (tmp_path / "unrelated.py").write_text("X = 2\n", "utf-8")
    assert code() == before  # a module it does not import is not its code
    (tmp_path / "scaling.py").write_text("SHIFT = 100.0\n", "utf-8")
    assert code() != before
