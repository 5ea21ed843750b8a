"""Runners of the release stages: register, approval, deploy. They act on the model
the train stage stored and the evaluation that blessed it, in the registry the register
stage names (`champion.stage_registry`)."""

from __future__ import annotations

from typing import Any

from .champion import stage_registry
from .context import StageContext, StageOutput
from .errors import (
    ApprovalRejected,
    AwaitingApproval,
    NotBlessed,
    PipecRuntimeError,
    RollbackPinUnusable,
)
from .registry import Registry, Version


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
    registry = stage_registry(ctx, spec)
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
    registry = stage_registry(ctx, ctx.stage)
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

    registry = stage_registry(ctx, ctx.stage)
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
    registry = stage_registry(ctx, register)
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
    registry = stage_registry(ctx, register)
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
    registry = stage_registry(ctx, register)
    try:
        return _standing_approval(registry, entry, ctx.stage["approver"]) is not None
    finally:
        registry.close()


def reject_approval(ctx: StageContext, reviewer: str) -> StageOutput:
    """The approval stage when the reviewer rejected the candidate at the orchestrator's
    human step: nothing to check in the registry, the run stops here (blocked), and the
    record says who rejected which version."""
    register, entry = _registration(ctx)
    registry = stage_registry(ctx, register)
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
    registry = stage_registry(ctx, _register_def(ctx))
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
    registry = stage_registry(ctx, register)
    try:
        version = registry.promote(entry["model"], entry["version"],
                                   actor=ctx.stage.get("owner") or "pipec", reason=reason)
    finally:
        registry.close()
    report = {"model": version.model, "version": version.version, "state": version.state,
              "runtime": ctx.stage.get("runtime") or "local", "canary": canary}
    return StageOutput({"deployment": ctx.store.put_json(report)}, report)
