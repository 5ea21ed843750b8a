"""The Airflow target model: one DAG, plain data the template renders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TaskDefaults:
    """The settings most stage tasks share: the DAG's `default_args`. A task lists only
    what differs from them (`StageTask.overrides`)."""

    owner: str
    retries: int
    timeout_s: float | None


@dataclass(frozen=True)
class StageTask:
    """A task that runs one stage through the runtime entry point."""

    task_id: str
    stage_id: str
    owner: str
    retries: int
    timeout_s: float | None
    doc_md: str | None
    pod_name: str
    resources: dict[str, str]  # pod requests
    limits: dict[str, str]  # pod limits (`gpu`: Kubernetes takes it only as a limit)
    upstream: tuple[str, ...]  # task ids

    is_approval = False

    def row(self, operator: str) -> tuple[Any, ...]:
        """The task's entry in the DAG file's `TASKS` table."""
        if operator == "kubernetes":
            return (self.task_id, self.stage_id, self.pod_name, self.upstream)
        return (self.task_id, self.stage_id, self.upstream)

    def overrides(self, defaults: TaskDefaults, operator: str) -> dict[str, Any]:
        """What differs from `defaults`, as keyword arguments of the file's `stage_task`."""
        found: dict[str, Any] = {}
        if self.owner != defaults.owner:
            found["owner"] = self.owner
        if self.retries != defaults.retries:
            found["retries"] = self.retries
        if self.timeout_s != defaults.timeout_s:
            found["timeout_s"] = self.timeout_s
        if self.doc_md is not None:
            found["doc_md"] = self.doc_md
        if operator == "kubernetes" and self.resources:
            found["resources"] = self.resources
        if operator == "kubernetes" and self.limits:
            found["limits"] = self.limits
        return found


@dataclass(frozen=True)
class ApprovalTask:
    """The human approval between register and deploy (HITL ApprovalOperator)."""

    task_id: str
    stage_id: str
    owner: str
    subject: str
    body: str
    upstream: tuple[str, ...]  # task ids
    # The register stage's task, whose XCom says whether the registry already holds the
    # approval (`pipec stage run --approval-given`): then nobody is asked.
    register_task_id: str

    is_approval = True

    def row(self, operator: str) -> tuple[Any, ...]:
        if operator == "kubernetes":
            return (self.task_id, self.stage_id, None, self.upstream)
        return (self.task_id, self.stage_id, self.upstream)

    def spec(self) -> dict[str, Any]:
        return {"owner": self.owner, "subject": self.subject, "body": self.body,
                "register_task_id": self.register_task_id}


@dataclass(frozen=True)
class RejectionTask:
    """Records a Reject at an approval's human step. The HITL ApprovalOperator skips the
    approval stage's task on Reject, so nothing after it would run; this task follows
    that stage's task with trigger rule `none_failed` (a failure before it fails it, and
    the DAG run) and, when the human step rejected, runs `pipec stage run --rejected-by
    REVIEWER`, which ends the run blocked, with its record."""

    task_id: str
    stage_id: str  # the approval stage
    human_task_id: str  # its human step, whose result names the reviewer
    after: str  # the approval stage's task id
    pod_name: str

    def row(self, operator: str) -> tuple[Any, ...]:
        """The task's entry in the DAG file's `REJECTIONS` table (keyed by task id)."""
        if operator == "kubernetes":
            return (self.stage_id, self.human_task_id, self.after, self.pod_name)
        return (self.stage_id, self.human_task_id, self.after)


@dataclass(frozen=True)
class Schedule:
    """`none` (manual), `cron`, or `assets` (any of `assets` updated triggers a run)."""

    kind: str
    cron: str | None = None
    assets: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class AirflowDag:
    dag_id: str
    file_name: str
    operator: str  # bash | kubernetes
    image: str | None
    manifest_name: str
    retry_delay_s: int
    schedule: Schedule
    tags: tuple[str, ...]
    doc_md: str
    pipec_version: str
    defaults: TaskDefaults
    tasks: tuple[StageTask | ApprovalTask, ...]  # every task, in topological order
    rejections: tuple[RejectionTask, ...] = ()  # one per approval, after its stage's task
    # `retrain triggered on drift(COL) OP V`: {"column", "op", "value"}; the DAG then
    # starts with DRIFT_GATE, which ends a run whose drift events do not cross V.
    drift: dict[str, Any] | None = None
    # `[tool.pipec] state_volume` (KubernetesPodOperator only): the claim every pod mounts.
    state_volume: str | None = None
    # `[tool.pipec] service_account` (KubernetesPodOperator only): what every pod runs as.
    service_account: str | None = None
    # `[tool.pipec] manifest_configmap` (KubernetesPodOperator only): the ConfigMap every
    # pod mounts and reads the manifest from.
    manifest_configmap: str | None = None
    # The build's: each stage refuses a manifest of another build.
    dag_hash: str = ""
    # The pipeline's `description`: the DAG list shows it beside the DAG's name.
    description: str | None = None
    # `[tool.pipec] max_parallel_stages`: the DAG's `max_active_tasks` (None: Airflow's).
    max_active_tasks: int | None = None

    @property
    def task_count(self) -> int:
        """Every task Airflow loads: stages, human steps, their Reject tasks, the gate."""
        return len(self.tasks) + len(self.rejections) + (self.drift is not None)

    @property
    def stage_tasks(self) -> tuple[StageTask, ...]:
        return tuple(t for t in self.tasks if isinstance(t, StageTask))

    @property
    def approvals(self) -> tuple[ApprovalTask, ...]:
        return tuple(t for t in self.tasks if isinstance(t, ApprovalTask))

    def overrides(self) -> list[tuple[str, dict[str, Any]]]:
        """(task id, what differs from `defaults`) for every stage task that differs."""
        found = [(t.task_id, t.overrides(self.defaults, self.operator))
                 for t in self.stage_tasks]
        return [(task, settings) for task, settings in found if settings]
