"""The Argo target model: one workflow (plus a Sensor for event-triggered retraining)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageTemplate:
    """A container template shared by every stage of one shape (with or without a
    deadline; one set of `resources`): stages pass their id as a parameter, and their
    owner, retries and timeout where they differ from the template's defaults, so the
    document grows by one small task per stage."""

    name: str
    timed: bool
    resources: tuple[tuple[str, str], ...]
    defaults: tuple[tuple[str, str], ...] = ()  # parameter -> default (all but `stage`)
    # A register stage that an approval's human step follows: the template also says
    # whether the registry already holds that approval (`pipec stage run
    # --approval-given`, an output parameter the human step's `when` reads).
    approval_check: bool = False
    # Some stage of this shape has a `description`: the template takes it as a parameter
    # and annotates the pod with it (`lower.annotation_text`).
    described: bool = False


@dataclass(frozen=True)
class DagTask:
    name: str
    stage_id: str
    template: str
    dependencies: tuple[str, ...]
    parameters: tuple[tuple[str, str], ...]
    # Run only when this holds (Argo's `when`), else skipped: the human step (unless the
    # registry already holds the approval), and the approval stage and the task that
    # records a rejection, on the human step's decision. A task after one of them needs
    # it to have succeeded, not merely finished (skipped counts as done).
    when: str | None = None
    # Argo's `depends`, when it is not the plain one of `dependencies`.
    depends: str | None = None
    # The task whose stage this one runs instead (the approval stage after a skipped
    # human step, see `lower._approval_tasks`): a task after that one waits for either.
    stands_for: str | None = None


@dataclass(frozen=True)
class DagGroup:
    """A nested DAG of sibling stages that wait for the same tasks and are waited for by
    the same tasks: the outer DAG lists it once (see `lower.fan_outs`)."""

    name: str
    tasks: tuple[DagTask, ...]


@dataclass(frozen=True)
class SensorDependency:
    name: str
    event_name: str


@dataclass(frozen=True)
class Sensor:
    """An Argo Events Sensor that submits the WorkflowTemplate when its events arrive."""

    name: str
    event_source: str
    dependencies: tuple[SensorDependency, ...]
    drift: dict | None  # {"column", "op", "value"}: filters the monitor's event body


@dataclass(frozen=True)
class ArgoWorkflow:
    kind: str  # Workflow | CronWorkflow | WorkflowTemplate
    name: str  # DNS-1123 name of the pipeline
    file_name: str
    image: str
    manifest_name: str
    retry_delay_s: int
    cron: str | None
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    # The annotations every run carries too (`workflowMetadata`): a run a CronWorkflow or a
    # Sensor starts does not inherit its template's own.
    run_annotations: tuple[tuple[str, str], ...]
    templates: tuple[StageTemplate, ...]
    tasks: tuple[DagTask, ...]
    sensor: Sensor | None
    groups: tuple[DagGroup, ...] = ()
    state_volume: str | None = None  # the claim every stage pod mounts (kube.py)
    service_account: str | None = None  # the stage pods' (None: the namespace's default)
    sensor_service_account: str | None = None  # the Sensor's: allowed to create Workflows
    # The ConfigMap every stage pod mounts and reads the manifest from (kube.py; None:
    # the image's working directory holds it).
    manifest_configmap: str | None = None
    parallelism: int | None = None  # the most stage pods of a run at once (None: no limit)
    dag_hash: str = ""  # the build's: each stage refuses a manifest of another build
    # The task that records a rejection has its approval stage's deadline: every approval
    # stage is implied, so all of them take the pipeline's `timeout`, or none has one.
    rejection_timed: bool = False

    def all_tasks(self) -> list[DagTask]:
        """Every stage's task, those inside groups included (not the group tasks)."""
        grouped = {g.name for g in self.groups}
        inner = [t for g in self.groups for t in g.tasks]
        return [t for t in self.tasks if t.name not in grouped] + inner
