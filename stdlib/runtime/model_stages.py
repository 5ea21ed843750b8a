"""Runners of the model stages: train and evaluate (`release_stages`: register,
approval, deploy; `champion`: what evaluate compares the candidate with).

The train stage stores the model's canonical bytes in the artifact store, so the
artifact id *is* the model's content hash; the registry records the same hash, and
every load checks the bytes against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import serialize
from .champion import champion, champion_salt
from .context import StageContext, StageOutput
from .errors import (
    RunStopped,
    TrainingRefused,
)
from .model_code import model_code
from .model_modules import allowed_modules, with_project_modules
from .model_warnings import counted_warnings

if TYPE_CHECKING:  # numpy, pyarrow and scikit-learn load only when a model stage runs
    import pyarrow as pa


def labelled(table: pa.Table, label: str) -> tuple[pa.Table, int]:
    """Rows whose label is known; an unknown label (a cancelled flight) is not a negative."""
    import pyarrow.compute as pc

    known = table.filter(pc.is_valid(table.column(label)))
    return known, table.num_rows - known.num_rows


def load_model(ctx: StageContext, artifact_id: str) -> tuple[Any, int]:
    data = ctx.store.get_path(artifact_id).read_bytes()
    return serialize.loads(data, artifact_id, allowed_modules(ctx.options)), len(data)


# train ----------------------------------------------------------------------------------
@with_project_modules
def run_train(ctx: StageContext) -> StageOutput:
    """Fit and store the model. The warnings raised meanwhile (a LogisticRegression
    stopped at `max_iter`) are counted into the report (`model_warnings`), not printed."""
    with counted_warnings() as raised:
        try:
            model, report = _trained(ctx)
        except RunStopped as stopped:  # kept with the refusal: an overflow may explain it
            stopped.report |= raised.report("train", ctx.stage.get("params") or {})
            raise
    report |= raised.report("train", model.named_steps["model"].get_params(deep=False))
    return StageOutput({"model": report["model_sha256"], "info": ctx.store.put_json(report)},
                       report)


def _trained(ctx: StageContext) -> tuple[Any, dict[str, Any]]:
    """The fitted model, stored, and the train stage's report."""
    from .evaluation import _kind
    from .modeling import frame, grouped_categories, infinite_values

    train, unlabelled = labelled(ctx.store.get_table(ctx.outputs_of("split")["train"]),
                                 ctx.stage["label"])
    _require_features(ctx, train)
    spec = trained_spec(ctx.stage, train)
    model = _fit_or_stop(ctx, train, unlabelled)
    data = _stored_bytes(ctx, spec, model)
    model_id = ctx.store.put_bytes(data)
    kinds = {c: _kind(s) for c, s in frame(train.slice(0, 1000), spec["features"]).items()}
    report = {"rows": train.num_rows, "unlabelled_dropped": unlabelled,
              "model_sha256": model_id, "size_bytes": len(data), "features": spec["features"],
              "feature_kinds": kinds, "task": spec["task"], "params": spec.get("params") or {},
              "seed": spec.get("seed")}
    if spec.get("seed") is not None and "random_state" not in \
            model.named_steps["model"].get_params(deep=False):
        report["seed_note"] = (f"`{spec['model']}` has no random_state: the seed seeds "
                               "numpy's and Python's global generators while it fits")
    if infinite := infinite_values(train, spec["features"]):
        report["infinite_values_as_missing"] = infinite
    if grouped := grouped_categories(model):
        report["grouped_categories"] = {column: entry | {"note": _grouped_note(spec, column, entry)}
                                        for column, entry in grouped.items()}
    return model, report


def _stored_bytes(ctx: StageContext, spec: dict[str, Any], model: Any) -> bytes:
    """The model's canonical bytes, once loaded back as the evaluate stage and serving
    load them. A project's class may keep in its fitted state what skops cannot store
    or will not trust (a lambda, a `datetime.date`): that failed at the evaluate stage,
    with skops' own words ("module 'my_model' has no attribute '<lambda>'")."""
    from .modeling import ModelLoadError

    try:
        data = serialize.dumps(model)
        serialize.loads(data, serialize.sha256(data), allowed_modules(ctx.options))
    except Exception as exc:  # skops raises TypeError, AttributeError, ... by object kind
        raise ModelLoadError(
            f"the fitted `{spec['model']}` cannot be stored and loaded back: "
            f"{type(exc).__name__}: {' '.join(str(exc).split())}. A stored model holds "
            "scikit-learn, numpy and scipy objects and classes of the allowed modules; keep "
            "functions, lambdas, dates and other objects out of the model's fitted "
            "attributes") from exc
    return data


def trained_spec(stage: dict[str, Any], train: pa.Table) -> dict[str, Any]:
    """The train stage as it is fitted: with its task resolved (`resolved_task`)."""
    return stage | {"task": resolved_task(stage, train)}


def resolved_task(spec: dict[str, Any], table: pa.Table) -> str:
    """The train stage's task: its own, or, when the checker could not know it (a `column`
    label of a base source without a `schema`), the label column's type as the data
    has it, by language.md's rule: bool is binary, text multiclass, a number regression.
    Left unknown, the model was fitted as a classifier and every metric computed as a
    regression's (a TypeError on a boolean label)."""
    import pyarrow as pa

    if spec.get("task"):
        return str(spec["task"])
    kind = table.schema.field(spec["label"]).type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_boolean(kind):
        return "binary"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "multiclass"
    return "regression"


def _require_features(ctx: StageContext, train: pa.Table) -> None:
    """Each feature is a column of the examples. The checker (T002) sees to it for a base
    source with a `schema`; without one, a misspelt name or a view's feature written
    without its view (`n7` for `f.n7`) stopped the stage with pyarrow's KeyError."""
    spec = ctx.stage
    missing = [f for f in spec["features"] if f not in train.column_names]
    if not missing:
        return
    views = {s["name"] for s in ctx.manifest["stages"] if s["kind"] == "features"}
    named = ", ".join(f"`{_as_written(f, views)}`" for f in missing)
    columns = ", ".join(_as_written(c, views) for c in train.column_names
                        if c not in (spec["label"], "__row_id"))
    what = "feature {} is not a column" if len(missing) == 1 else "features {} are not columns"
    raise TrainingRefused(spec["id"], {"missing_features": missing}, (
        f"{spec['id']}: {what.format(named)} of the examples; they have: {columns}"))


def _as_written(column: str, views: set[str]) -> str:
    """An examples column as `features [...]` names it: a view's `f__n7` is `f.n7`."""
    view, sep, feature = column.partition("__")
    return f"{view}.{feature}" if sep and view in views else column


def _grouped_note(spec: dict[str, Any], column: str, entry: dict[str, Any]) -> str:
    return (f"`{column}` has {entry['distinct']:,} distinct values in the train set, more "
            f"than `{spec['model']}` takes ({entry['limit']}): the {entry['kept']:,} most "
            f"frequent are kept, and the other {entry['grouped']:,} are one value \"other\" "
            "for the model, in training and in every prediction")


def _fit_or_stop(ctx: StageContext, train: pa.Table, unlabelled: int) -> Any:
    from .modeling import fit

    spec = trained_spec(ctx.stage, train)
    report = {"rows": train.num_rows, "unlabelled_dropped": unlabelled}
    if train.num_rows == 0:
        raise TrainingRefused(spec["id"], report, (
            f"{spec['id']}: the train set has no labelled rows ({unlabelled} unlabelled): "
            "nothing to fit; see the split's sizes"))
    classes = _classes(train, spec)
    if classes is not None and len(classes) < 2:
        # Checked here, not left to the estimator: LogisticRegression raises on one
        # class, but HistGradientBoosting and the trees fit a constant model, which the
        # later stages would register and deploy.
        report["classes"] = classes
        raise TrainingRefused(spec["id"], report, _one_class(spec, train.num_rows,
                                                              unlabelled, classes[0]))
    if (bad := _non_finite_labels(train, spec)):
        report["non_finite_labels"] = bad
        raise TrainingRefused(spec["id"], report, (
            f"{spec['id']}: the label `{spec['label']}` is NaN or infinite in {bad:,} of the "
            f"{train.num_rows:,} labelled train rows: no regressor fits a target that is not a "
            "number; fix those values in the label's column, or make them missing (null), "
            "which the stage drops as unlabelled"))
    _require_probabilities(ctx, spec)
    try:
        return fit(spec, train, allowed_modules(ctx.options))
    except ValueError as exc:  # the data's: features whose median overflows
        if type(exc).__name__ == "InvalidParameterError":  # a `params` value: the file's
            raise
        raise TrainingRefused(spec["id"], report, (
            f"{spec['id']}: `{spec['model']}` cannot fit the train set: "
            f"{' '.join(str(exc).split())}{_single_row_classes(train, spec, exc)}")) from exc


def _single_row_classes(train: pa.Table, spec: dict[str, Any], exc: ValueError) -> str:
    """What scikit-learn's "least populated classes in y have only 1 member ... [8.0]"
    means, with the classes as the label has them (it names them by their encoded index):
    an estimator that splits the train set by class inside its fit (HistGradientBoosting's
    early stopping, on by default above 10,000 rows) needs two rows of every class. A
    rare class of real data (an airline with one flight in the train period) stopped the
    run with only that message."""
    import pyarrow.compute as pc

    if spec["task"] == "regression" or "least populated class" not in str(exc):
        return ""
    counts = pc.value_counts(train.column(spec["label"])).to_pylist()
    single = sorted(str(c["values"]) for c in counts if c["counts"] == 1)
    if not single:
        return ""
    return (f"; the class{'es' if len(single) > 1 else ''} "
            f"{', '.join(repr(c) for c in single)} of the label `{spec['label']}` "
            f"{'have' if len(single) > 1 else 'has'} a single labelled train row, and the "
            "estimator splits the train set by class while it fits (the validation share "
            "of HistGradientBoosting's or MLP's early stopping: `early_stopping: false` in "
            "its `params` turns it off); or widen the split's train range, or merge the "
            "rare classes into one")


def _non_finite_labels(train: pa.Table, spec: dict[str, Any]) -> int:
    """Labelled rows of a regression whose float target is NaN or infinite."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = train.column(spec["label"])
    if spec["task"] != "regression" or not pa.types.is_floating(column.type):
        return 0
    return int(pc.sum(pc.invert(pc.is_finite(column))).as_py() or 0)


def _require_probabilities(ctx: StageContext, spec: dict[str, Any]) -> None:
    """A classifier that an evaluate stage scores has `predict_proba`, checked before the
    fit: the checker (T005) knows scikit-learn's classes by name, not a project's own,
    which failed at the evaluate stage, after training, with "This 'Pipeline' has no
    attribute 'predict_proba'"."""
    from .modeling import ModelLoadError, has_probabilities

    if spec["task"] == "regression" or not any(
            s["kind"] == "evaluate" and s.get("model") == spec["id"]
            for s in ctx.manifest["stages"]) or \
            has_probabilities(spec, allowed_modules(ctx.options)):
        return
    raise ModelLoadError(
        f"`{spec['model']}` gives no class probabilities (`predict_proba`), "
        f"which the evaluate stage scores a {spec['task']} model on; use a classifier "
        "that has them (an SVC with `probability: true`), or give the project's class a "
        "`predict_proba` (wrapping its estimator in "
        "sklearn.calibration.CalibratedClassifierCV gives one)")


def _one_class(spec: dict[str, Any], rows: int, unlabelled: int, seen: Any) -> str:
    which = "its one labelled row has" if rows == 1 else f"all {rows:,} of its labelled rows have"
    dropped = f" ({unlabelled:,} unlabelled rows dropped)" if unlabelled else ""
    return (f"{spec['id']}: the train set has one class: {which} the label "
            f"`{spec['label']}` = {seen!r}{dropped}; a classifier needs two or more (this one "
            f"would predict {seen!r} for every row). Widen the training period (the split's "
            "train range) or check how the label is defined")


def _classes(train: pa.Table, spec: dict[str, Any]) -> list[Any] | None:
    """The distinct labels of a classification train set (None for a regression)."""
    import pyarrow.compute as pc

    if spec.get("task") == "regression":
        return None
    return sorted(pc.unique(train.column(spec["label"])).to_pylist(), key=str)


# evaluate -------------------------------------------------------------------------------
@with_project_modules
def run_evaluate(ctx: StageContext) -> StageOutput:
    """Score the model (and the champion) on the test set and judge the gates; the
    warnings the scoring raised are counted into the report, as the train stage's."""
    with counted_warnings() as raised:
        report = _evaluated(ctx)
    report |= raised.report("evaluate", {})
    if report["blessed"]:
        ctx.index.mark_blessed(ctx.run_id)
    return StageOutput({"evaluation": ctx.store.put_json(report)}, report)


def _evaluated(ctx: StageContext) -> dict[str, Any]:
    """The evaluate stage's report: the candidate, and the champion, on the test set."""
    from .evaluation import evaluate_model

    spec = ctx.stage
    train_spec = ctx.stage_def(spec["model"])
    train_out = ctx.outputs_of(spec["model"])
    model, size = load_model(ctx, train_out["model"])
    train_info = ctx.store.get_json(train_out["info"])
    test, unlabelled = labelled(ctx.store.get_table(ctx.outputs_of("split")["test"]),
                                train_spec["label"])
    held = champion(ctx)
    # The task the model was trained for (a train report older than its `task` entry:
    # resolved again, from the same label column).
    spec = spec | {"task": train_info.get("task") or resolved_task(train_spec, test)}
    report = evaluate_model(model, size, spec, train_spec | train_info, test, held)
    report["unlabelled_dropped"] = unlabelled
    report["model_sha256"] = train_out["model"]
    return report


def evaluate_hit(ctx: StageContext, report: dict[str, Any]) -> bool:
    """On a cache hit, a blessed evaluation blesses this run too, as running it would:
    this run's data then becomes the drift baseline. A champion that could not be scored
    is tried again: what stopped it (a registry file, the allowed modules, the project's
    code) is not in the stage's key, and fixing it must not leave the old failure."""
    if (report.get("champion") or {}).get("error"):
        return False
    if report.get("blessed"):
        ctx.index.mark_blessed(ctx.run_id)
    return True


def train_salt(ctx: StageContext) -> Any:
    """The allowed model modules come from the project's settings, not the manifest: a
    narrower list must refuse a model that a cached result would let through. A model
    class outside scikit-learn adds its code (`model_code`)."""
    return _with_model_code(ctx, ctx.stage.get("model"), "allowed",
                            sorted(allowed_modules(ctx.options)))


def evaluate_salt(ctx: StageContext) -> Any:
    """The champion the candidate is compared with is outside the store; a model class
    outside scikit-learn adds its code, whose `predict` scores the test set."""
    return _with_model_code(ctx, ctx.stage_def(ctx.stage["model"]).get("model"), "champion",
                            champion_salt(ctx))


def _with_model_code(ctx: StageContext, model: str | None, name: str, salt: Any) -> Any:
    """`salt` alone for a scikit-learn model (the keys of stores made before stay), else
    beside the model class's code under `name`."""
    code = model_code(model, ctx.base_dir)
    return salt if code is None else {name: salt, "model_code": code}
