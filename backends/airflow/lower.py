"""Plan -> AirflowDag."""

from __future__ import annotations

from pipec.backends.airflow.docs import dag_doc_md
from pipec.backends.airflow.model import (
    AirflowDag,
    ApprovalTask,
    RejectionTask,
    Schedule,
    StageTask,
    TaskDefaults,
)
from pipec.backends.base import BuildOptions
from pipec.backends.kube import requirements
from pipec.backends.naming import AIRFLOW_MAX_ID, dns_label, task_id
from pipec.backends.plan import RETRY_DELAY_S, Plan, StagePlan, most_common
from pipec.backends.triggers import drift_condition, trigger_assets
from pipec.diagnostics import Diagnostic, Severity, error
from pipec.nodes import Span

DEFAULT_OWNER = "airflow"  # Airflow's own default; unreachable for a checked program
TAG_MAX = 100  # Airflow refuses longer tags


def lower_dag(plan: Plan, options: BuildOptions) -> AirflowDag:
    upstream: dict[str, list[str]] = {}
    for source, target in plan.edges:  # sorted
        upstream.setdefault(target, []).append(task_id(source))
    tasks: list[StageTask | ApprovalTask] = []
    rejections: list[RejectionTask] = []
    for stage in plan.stages:
        needs = tuple(upstream.get(stage.id, ()))
        if stage.is_approval:
            human = _approval(stage, needs)
            # The stage keeps its `retries`: the runtime reads them from the manifest to
            # tell a failure's last attempt (which writes the run record); a blocked or
            # waiting stage is not retried anyway (StageOperator).
            stage_task = _stage_task(stage, (human.task_id,))
            tasks += [human, stage_task]
            rejections.append(_rejection(stage, human, stage_task))
        else:
            tasks.append(_stage_task(stage, needs))
    return AirflowDag(
        dag_id=plan.name, file_name=f"{plan.name}.py", operator=options.airflow_operator,
        image=plan.image, manifest_name=options.manifest_name, retry_delay_s=RETRY_DELAY_S,
        schedule=schedule(plan), tags=tags(plan),
        doc_md=dag_doc_md(plan, options.manifest_name), pipec_version=plan.pipec_version,
        defaults=_defaults([t for t in tasks if isinstance(t, StageTask)]), tasks=tuple(tasks),
        rejections=tuple(rejections), drift=drift_condition(plan),
        state_volume=options.state_volume if options.airflow_operator == "kubernetes" else None,
        service_account=(options.service_account if options.airflow_operator == "kubernetes"
                         else None),
        manifest_configmap=(options.manifest_configmap
                            if options.airflow_operator == "kubernetes" else None),
        dag_hash=plan.dag_hash, description=plan.description,
        max_active_tasks=options.max_parallel_stages,
    )


def _stage_task(stage: StagePlan, upstream: tuple[str, ...]) -> StageTask:
    pod = requirements(stage.resources)
    return StageTask(
        task_id=task_id(stage.id), stage_id=stage.id, owner=stage.owner or DEFAULT_OWNER,
        retries=stage.retries, timeout_s=stage.timeout_s,
        doc_md=stage.description,
        pod_name=dns_label(stage.id),
        resources=pod.get("requests", {}), limits=pod.get("limits", {}),
        upstream=upstream,
    )


def _approval(stage: StagePlan, upstream: tuple[str, ...]) -> ApprovalTask:
    """The human step before the approval stage. Its task id ends in `-human`: a stage's
    task id never holds a `-` (naming.py), so the two never meet. The stage after it
    checks that the approval is in the registry, bound to the candidate's evaluation
    report and given by the right team, as `pipec run` does. Nobody is asked when the
    register stage's task says the registry holds that approval already (a re-run of an
    approved version), as `pipec run` asks nobody then."""
    name = stage.id.partition(".")[2]
    register = str(stage.register)  # an approval stage's: `plan` always sets it
    return ApprovalTask(
        task_id=f"{task_id(stage.id)}-human", stage_id=stage.id,
        owner=stage.owner or DEFAULT_OWNER,
        subject=f"Approve {register} for promotion",
        body=(f"`{register}` registered a blessed candidate (`pipec registry list` shows "
              f"its version). Team `{stage.owner}` records the approval with "
              f"`pipec registry approve {name}@VERSION --by {stage.owner}`, which binds it "
              "to the evaluation report, then approves here; the next task checks the "
              "registry before promotion and deploy. Rejecting skips them and ends the run "
              "blocked, with its record."),
        upstream=upstream, register_task_id=task_id(register),
    )


def _rejection(stage: StagePlan, human: ApprovalTask, stage_task: StageTask) -> RejectionTask:
    """The task that records a Reject at `human`. Its id ends in `-rejected`, which no
    stage's task id can (naming.py)."""
    return RejectionTask(task_id=f"{stage_task.task_id}-rejected", stage_id=stage.id,
                         human_task_id=human.task_id, after=stage_task.task_id,
                         pod_name=dns_label(f"{stage.id}-rejected"))


def _defaults(tasks: list[StageTask]) -> TaskDefaults:
    """The most common owner, retries and timeout of the stage tasks (ties: the
    smallest by `repr`), so the file lists only the exceptions."""
    return TaskDefaults(owner=most_common([t.owner for t in tasks], DEFAULT_OWNER),
                        retries=most_common([t.retries for t in tasks], 0),
                        timeout_s=most_common([t.timeout_s for t in tasks], None))


def schedule(plan: Plan) -> Schedule:
    kind = plan.retrain.get("kind")
    if kind == "scheduled":
        return Schedule("cron", cron=plan.retrain.get("cron"))
    if kind in ("triggered", "continuous"):
        return Schedule("assets", assets=tuple(trigger_assets(plan)))
    return Schedule("none")


def tags(plan: Plan) -> tuple[str, ...]:
    found = {"pipec", f"retrain:{plan.retrain.get('kind')}"}
    if plan.risk:
        found.add(f"risk:{plan.risk}")
    found |= {f"owner:{owner}" for owner in (*plan.owners, *co_owners(plan))}
    return tuple(sorted(tag for tag in found if len(tag) <= TAG_MAX))


def co_owners(plan: Plan) -> set[str]:
    """Every team an evaluate stage lists in `owners`: they co-own its gates, so the DAG
    carries their `owner:` tags too. Its task keeps the one `owner`: Airflow lists a DAG's
    owners from its tasks' owner strings as written, so `a, b` on one task and `a` on
    another would show `a` twice."""
    return {team for entry in plan.manifest["stages"] for team in entry.get("owners") or ()}


def diagnostics(plan: Plan, model: AirflowDag, span: Span,
                resources_span: Span | None = None,
                image_span: Span | None = None) -> list[Diagnostic]:
    """What Airflow cannot carry: ids over its length limit; `resources` or `image` on
    Bash (at the setting when there is one, else at the pipeline); a pod without an
    image."""
    found = [error("BUILD001", f"the Airflow id `{name}` is {len(name)} characters, over "
                   f"Airflow's {AIRFLOW_MAX_ID}", span, "shorten the stage or pipeline name")
             for name in (model.dag_id, *(t.task_id for t in model.tasks),
                          *(t.task_id for t in model.rejections))
             if len(name) > AIRFLOW_MAX_ID]
    if model.operator == "kubernetes" and not model.image:
        # KubernetesPodOperator would create a pod with no image, which Kubernetes
        # refuses when the first stage starts (Argo refuses the build the same way).
        found.append(error("BUILD001", "the KubernetesPodOperator runs every stage in a "
                           "container, but the pipeline declares no `image`", span,
                           "add `image \"REGISTRY/NAME@sha256:DIGEST\"` to the pipeline"))
    if model.operator == "bash" and any(s.resources for s in plan.stages):
        found.append(Diagnostic(
            "BUILD002", Severity.NOTE, "`resources` is not applied by Airflow's "
            "BashOperator: the stage runs on the worker as it is", resources_span or span,
            "build with `--airflow-operator kubernetes` to request them for the pod"))
    if model.operator == "bash" and plan.image:
        # The pinned image is the reproducibility contract (REPRO002); on Bash the stage
        # runs in whatever environment the worker has, so say so rather than pretend.
        found.append(Diagnostic(
            "BUILD002", Severity.NOTE, "the pipeline's `image` is not used by Airflow's "
            "BashOperator: stages run in the worker's own Python environment",
            image_span or span,
            "build with `--airflow-operator kubernetes` to run every stage in the image"))
    return found
