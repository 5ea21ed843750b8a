"""Turning a train stage into a fitted scikit-learn pipeline.

The model's import path must name a class with `fit` and `predict` from a module the
project allows (`[tool.pipec] allowed_model_modules`, scikit-learn by default): a
`.pipe` file must not be a way to run arbitrary code. Categorical columns are encoded
inside the pipeline (so the stored model carries its vocabulary), missing values are
imputed only for estimators that cannot take NaN, and the seed becomes `random_state`.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pyarrow as pa

from .errors import PipecRuntimeError

DEFAULT_ALLOWED = ("sklearn",)
ROW_ID = "__row_id"
SIDE = "__side"


class ModelLoadError(PipecRuntimeError):
    """The model path is not allowed, not importable, or not an estimator."""


def estimator_class(path: str, allowed: tuple[str, ...] = DEFAULT_ALLOWED) -> type:
    module_name, _, class_name = path.rpartition(".")
    if not module_name or not any(module_name == a or module_name.startswith(a + ".")
                                  for a in allowed):
        raise ModelLoadError(f"model `{path}` is not from an allowed module "
                             f"({', '.join(allowed)}); add it to [tool.pipec] "
                             "allowed_model_modules")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ModelLoadError(f"cannot import model `{path}`: {exc}") from exc
    if not (isinstance(cls, type) and callable(getattr(cls, "fit", None))
            and callable(getattr(cls, "predict", None))):
        raise ModelLoadError(f"`{path}` is not a class with fit and predict")
    return cls


def frame(table: pa.Table, features: list[str]) -> Any:
    """The feature columns as pandas, strings as `category` (sorted vocabulary)."""
    data = table.select(features).to_pandas()
    for column in features:
        series = data[column]
        if series.dtype == object or str(series.dtype) in ("string", "str"):
            data[column] = series.astype("category")
        elif str(series.dtype).startswith(("datetime", "timestamp")):
            data[column] = series.astype("int64") // 10**9
        elif series.dtype == bool:
            data[column] = series.astype(float)
    return data


def target(table: pa.Table, label: str, task: str) -> np.ndarray:
    values = table.column(label).to_numpy(zero_copy_only=False)
    if task == "binary":
        return values.astype(int)
    return values.astype(float) if task == "regression" else values


def categorical_columns(data: Any) -> list[str]:
    return [c for c in data.columns if str(data[c].dtype) == "category"]


def build_model(spec: dict[str, Any], data: Any, allowed: tuple[str, ...]) -> Any:
    """Pipeline(encode [, impute], model) for the train stage `spec`."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    estimator = _estimator(spec, allowed)
    categorical = categorical_columns(data)
    numeric = [c for c in data.columns if c not in categorical]
    encode = ColumnTransformer(
        [("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                        encoded_missing_value=np.nan, dtype=float), categorical),
         ("numeric", "passthrough", numeric)],
        verbose_feature_names_out=False)
    steps: list[tuple[str, Any]] = [("encode", encode)]
    if not _allows_nan(estimator):
        steps.append(("impute", SimpleImputer(strategy="median", keep_empty_features=True)))
    if "categorical_features" in estimator.get_params():
        mask = [True] * len(categorical) + [False] * len(numeric)
        estimator.set_params(categorical_features=mask if categorical else None)
    steps.append(("model", estimator))
    return Pipeline(steps)


def _estimator(spec: dict[str, Any], allowed: tuple[str, ...]) -> Any:
    cls = estimator_class(spec["model"], allowed)
    params = dict(spec.get("params") or {})
    estimator = cls()
    known = estimator.get_params()
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ModelLoadError(f"`{spec['model']}` has no parameter(s) {', '.join(unknown)}")
    if "random_state" in known and spec.get("seed") is not None:
        params.setdefault("random_state", int(spec["seed"]))
    return cls(**params)


def _allows_nan(estimator: Any) -> bool:
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(estimator).input_tags.allow_nan)
    except (ImportError, AttributeError):
        return False


def training_threads(spec: dict[str, Any]) -> int:
    """The thread count of a fit: `resources { cpu: N }`, else 1.

    Fixed, not "all cores": parallel reductions sum floats in an order that depends on
    the thread count, so the same data and seed give a different model (and model hash)
    on a machine with another number of cores.
    """
    cpu = (spec.get("resources") or {}).get("cpu")
    try:
        return max(1, int(float(cpu))) if cpu is not None else 1
    except (TypeError, ValueError):
        return 1


def fit(spec: dict[str, Any], train: pa.Table, allowed: tuple[str, ...]) -> Any:
    from threadpoolctl import threadpool_limits

    data = frame(train, spec["features"])
    model = build_model(spec, data, allowed)
    with threadpool_limits(limits=training_threads(spec)):
        model.fit(data, target(train, spec["label"], spec["task"]))
    return model


def scores(model: Any, data: Any, task: str) -> np.ndarray:
    """Probabilities of the positive class (binary), class probabilities
    (multiclass) or predictions (regression)."""
    if task == "binary":
        return model.predict_proba(data)[:, 1]
    if task == "multiclass":
        return model.predict_proba(data)
    return model.predict(data)
