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


def champion(ctx: StageContext) -> tuple[Any, dict[str, Any]] | None:
    """The champion and its registry entry (None: there is none): the one the stage's
    cache key names (`named_champion`). One that cannot be loaded comes without a
    model and with the `error` that says why: the `compare champion` line fails with it
    and every other gate is still judged, where the whole stage failed (a candidate
    could then never replace a broken production model). It is loaded only for a
    `compare champion` line; `features compatible` reads its entry."""
    named, register = named_champion(ctx), register_stage_of(ctx, ctx.stage["model"])
    if named is None or register is None or named["champion"] is None:
        return None
    if "error" in named:  # its row is damaged; the message names the version
        return None, {"version": None, "error": named["error"]}
    registry = stage_registry(ctx, register)
    try:
        try:
            entry = registry.get(ctx.stage_def(ctx.stage["model"])["name"],
                                 named["champion"]["version"])
        except RegistryError as exc:  # damaged since the key was made
            return None, {"version": None, "error": str(exc)}
        info = entry.info | {"version": entry.version, "sha256": entry.sha256}
        if not any(g["kind"] == "compare_champion" for g in ctx.stage["gates"]):
            return None, info
        return _loaded_champion(ctx, registry, entry, info)
    finally:
        registry.close()


def named_champion(ctx: StageContext) -> dict[str, Any] | None:
    """The evaluate stage's champion, resolved once, for its cache key (`champion_salt`)
    and then for the stage itself (`champion`): None when no register stage names a
    registry, else `{"registry", "champion": {"version", "sha256"} or None}`, or with
    an `error` for a damaged production entry.

    Resolved again when it was loaded, the champion was whichever version another run
    had deployed in between, and the report comparing the candidate with it was cached
    under a key naming the version before: a later run with that key reused a
    comparison with a champion other than the one its key named."""
    if ctx.named_champion is None:
        ctx.named_champion = {"resolved": _resolved(ctx)}
    named: dict[str, Any] | None = ctx.named_champion["resolved"]
    return named


def _resolved(ctx: StageContext) -> dict[str, Any] | None:
    register = register_stage_of(ctx, ctx.stage["model"])
    if register is None:
        return None
    registry = stage_registry(ctx, register)
    try:
        named: dict[str, Any] = {"registry": registry.instance, "champion": None}
        model = ctx.outputs_of(ctx.stage["model"])["model"]
        try:
            entry = registry.champion(ctx.stage_def(ctx.stage["model"])["name"], model)
        except RegistryError as exc:  # a damaged entry: the stage says so in its report
            return named | {"champion": "unreadable", "error": str(exc)}
        if entry is not None:
            named["champion"] = {"version": entry.version, "sha256": entry.sha256}
        return named
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
    """What of the champion the evaluate stage's key holds: the registry, and the
    champion's model hash (None: no champion; "unreadable": a damaged entry)."""
    named = named_champion(ctx)
    if named is None:
        return None
    held = named["champion"]
    return {"registry": named["registry"],
            "champion": held["sha256"] if isinstance(held, dict) else held}
