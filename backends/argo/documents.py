"""ArgoWorkflow -> Kubernetes documents (plain dicts in the order they are written)."""

from __future__ import annotations

from typing import Any

from pipec.backends.argo.lower import (
    APPROVAL_GIVEN,
    APPROVAL_GIVEN_PATH,
    APPROVAL_TEMPLATE,
    DAG_TEMPLATE,
    DECISION,
    OUTPUTS_MOUNT_PATH,
    OUTPUTS_VOLUME,
    PREFIX,
    REJECT,
    REJECT_TEMPLATE,
    REVIEWER,
)
from pipec.backends.argo.model import ArgoWorkflow, DagGroup, DagTask, Sensor, StageTemplate
from pipec.backends.argo.yamldump import Flow
from pipec.backends.kube import (
    MANIFEST_MOUNT_PATH,
    MANIFEST_VOLUME,
    STATE_DIR_ENV,
    STATE_MOUNT_PATH,
    STATE_VOLUME,
    configmap_command,
    manifest_path,
    requirements,
)

API_VERSION = "argoproj.io/v1alpha1"


def documents(wf: ArgoWorkflow) -> list[dict[str, Any]]:
    if wf.kind == "CronWorkflow":
        return [_document(wf, "CronWorkflow", {"name": wf.name}, _cron_spec(wf))]
    if wf.kind == "WorkflowTemplate":
        docs = [_document(wf, "WorkflowTemplate", {"name": wf.name}, _workflow_spec(wf))]
        return docs + ([_sensor(wf, wf.sensor)] if wf.sensor else [])
    return [_document(wf, "Workflow", {"generateName": f"{wf.name}-"}, _workflow_spec(wf))]


def _document(wf: ArgoWorkflow, kind: str, name: dict[str, str],
              spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind,
            "metadata": {**name, "labels": dict(wf.labels),
                         "annotations": dict(wf.annotations)},
            "spec": spec}


def _cron_spec(wf: ArgoWorkflow) -> dict[str, Any]:
    return {"schedules": [wf.cron], "timezone": "UTC", "concurrencyPolicy": "Forbid",
            "workflowSpec": _workflow_spec(wf)}


def _workflow_spec(wf: ArgoWorkflow) -> dict[str, Any]:
    templates = [_dag_template(wf)] + [_group_template(g) for g in wf.groups]
    if any(t.template == APPROVAL_TEMPLATE for t in wf.tasks):
        templates += [_approval_template(), _rejection_template(wf)]
    templates += [_stage_template(wf, shape) for shape in wf.templates]
    volumes = _volumes(wf)
    return {
        "entrypoint": DAG_TEMPLATE,
        "arguments": {"parameters": [_manifest_parameter(wf)]},
        "workflowMetadata": {"labels": dict(wf.labels)}
        | ({"annotations": dict(wf.run_annotations)} if wf.run_annotations else {}),
        # One run of a pipeline at a time, whatever started it (cron, sensor, by hand),
        # as Airflow's max_active_runs=1: a second run queues instead of racing the
        # first one's registry writes.
        "synchronization": {"mutexes": [{"name": wf.name}]},
        "templates": templates,
    } | ({"volumes": volumes} if volumes else {}) \
      | ({"serviceAccountName": wf.service_account} if wf.service_account else {}) \
      | ({"parallelism": wf.parallelism} if wf.parallelism else {})


def _manifest_parameter(wf: ArgoWorkflow) -> dict[str, str]:
    """The `manifest` parameter every stage reads: with `manifest_configmap`, the path in
    the ConfigMap's mount, described with the command that makes the ConfigMap (the Argo
    UI shows it on the submit form)."""
    parameter = {"name": "manifest",
                 "value": manifest_path(wf.manifest_name, wf.manifest_configmap)}
    if wf.manifest_configmap:
        command = configmap_command(wf.manifest_configmap, wf.manifest_name, wf.manifest_name)
        parameter["description"] = (
            f"the build's {wf.manifest_name}, which every stage pod reads from the ConfigMap "
            f"{wf.manifest_configmap} mounted at {MANIFEST_MOUNT_PATH}; make it in the "
            f"folder of this file, where the build wrote it: {command}")
    return parameter


def _volumes(wf: ArgoWorkflow) -> list[dict[str, Any]]:
    """The claim (`state_volume`) and the manifest's ConfigMap (`manifest_configmap`)
    every stage pod mounts (`_with_volumes`), each when set."""
    found: list[dict[str, Any]] = []
    if wf.state_volume:
        found.append({"name": STATE_VOLUME,
                      "persistentVolumeClaim": {"claimName": wf.state_volume}})
    if wf.manifest_configmap:
        found.append({"name": MANIFEST_VOLUME, "configMap": {"name": wf.manifest_configmap}})
    return found


# Argo's DAGs fail fast by default: after one task fails (a blocked gate exits 1) no new
# task is scheduled, so a second model's branch would never train. Off, the other
# branches run to the end, as in `pipec run`, Airflow and the local script; a failed
# task's dependents are still omitted (https://github.com/argoproj/argo-workflows/issues/1442).
FAIL_FAST = False


def _dag_template(wf: ArgoWorkflow) -> dict[str, Any]:
    skippable = {t.name for t in wf.tasks if t.when is not None}
    either = {t.stands_for: t.name for t in wf.tasks if t.stands_for is not None}
    return {"name": DAG_TEMPLATE, "dag": {
        "failFast": FAIL_FAST, "tasks": [_task(t, skippable, either) for t in wf.tasks]}}


def _group_template(group: DagGroup) -> dict[str, Any]:
    return {"name": group.name, "dag": {"failFast": FAIL_FAST,
                                        "tasks": [_task(t, set(), {}) for t in group.tasks]}}


def _task(task: DagTask, skippable: set[str], either: dict[str, str]) -> dict[str, Any]:
    """One line per task (a YAML flow mapping). `depends: "a && b"` runs the task when
    each of a and b succeeded (or was skipped), as `dependencies: [a, b]` would; after a
    task that a `when` may skip (the approval stage, on a rejection) it must have
    succeeded: `a.Succeeded`, else the task is omitted; after an approval stage that
    another task may run instead (`either`), one of the two must have."""
    entry: dict[str, Any] = Flow(name=task.name, template=task.template)
    if task.depends is not None:
        entry["depends"] = task.depends
    elif task.dependencies:
        entry["depends"] = " && ".join(_depends_on(d, skippable, either)
                                       for d in task.dependencies)
    if task.when is not None:
        entry["when"] = task.when
    if task.parameters:
        entry["arguments"] = {"parameters": [{"name": k, "value": v}
                                             for k, v in task.parameters]}
    return entry


def _depends_on(name: str, skippable: set[str], either: dict[str, str]) -> str:
    if name in either:
        return f"({name}.Succeeded || {either[name]}.Succeeded)"
    return f"{name}.Succeeded" if name in skippable else name


def _approval_template() -> dict[str, Any]:
    """The human step: a `suspend` whose resume may set the decision and the reviewer
    (Argo's intermediate parameters: the UI's resume form, or `argo node set
    --output-parameter`); a plain resume takes the defaults, `approve` and no name."""
    inputs = [{"name": DECISION, "default": "approve", "enum": ["approve", REJECT],
               "description": "approve: the approval stage checks the registry and the "
               "run goes on; reject: the run ends blocked, recorded"},
              {"name": REVIEWER, "default": "",
               "description": "who decides (recorded with a rejection)"}]
    outputs = [{"name": p["name"], "valueFrom": {"supplied": {}, "default": p["default"]}}
               for p in inputs]
    return {"name": APPROVAL_TEMPLATE, "inputs": {"parameters": inputs},
            "outputs": {"parameters": outputs}, "suspend": {}}


def _rejection_template(wf: ArgoWorkflow) -> dict[str, Any]:
    """`pipec stage run --rejected-by REVIEWER` for the approval stage the human step
    rejected: the run's record says blocked there, and by whom. The reviewer is one
    argument of its own, never read by a shell. It runs as the approval stage would:
    its retries, and its deadline (the pipeline's `timeout`) when it has one, so a hung
    record cannot hold the workflow past it."""
    names = ("stage", "owner", "retries") + (("timeout",) if wf.rejection_timed else ())
    template: dict[str, Any] = {
        "name": REJECT_TEMPLATE,
        "inputs": {"parameters": [{"name": n} for n in (*names, REVIEWER)]},
        "metadata": {"labels": {PREFIX + "owner": "{{inputs.parameters.owner}}"},
                     "annotations": {PREFIX + "stage": "{{inputs.parameters.stage}}"}},
        "retryStrategy": _retry_strategy(wf),
    }
    if wf.rejection_timed:
        template["activeDeadlineSeconds"] = "{{inputs.parameters.timeout}}"
    # `--rejected-by=NAME`, one argument: a name typed as `-bob` is still a value.
    template["container"] = _with_volumes(wf, {
        "image": wf.image, "command": ["pipec"],
        "args": [*_stage_args(wf), f"--rejected-by={{{{inputs.parameters.{REVIEWER}}}}}"],
        "env": _run_env()})
    return template


# `pipec stage run` exits 1 when a blocking check or gate stopped the stage and 3 when it
# waits for an approval: running it again gives the same answer, so only a failure
# (2: an exception, a lost connection) or an error of the pod itself is retried.
RETRY_WHEN = 'lastRetry.exitCode != "1" && lastRetry.exitCode != "3"'


def _stage_template(wf: ArgoWorkflow, shape: StageTemplate) -> dict[str, Any]:
    parameters = [{"name": "stage"}] + [{"name": n, "default": v} for n, v in shape.defaults]
    annotations = {PREFIX + "stage": "{{inputs.parameters.stage}}"}
    if shape.described:  # the stage's `description` (`lower.annotation_text`)
        annotations[PREFIX + "description"] = "{{inputs.parameters.description}}"
    template: dict[str, Any] = {
        "name": shape.name,
        "inputs": {"parameters": parameters},
        "metadata": {"labels": {PREFIX + "owner": "{{inputs.parameters.owner}}"},
                     "annotations": annotations},
        "retryStrategy": _retry_strategy(wf),
    }
    if shape.timed:
        template["activeDeadlineSeconds"] = "{{inputs.parameters.timeout}}"
    template["container"] = _container(wf, shape)
    if shape.approval_check:
        template["volumes"] = [{"name": OUTPUTS_VOLUME, "emptyDir": {}}]
        template["outputs"] = _approval_given_output()
    return template


def _approval_given_output() -> dict[str, Any]:
    """Whether the registry already holds the approval that the approval stage after
    this register stage checks for: `true` or `false`, which the human step's `when`
    reads. `pipec stage run --approval-given` always writes it; the default (ask) covers
    a pod that could not."""
    return {"parameters": [{"name": APPROVAL_GIVEN,
                            "valueFrom": {"path": APPROVAL_GIVEN_PATH, "default": "false"}}]}


def _retry_strategy(wf: ArgoWorkflow) -> dict[str, Any]:
    return {"limit": "{{inputs.parameters.retries}}", "retryPolicy": "Always",
            "expression": RETRY_WHEN, "backoff": {"duration": f"{wf.retry_delay_s}s"}}


def _stage_args(wf: ArgoWorkflow) -> list[str]:
    # A manifest mounted from a ConfigMap sits apart from the project: its relative paths
    # start from the image's working directory, as when the image holds it.
    placed = ["--manifest-dir", "."] if wf.manifest_configmap else []
    return ["stage", "run", "--manifest", "{{workflow.parameters.manifest}}", *placed,
            "--dag-hash", wf.dag_hash, "--stage", "{{inputs.parameters.stage}}"]


def _run_env() -> list[dict[str, str]]:
    """The workflow's uid, which `pipec stage run` takes as the run id: every stage of
    one workflow (and a retry, or a stage after a resume) belongs to the same run."""
    return [{"name": "PIPEC_WORKFLOW_UID", "value": "{{workflow.uid}}"}]


def _container(wf: ArgoWorkflow, shape: StageTemplate) -> dict[str, Any]:
    container: dict[str, Any] = {"image": wf.image, "command": ["pipec"],
                                 "args": _stage_args(wf), "env": _run_env()}
    if shape.resources:
        container["resources"] = requirements(shape.resources)
    container = _with_volumes(wf, container)
    return _with_approval_check(container) if shape.approval_check else container


def _with_approval_check(container: dict[str, Any]) -> dict[str, Any]:
    """The register stage also writes whether the approval is given, into the pod's own
    volume (`_approval_given_output`)."""
    mount = {"name": OUTPUTS_VOLUME, "mountPath": OUTPUTS_MOUNT_PATH}
    return container | {"args": [*container["args"], "--approval-given", APPROVAL_GIVEN_PATH],
                        "volumeMounts": [*container.get("volumeMounts", ()), mount]}


def _with_volumes(wf: ArgoWorkflow, container: dict[str, Any]) -> dict[str, Any]:
    """The container with the mounts of `_volumes`."""
    return _with_manifest(wf, _with_state(wf, container))


def _with_state(wf: ArgoWorkflow, container: dict[str, Any]) -> dict[str, Any]:
    """With `state_volume`, the container mounts it and keeps its state there."""
    if not wf.state_volume:
        return container
    return container | {
        "env": [*container["env"], {"name": STATE_DIR_ENV, "value": STATE_MOUNT_PATH}],
        "volumeMounts": [*container.get("volumeMounts", ()),
                         {"name": STATE_VOLUME, "mountPath": STATE_MOUNT_PATH}]}


def _with_manifest(wf: ArgoWorkflow, container: dict[str, Any]) -> dict[str, Any]:
    """With `manifest_configmap`, the container mounts it, read-only, where the `manifest`
    parameter points."""
    if not wf.manifest_configmap:
        return container
    mount = {"name": MANIFEST_VOLUME, "mountPath": MANIFEST_MOUNT_PATH, "readOnly": True}
    return container | {"volumeMounts": [*container.get("volumeMounts", ()), mount]}


# The label by which the Argo UI lists a WorkflowTemplate's runs on its page, and the
# controller finds the last run to estimate a new one's duration from. Argo sets it on a
# Workflow submitted with `argo submit --from`, not on one created with a
# `workflowTemplateRef`, as the Sensor's trigger creates it: without it a retrain the
# Sensor started was missing from the template's page and had no estimated duration
# (https://github.com/argoproj/argo-workflows/issues/12670).
WORKFLOW_TEMPLATE_LABEL = "workflows.argoproj.io/workflow-template"


def _sensor(wf: ArgoWorkflow, sensor: Sensor) -> dict[str, Any]:
    dependencies = [_dependency(sensor, d.name, d.event_name) for d in sensor.dependencies]
    trigger: dict[str, Any] = {"name": "retrain"}
    if len(dependencies) > 1:  # any one event starts a run (the default is all of them)
        trigger["conditions"] = " || ".join(d["name"] for d in dependencies)
    labels = dict(wf.labels) | {WORKFLOW_TEMPLATE_LABEL: wf.name}
    trigger["argoWorkflow"] = {"operation": "submit", "source": {"resource": {
        "apiVersion": API_VERSION, "kind": "Workflow",
        "metadata": {"generateName": f"{wf.name}-", "labels": labels},
        "spec": {"workflowTemplateRef": {"name": wf.name}}}}}
    return {"apiVersion": API_VERSION, "kind": "Sensor",
            "metadata": {"name": sensor.name, "labels": dict(wf.labels),
                         "annotations": dict(wf.annotations)},
            "spec": _sensor_account(wf) | {"dependencies": dependencies,
                                           "triggers": [{"template": trigger}]}}


def _sensor_account(wf: ArgoWorkflow) -> dict[str, Any]:
    """The Sensor's argoWorkflow trigger creates Workflows as its pod's service account,
    which the namespace's `default` usually may not."""
    if not wf.sensor_service_account:
        return {}
    return {"template": {"serviceAccountName": wf.sensor_service_account}}


# Argo Events' data filter comparators: its equality is `=`; an unknown comparator
# (`==`) matches no event, so the drift trigger would never fire.
COMPARATORS = {"==": "="}


def _dependency(sensor: Sensor, name: str, event_name: str) -> dict[str, Any]:
    dependency: dict[str, Any] = {"name": name, "eventSourceName": sensor.event_source,
                                  "eventName": event_name}
    if sensor.drift is not None:  # the monitor posts {"value": <measured drift>}
        op = sensor.drift["op"]
        dependency["filters"] = {"data": [{
            "path": "body.value", "type": "number", "comparator": COMPARATORS.get(op, op),
            "value": [str(sensor.drift["value"])]}]}
    return dependency
