"""Runners of the model stages: train, evaluate, register, approval, deploy.

The train stage stores the model's canonical bytes in the artifact store, so the
artifact id *is* the model's content hash; the registry records the same hash, and
every load checks the bytes against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import serialize
from .context import StageContext, StageOutput
from .errors import (
    ApprovalRejected,
    AwaitingApproval,
    ManifestError,
    NotBlessed,
    PipecRuntimeError,
    RollbackPinUnusable,
    RunStopped,
    TrainingRefused,
)
from .model_code import model_code
from .model_modules import DEFAULT_ALLOWED, with_project_modules
from .model_warnings import counted_warnings
from .registry import Registry, RegistryError, Version
from .state import registry_base

if TYPE_CHECKING:  # numpy, pyarrow and scikit-learn load only when a model stage runs
    import pyarrow as pa


def _allowed(ctx: StageContext) -> tuple[str, ...]:
    return tuple(ctx.options.get("allowed_model_modules") or DEFAULT_ALLOWED)


def labelled(table: pa.Table, label: str) -> tuple[pa.Table, int]:
    """Rows whose label is known; an unknown label (a cancelled flight) is not a negative."""
    import pyarrow.compute as pc

    known = table.filter(pc.is_valid(table.column(label)))
    return known, table.num_rows - known.num_rows


def load_model(ctx: StageContext, artifact_id: str) -> tuple[Any, int]:
    data = ctx.store.get_path(artifact_id).read_bytes()
    return serialize.loads(data, artifact_id, _allowed(ctx)), len(data)


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
        serialize.loads(data, serialize.sha256(data), _allowed(ctx))
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
        return fit(spec, train, _allowed(ctx))
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
            for s in ctx.manifest["stages"]) or has_probabilities(spec, _allowed(ctx)):
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
def _register_stage(ctx: StageContext, model_id: str) -> dict[str, Any] | None:
    return next((s for s in ctx.manifest["stages"]
                 if s["kind"] == "register" and s.get("model") == model_id), None)


def _registry(ctx: StageContext, register: dict[str, Any]) -> Registry:
    location = register["registry"]
    if location.get("kind") != "local":
        # Every target (pipec run, the local script, Airflow, Argo) registers through
        # this runtime, so this is not a limit of the local runner alone.
        raise ManifestError(
            f"{register['id']}: `registry {location.get('kind')}` is not supported by "
            "pipec's runtime, which registers on every target (pipec run, Airflow, Argo): "
            'write `registry local "DIR"`')
    return Registry(registry_base(ctx.base_dir) / location["path"])


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
    champion = _champion(ctx, spec["model"], train_out["model"])
    # The task the model was trained for (a train report older than its `task` entry:
    # resolved again, from the same label column).
    spec = spec | {"task": train_info.get("task") or resolved_task(train_spec, test)}
    report = evaluate_model(model, size, spec, train_spec | train_info, test, champion)
    report["unlabelled_dropped"] = unlabelled
    report["model_sha256"] = train_out["model"]
    return report


def _champion(ctx: StageContext, model_stage: str,
              candidate: str) -> tuple[Any, dict[str, Any]] | None:
    """The champion and its registry entry (None: there is none). One that cannot be
    loaded comes without a model and with the `error` that says why: the `compare
    champion` line fails with it and every other gate is still judged, where the whole
    stage failed (a candidate could then never replace a broken production model). It
    is loaded only for a `compare champion` line; `features compatible` reads its entry."""
    register = _register_stage(ctx, model_stage)
    if register is None:
        return None
    registry = _registry(ctx, register)
    try:
        try:
            entry = registry.champion(ctx.stage_def(model_stage)["name"], candidate)
        except RegistryError as exc:  # its row is damaged; the message names the version
            return None, {"version": None, "error": str(exc)}
        if entry is None:
            return None
        info = entry.info | {"version": entry.version, "sha256": entry.sha256}
        if not any(g["kind"] == "compare_champion" for g in ctx.stage["gates"]):
            return None, info
        return _loaded_champion(ctx, registry, entry, info)
    finally:
        registry.close()


def _loaded_champion(ctx: StageContext, registry: Registry, entry: Version,
                     info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    if (problem := registry.file_problem(entry)) is not None:
        return None, info | {"error": _damaged_file(registry, entry, problem)}
    try:
        return registry.load(entry.model, entry.version, _allowed(ctx)), info
    except Exception as exc:  # skops raises by object kind; the project's class, anything
        return None, info | {"error": _unloadable(entry, exc)}


def _damaged_file(registry: Registry, entry: Version, problem: str) -> str:
    name = registry.object_path(entry.sha256).name
    what = "is missing from" if problem == "missing" else \
        "no longer matches its recorded sha256 (altered or corrupted) in"
    return (f"its model file `{name}` {what} the registry's `objects` folder, so nothing "
            "of it was loaded; restore that file from a backup of the registry")


def _unloadable(entry: Version, exc: Exception) -> str:
    """Why a champion whose file is intact does not load, without the `model vN: ` the
    registry puts first (the gate's note names the version)."""
    text = " ".join(str(exc).split()).removeprefix(f"{entry.model} v{entry.version}: ")
    if isinstance(exc, serialize.ModelIntegrityError):  # a type outside the allowed modules
        return text
    if isinstance(exc, ImportError | AttributeError):
        return (f"its model's code cannot be imported ({type(exc).__name__}: {text}); the "
                "module and class it was trained with must stay importable from the project "
                "to score it")
    return f"it cannot be loaded ({type(exc).__name__}: {text})"


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
    return _with_model_code(ctx, ctx.stage.get("model"), "allowed", sorted(_allowed(ctx)))


def evaluate_salt(ctx: StageContext) -> Any:
    """The champion the candidate is compared with is outside the store; a model class
    outside scikit-learn adds its code, whose `predict` scores the test set."""
    return _with_model_code(ctx, ctx.stage_def(ctx.stage["model"]).get("model"), "champion",
                            _champion_salt(ctx))


def _with_model_code(ctx: StageContext, model: str | None, name: str, salt: Any) -> Any:
    """`salt` alone for a scikit-learn model (the keys of stores made before stay), else
    beside the model class's code under `name`."""
    code = model_code(model, ctx.base_dir)
    return salt if code is None else {name: salt, "model_code": code}


def _champion_salt(ctx: StageContext) -> Any:
    register = _register_stage(ctx, ctx.stage["model"])
    if register is None:
        return None
    registry = _registry(ctx, register)
    try:
        model = ctx.outputs_of(ctx.stage["model"])["model"]
        try:
            champion = registry.champion(ctx.stage_def(ctx.stage["model"])["name"], model)
        except RegistryError:  # a damaged entry: the stage says so in its report
            return {"registry": registry.instance, "champion": "unreadable"}
        return {"registry": registry.instance, "champion": champion.sha256 if champion else None}
    finally:
        registry.close()


# register -------------------------------------------------------------------------------
def run_register(ctx: StageContext) -> StageOutput:
    spec = ctx.stage
    evaluation_id = ctx.outputs_of(spec["evaluate"])["evaluation"]
    evaluation = ctx.store.get_json(evaluation_id)
    model_id = ctx.outputs_of(spec["model"])["model"]
    if not evaluation["blessed"]:
        refused = NotBlessed(spec["id"], evaluation)
        # Each failed gate with its note: why, not only which, stays with the version.
        _mark_unblessed(ctx, model_id, evaluation_id,
                        [g for g in evaluation["gates"] if g["blocking"] and not g["passed"]])
        raise refused
    info = ctx.store.get_json(ctx.outputs_of(spec["model"])["info"])
    train_spec = ctx.stage_def(spec["model"])
    registry = _registry(ctx, spec)
    try:
        _check_pin(registry, spec, train_spec["name"])
        version = registry.register(
            train_spec["name"], ctx.store.get_path(model_id).read_bytes(), model_id,
            run_id=ctx.run_id, report_sha256=evaluation_id, actor=spec.get("owner") or "pipec",
            info={"features": info["features"], "feature_kinds": info["feature_kinds"],
                  "label": train_spec["label"],
                  "task": info.get("task") or train_spec["task"],
                  "dag_hash": ctx.manifest.get("dag_hash"), "pipeline":
                  ctx.manifest["pipeline"]["name"],
                  "metrics": {k: v["value"] for k, v in evaluation["metrics"].items()},
                  # what `pipec registry rollback` restores: `previous` or a pinned VERSION
                  "rollback": spec.get("rollback") or "previous"}
            | _approval_by(ctx, spec["id"]))
    finally:
        registry.close()
    report = {"model": version.model, "version": version.version, "sha256": version.sha256,
              "state": version.state, "registry": spec["registry"]["path"]}
    return StageOutput({"registration": ctx.store.put_json(report)}, report)


def _check_pin(registry: Registry, spec: dict[str, Any], model: str) -> None:
    pinned = spec.get("rollback")
    if isinstance(pinned, int) and not isinstance(pinned, bool) and \
            (problem := registry.pin_problem(model, pinned)) is not None:
        raise RollbackPinUnusable(spec["id"], {"rollback": pinned},
                                  f"{spec['id']}: `rollback {pinned}` cannot be restored: "
                                  f"{problem}; pin a version that served, or write "
                                  "`rollback previous`")


def _mark_unblessed(ctx: StageContext, model_id: str, evaluation_id: str,
                    failed: list[dict[str, Any]]) -> None:
    """These bytes, registered before and not serving, just failed their gates: the
    registry keeps it with the version, which is not approved or promoted until a run
    blesses it again (its older passing report is no longer the newest word)."""
    if ctx.stage["registry"].get("kind") != "local":  # the run stops on NotBlessed anyway
        return
    registry = _registry(ctx, ctx.stage)
    try:
        entry = registry.by_sha(ctx.stage_def(ctx.stage["model"])["name"], model_id)
        if entry is not None and entry.state != "production":
            registry.mark_unblessed(entry, run_id=ctx.run_id, report_sha256=evaluation_id,
                                    failed=failed)
    finally:
        registry.close()


def register_hit(ctx: StageContext, report: dict[str, Any]) -> bool:
    """A cached registration holds while the version names a run that left a record,
    and the report this run evaluated where registering would bind it (`_bound_elsewhere`).
    A run killed after registering (or whose record write failed) leaves the version
    pointing at no record, so its lineage cannot be answered; registering again (the
    same bytes: the same version) points it at this run, whose record will exist."""
    from .records import RunRecords

    registry = _registry(ctx, ctx.stage)
    try:
        version = registry.get(report["model"], report["version"])
        # A model file deleted or altered in the registry (its lineage, a rollback to it
        # and serving it would all refuse it) is written again from the trained bytes.
        damaged = registry.file_problem(version) is not None
        rebind = _bound_elsewhere(ctx, registry, version)
    except PipecRuntimeError:  # the version is gone from the registry: register again
        return False
    finally:
        registry.close()
    if damaged or version.info.get("unblessed") or rebind:  # unblessed: refused since
        return False
    run_id = version.run_id
    # This run reports the version as it is now (promoted, archived since), not as it
    # was when the cached registration was made; the stored artifact stays as it was.
    report["state"] = version.state
    records = RunRecords(ctx.store.root.parent)
    try:
        return run_id is not None and records.get(run_id) is not None
    finally:
        records.close()


def _bound_elsewhere(ctx: StageContext, registry: Registry, version: Version) -> bool:
    """Whether the version is bound to another evaluation report than this run's, and
    registering again would bind it to this run (see `Registry.register`): a run in
    between (an edit since reverted) registered the same bytes with its report and run.
    The version's lineage would answer with that run's program, and, as an approval is
    bound to the report, an approval of this run's report would not be found while one
    given now would approve the other's. An archived version keeps its binding: its
    registration, made again, would deploy it again and undo a rollback."""
    evaluation = ctx.outputs_of(ctx.stage["evaluate"]).get("evaluation")
    if version.report_sha256 == evaluation or version.state == "archived":
        return False
    return version.state != "production" or \
        registry.approval(version.model, version.version) is None


def _approval_by(ctx: StageContext, register_id: str) -> dict[str, str]:
    """`{"approval_by": TEAM}` when an approval stage guards this registration: the
    registry then refuses to promote the version without that team's approval."""
    guard = guarding_approval(ctx.manifest, register_id)
    return {"approval_by": guard["approver"]} if guard is not None else {}


def guarding_approval(manifest: dict[str, Any], register_id: str) -> dict[str, Any] | None:
    """The approval stage that guards the registration of `register_id`, if any."""
    return next((stage for stage in manifest["stages"] if stage["kind"] == "approval"
                 and register_of(stage) == register_id), None)


def register_of(stage: dict[str, Any]) -> str:
    """The register stage an approval or deploy stage follows: the manifest names it,
    and it is the one of the same name."""
    return stage.get("register") or f"register.{stage['name']}"


def registry_salt(ctx: StageContext) -> Any:
    """Register, approval and deploy change the registry: a new registry runs them again."""
    register = ctx.stage if ctx.stage["kind"] == "register" else _register_def(ctx)
    registry = _registry(ctx, register)
    try:
        return registry.instance
    finally:
        registry.close()


# approval and deploy --------------------------------------------------------------------
def _register_def(ctx: StageContext) -> dict[str, Any]:
    """The register stage an approval or deploy stage follows."""
    return ctx.stage_def(register_of(ctx.stage))


def _registration(ctx: StageContext) -> tuple[dict[str, Any], dict[str, Any]]:
    register = _register_def(ctx)
    return register, ctx.store.get_json(ctx.outputs_of(register["id"])["registration"])


def run_approval(ctx: StageContext) -> StageOutput:
    register, entry = _registration(ctx)
    registry = _registry(ctx, register)
    try:
        waiting = {"model": entry["model"], "version": entry["version"],
                   "approver": ctx.stage["approver"]}
        standing = _standing_approval(registry, entry, ctx.stage["approver"])
        if standing is None:
            raise AwaitingApproval(ctx.stage["id"], waiting)
        report = waiting | standing
        if "approved_by" in standing and not _has_deploy(ctx):
            registry.promote(entry["model"], entry["version"], actor=standing["approved_by"],
                             reason=f"approved by {standing['approved_by']} "
                             f"({standing['team']})")
    finally:
        registry.close()
    return StageOutput({"approval": ctx.store.put_json(report)}, report)


def _standing_approval(registry: Registry, entry: dict[str, Any],
                       team: str) -> dict[str, Any] | None:
    """What lets the approval stage pass for the registered `entry`, as its report says
    it: the team's approval bound to the version's current evaluation report, or the
    version already serving; None when it must wait for one."""
    approval = registry.approval(entry["model"], entry["version"], team)
    if approval is not None:
        return {"approved_by": approval["approver"], "team": approval["team"]}
    if _serving(registry, entry):
        # Already production (approved when it was promoted): a re-run that
        # re-evaluated it has nothing new to approve.
        return {"already_production": True}
    return None


def approval_given(ctx: StageContext) -> bool:
    """Whether approval stage `ctx.stage` would pass now, on what the registry holds for
    the candidate its register stage registered in this run: an orchestrator then need
    not ask a human (`pipec stage run --approval-given`). The same check as the stage's."""
    register, entry = _registration(ctx)
    registry = _registry(ctx, register)
    try:
        return _standing_approval(registry, entry, ctx.stage["approver"]) is not None
    finally:
        registry.close()


def reject_approval(ctx: StageContext, reviewer: str) -> StageOutput:
    """The approval stage when the reviewer rejected the candidate at the orchestrator's
    human step: nothing to check in the registry, the run stops here (blocked), and the
    record says who rejected which version."""
    register, entry = _registration(ctx)
    registry = _registry(ctx, register)
    try:  # in the version's history too: `registry show` says it was rejected, and by whom
        registry.record_rejection(entry["model"], entry["version"], actor=reviewer or "?",
                                  reason=f"rejected at the human step before "
                                  f"{ctx.stage['id']} (run {ctx.run_id})")
    finally:
        registry.close()
    raise ApprovalRejected(ctx.stage["id"], {
        "model": entry["model"], "version": entry["version"],
        "approver": ctx.stage["approver"], "rejected_by": reviewer})


def _serving(registry: Any, entry: dict[str, Any]) -> bool:
    return registry.get(entry["model"], entry["version"]).state == "production"


def _has_deploy(ctx: StageContext) -> bool:
    return any(s["kind"] == "deploy" and s["name"] == ctx.stage["name"]
               for s in ctx.manifest["stages"])


def deploy_hit(ctx: StageContext, report: dict[str, Any]) -> bool:
    """A cached deploy reports its version as it is now. After `pipec registry rollback`
    (or a promotion by hand) that is no longer production, and it stays so: a re-run
    with nothing changed must not undo a rollback someone made for a reason. A new model
    (anything in the deploy's key moving) deploys as usual; `registry promote` restores
    this one. A version gone from the registry is deployed again."""
    registry = _registry(ctx, _register_def(ctx))
    try:
        version = registry.get(report["model"], report["version"])
    except PipecRuntimeError:
        return False
    finally:
        registry.close()
    report["state"] = version.state
    return True


def run_deploy(ctx: StageContext) -> StageOutput:
    """The local runtime's deploy: promote the candidate to production (the previous
    production version is archived, and `rollback previous` can restore it)."""
    register, entry = _registration(ctx)
    canary = ctx.stage.get("canary")
    reason = "deployed" + (f" (canary {canary['percent']:.0%} for {canary['for_s']}s)"
                           if canary else "")
    registry = _registry(ctx, register)
    try:
        version = registry.promote(entry["model"], entry["version"],
                                   actor=ctx.stage.get("owner") or "pipec", reason=reason)
    finally:
        registry.close()
    report = {"model": version.model, "version": version.version, "state": version.state,
              "runtime": ctx.stage.get("runtime") or "local", "canary": canary}
    return StageOutput({"deployment": ctx.store.put_json(report)}, report)

