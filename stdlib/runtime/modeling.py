"""Turning a train stage into a fitted scikit-learn pipeline.

The model's import path must name a class with `fit` and `predict` from a module the
project allows (`[tool.pipec] allowed_model_modules`, scikit-learn by default): a
`.pipe` file must not be a way to run arbitrary code. Categorical columns are encoded
inside the pipeline (so the stored model carries its vocabulary, and the rarer values
of a column with more than the estimator takes are grouped the same way at prediction
time), missing values are imputed only for estimators that cannot take NaN, and the
seed becomes `random_state` and seeds numpy's and Python's global generators during the
fit (for an estimator without `random_state` that draws from them). A `class_weight` map
is keyed by the train set's labels (`class_weight_by_label`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa

from .errors import PipecRuntimeError
from .model_modules import DEFAULT_ALLOWED, module_allowed

ROW_ID = "__row_id"
SIDE = "__side"


class ModelLoadError(PipecRuntimeError):
    """The model path is not allowed, not importable, or not an estimator."""


def estimator_class(path: str, allowed: tuple[str, ...] = DEFAULT_ALLOWED) -> type:
    module_name, _, class_name = path.rpartition(".")
    if not module_allowed(path, allowed):
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
    """The feature columns as pandas, strings as `category` (sorted vocabulary), times and
    dates as seconds since 1970-01-01 UTC (a missing one missing).

    A date is a number like a timestamp, not a category: as a category, every date of a
    time split's test period (and of production) would be one the model never saw.
    An infinite float (a source value, or a sum past 1.8e308) is missing, as NaN is:
    no estimator takes it, and one such row must not stop the train or evaluate stage."""
    table = _bools_as_floats(table.select(features))
    times = [f.name for f in table.schema if _is_time(f.type)]
    data = table.drop_columns(times).to_pandas()
    for column in times:  # whatever the unit: arrow's, not pandas' (which keeps it)
        data[column] = seconds(table.column(column))
    data = data[features]
    for column in features:
        series = data[column]
        if series.dtype == object or str(series.dtype) in ("string", "str"):
            data[column] = series.astype("category")
        elif series.dtype.kind == "f":
            data[column] = series.where(np.isfinite(series))
    return data


def _bools_as_floats(table: pa.Table) -> pa.Table:
    """Booleans as 1.0/0.0, a missing one NaN. In arrow, not pandas: pandas makes a
    boolean column with a missing value an object column, which became a category, so
    one null in a test set changed the feature's kind from the one it was trained on."""
    for i, field in enumerate(table.schema):
        if pa.types.is_boolean(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
    return table


def _is_time(kind: pa.DataType) -> bool:
    return pa.types.is_timestamp(kind) or pa.types.is_date(kind)


# Units of an arrow time per second; a date32 counts days, a date64 milliseconds.
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def seconds(column: pa.ChunkedArray) -> np.ndarray:
    """A timestamp or date column as whole seconds since 1970-01-01 UTC (a date is its
    midnight UTC, as the language says), floored, NaN where missing. Integer arithmetic
    on the stored values, so no unit rounds (a float64 holds nanoseconds only to 2**53)."""
    kind = column.type
    if pa.types.is_date32(kind):
        raw, per_second = column.cast(pa.int32()).cast(pa.int64()), None
    elif pa.types.is_date64(kind):
        raw, per_second = column.cast(pa.int64()), 10**3
    else:
        raw, per_second = column.cast(pa.int64()), _PER_SECOND[kind.unit]
    missing = raw.is_null().to_numpy(zero_copy_only=False)
    values = raw.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    whole = values * 86_400 if per_second is None else np.floor_divide(values, per_second)
    return np.where(missing, np.nan, whole.astype(np.float64))


def infinite_values(table: pa.Table, features: list[str]) -> dict[str, int]:
    """Per float feature, the rows whose value is infinite (which `frame` makes missing)."""
    import pyarrow.compute as pc

    found = {}
    for column in features:
        values = table.column(column)
        if pa.types.is_floating(values.type):
            count = pc.sum(pc.is_inf(values)).as_py() or 0
            if count:
                found[column] = int(count)
    return found


def target(table: pa.Table, label: str, task: str) -> np.ndarray:
    values = table.column(label).to_numpy(zero_copy_only=False)
    if task == "binary":
        return values.astype(int)
    return values.astype(float) if task == "regression" else values


def categorical_columns(data: Any) -> list[str]:
    return [c for c in data.columns if str(data[c].dtype) == "category"]


def build_model(spec: dict[str, Any], data: Any, allowed: tuple[str, ...],
                classes: list[Any] | None = None) -> Any:
    """Pipeline(encode [, impute], model) for the train stage `spec`; `classes`: the
    train set's labels, which a `class_weight` map of its params names."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    estimator = _estimator(spec, allowed, classes)
    categorical = categorical_columns(data)
    numeric = [c for c in data.columns if c not in categorical]
    takes_nan = _allows_nan(estimator)
    # A numeric feature with no value at all (every amount NULL) stops a NaN-taking
    # estimator (HistGradientBoosting finds no bin thresholds: "window shape cannot be
    # larger than input array shape"); it carries nothing, so it is a constant 0.
    empty = [c for c in numeric if takes_nan and len(data) and data[c].isna().all()]
    transformers = [
        ("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                       encoded_missing_value=np.nan, dtype=float,
                                       max_categories=_grouping_limit(estimator, data,
                                                                      categorical)),
         categorical),
        ("numeric", "passthrough", [c for c in numeric if c not in empty])]
    if empty:
        transformers.append(("empty", SimpleImputer(strategy="constant", fill_value=0.0,
                                                    keep_empty_features=True), empty))
    encode = ColumnTransformer(transformers, verbose_feature_names_out=False)
    steps: list[tuple[str, Any]] = [("encode", encode)]
    if not takes_nan:
        steps.append(("impute", SimpleImputer(strategy="median", keep_empty_features=True)))
    if "categorical_features" in estimator.get_params():
        mask = [True] * len(categorical) + [False] * len(numeric)
        estimator.set_params(categorical_features=mask if categorical else None)
    steps.append(("model", estimator))
    return Pipeline(steps)


def category_limit(estimator: Any) -> int | None:
    """The most distinct values a categorical feature may have: HistGradientBoosting's
    `max_bins` (255 by default), which it raises on ("Categorical feature at index 1 is
    expected to have a cardinality <= 255"). None for an estimator without that limit:
    the others get integer codes, whatever their number."""
    params = estimator.get_params()
    if "categorical_features" not in params or "max_bins" not in params:
        return None
    return int(params["max_bins"])


def _grouping_limit(estimator: Any, data: Any, categorical: list[str]) -> int | None:
    """The encoder's `max_categories`: the estimator's limit when a column has more
    distinct values than it (hundreds of merchants), else None.

    Over the limit, the encoder keeps the `limit - 1` most frequent values of that column
    and encodes every other one as a single "infrequent" value, inside the fitted
    pipeline, so evaluation and serving group them the same way. Ties in frequency are
    broken by value (a stable sort of the sorted vocabulary: the values that sort last are
    kept), so the same data gives the same model. Under the limit, None: the parameter is
    part of the stored model, and models that need no grouping keep their bytes."""
    limit = category_limit(estimator) if categorical else None
    if limit is None or all(data[c].nunique() <= limit for c in categorical):
        return None
    return limit


def grouped_categories(model: Any) -> dict[str, dict[str, Any]]:
    """Per categorical feature whose rarer values the fitted `model` encodes as one
    "other" value: its distinct training values, how many were kept and how many grouped
    (for the train report). Empty when no column needed it."""
    encoder = model.named_steps["encode"].named_transformers_["categorical"]
    if getattr(encoder, "max_categories", None) is None:
        return {}
    grouped = {}
    for column, values, other in zip(encoder.feature_names_in_, encoder.categories_,
                                     encoder.infrequent_categories_, strict=True):
        if other is not None:
            known = sum(1 for v in values if not _is_missing(v))
            grouped[str(column)] = {"distinct": known, "kept": known - len(other),
                                    "grouped": len(other), "limit": encoder.max_categories}
    return grouped


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _estimator(spec: dict[str, Any], allowed: tuple[str, ...],
               classes: list[Any] | None = None) -> Any:
    cls = estimator_class(spec["model"], allowed)
    params = dict(spec.get("params") or {})
    known = _parameters(cls, spec["model"])
    unknown = sorted(set(params) - known)
    if unknown:
        raise ModelLoadError(f"`{spec['model']}` has no parameter(s) {', '.join(unknown)}")
    if isinstance(params.get("class_weight"), dict) and classes is not None:
        params["class_weight"] = class_weight_by_label(params["class_weight"], classes,
                                                       spec["model"])
    seed = spec.get("seed")
    if "random_state" in known and seed is not None:
        if params.get("random_state", seed) != seed:
            raise ModelLoadError(f"params random_state {params['random_state']} contradicts "
                                 f"seed {seed}; drop one (`seed` sets random_state)")
        params["random_state"] = int(seed)
    try:
        return cls(**params)
    except TypeError as exc:  # a required argument (StackingClassifier's estimators)
        raise ModelLoadError(f"cannot build `{spec['model']}` from its params: {exc}") from exc


def class_weight_by_label(weights: dict[str, Any], classes: list[Any],
                          path: str) -> dict[Any, Any]:
    """A `class_weight` map of `params` keyed by the train set's labels themselves.

    A .pipe map's keys are text, but a binary label is 0/1 (true is 1) and a multiclass
    label may be a number: scikit-learn looks the key "1" up among the classes 0 and 1,
    finds none, and stops the fit ("The classes, [0, 1], are not in class_weight"), so
    no binary model could be weighted. A key names the class whose text it is (`"1"`,
    or `"true"`/`"false"` for a binary label)."""
    names = {str(c): c for c in classes}
    if set(classes) <= {0, 1}:
        names |= {"true": 1, "false": 0, "True": 1, "False": 0}
    unknown = [str(k) for k in weights if str(k) not in names]
    if unknown:
        raise ModelLoadError(
            f"params class_weight of `{path}` names {', '.join(repr(k) for k in unknown)}, "
            f"which is not a class of the train set (its classes: "
            f"{', '.join(repr(str(c)) for c in classes)}); key each weight by a class")
    return {names[str(k)]: weight for k, weight in weights.items()}


def has_probabilities(spec: dict[str, Any], allowed: tuple[str, ...]) -> bool:
    """Whether the train stage's estimator, as its params build it, has `predict_proba`.
    Asked before fitting, as scikit-learn's own Pipeline asks its last step: an SVC
    without `probability: true` or an SGDClassifier with the hinge loss has none."""
    return hasattr(_estimator(spec, allowed), "predict_proba")


def _parameters(cls: type, path: str) -> set[str]:
    """The estimator's parameter names (`get_params` of a default instance, which also
    lists the `**kwargs` parameters of wrappers such as xgboost's); from the constructor's
    signature when it has a required argument."""
    if not callable(getattr(cls, "get_params", None)):
        raise ModelLoadError(f"`{path}` is not a scikit-learn style estimator (no get_params)")
    try:
        return set(cls().get_params())
    except TypeError:  # a required argument: StackingClassifier's `estimators`
        names = getattr(cls, "_get_param_names", None)
        return set(names()) if callable(names) else set()


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
    labels = target(train, spec["label"], spec["task"])
    classes = None if spec["task"] == "regression" else np.unique(labels).tolist()
    model = build_model(spec, data, allowed, classes)
    with threadpool_limits(limits=training_threads(spec)), seeded(spec.get("seed")):
        model.fit(data, labels)
    return model


@contextmanager
def seeded(seed: Any) -> Iterator[None]:
    """numpy's and Python's global generators seeded with `seed` while the block runs,
    then restored. `random_state` is the seed of an estimator that takes one; one that
    does not (a project's own class drawing from `np.random`) gave other bytes, and so
    another model hash, on each run with the same seed."""
    if seed is None:
        yield
        return
    import random

    numpy_state, python_state = np.random.get_state(), random.getstate()
    np.random.seed(int(seed))
    random.seed(int(seed))
    try:
        yield
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)


def scores(model: Any, data: Any, task: str) -> np.ndarray:
    """Probabilities of the positive class (binary), class probabilities
    (multiclass) or predictions (regression). An empty test set has no scores (rather
    than scikit-learn's "Found array with 0 sample(s)"): its metrics are undefined."""
    if len(data) == 0:
        width = len(getattr(model, "classes_", ())) if task == "multiclass" else 0
        return np.zeros((0, width)) if task == "multiclass" else np.zeros(0)
    if task == "binary":
        return positive_probability(model, model.predict_proba(data))
    if task == "multiclass":
        return model.predict_proba(data)
    return model.predict(data)


def positive_probability(model: Any, proba: np.ndarray) -> np.ndarray:
    """The column of class 1 (labels are 0/1). A model fitted on one class has a single
    column: 0 for every row when it never saw a positive, 1 when it saw only positives,
    so its metrics say what it is (a constant model) instead of an IndexError."""
    classes = list(getattr(model, "classes_", [0, 1]))
    if 1 in classes:
        return proba[:, classes.index(1)]
    return np.zeros(len(proba))
