"""The champion of an evaluate stage: the production version of the model in the
registry its register stage names, loaded to be scored on the same test set as the
candidate (`compare champion`), or why it cannot be (its file missing or altered, its
module no longer allowed or importable, its entry damaged)."""

from __future__ import annotations

from typing import Any

from . import serialize
from .context import StageContext
from .errors import ManifestError
from .model_modules import allowed_modules
from .registry import Registry, RegistryError, Version
from .state import registry_base


def register_stage_of(ctx: StageContext, model_id: str) -> dict[str, Any] | None:
    return next((s for s in ctx.manifest["stages"]
                 if s["kind"] == "register" and s.get("model") == model_id), None)


def stage_registry(ctx: StageContext, register: dict[str, Any]) -> Registry:
    location = register["registry"]
    if location.get("kind") != "local":
        # Every target (pipec run, the local script, Airflow, Argo) registers through
        # this runtime, so this is not a limit of the local runner alone.
        raise ManifestError(
            f"{register['id']}: `registry {location.get('kind')}` is not supported by "
            "pipec's runtime, which registers on every target (pipec run, Airflow, Argo): "
            'write `registry local "DIR"`')
    return Registry(registry_base(ctx.base_dir) / location["path"])


def champion(ctx: StageContext, model_stage: str,
              candidate: str) -> tuple[Any, dict[str, Any]] | None:
    """The champion and its registry entry (None: there is none). One that cannot be
    loaded comes without a model and with the `error` that says why: the `compare
    champion` line fails with it and every other gate is still judged, where the whole
    stage failed (a candidate could then never replace a broken production model). It
    is loaded only for a `compare champion` line; `features compatible` reads its entry."""
    register = register_stage_of(ctx, model_stage)
    if register is None:
        return None
    registry = stage_registry(ctx, register)
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
        return registry.load(entry.model, entry.version, allowed_modules(ctx.options)), info
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


def champion_salt(ctx: StageContext) -> Any:
    register = register_stage_of(ctx, ctx.stage["model"])
    if register is None:
        return None
    registry = stage_registry(ctx, register)
    try:
        model = ctx.outputs_of(ctx.stage["model"])["model"]
        try:
            champion = registry.champion(ctx.stage_def(ctx.stage["model"])["name"], model)
        except RegistryError:  # a damaged entry: the stage says so in its report
            return {"registry": registry.instance, "champion": "unreadable"}
        return {"registry": registry.instance, "champion": champion.sha256 if champion else None}
    finally:
        registry.close()
