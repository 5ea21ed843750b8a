"""The Airflow target model: one DAG, plain data the template renders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
    resources: dict[str, str]

    def spec(self, operator: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"stage_id": self.stage_id, "owner": self.owner,
                                "retries": self.retries, "timeout_s": self.timeout_s,
                                "doc_md": self.doc_md}
        if operator == "kubernetes":
            spec.update(pod_name=self.pod_name, resources=self.resources)
        return spec


@dataclass(frozen=True)
class ApprovalTask:
    """The human approval between register and deploy (HITL ApprovalOperator)."""

    task_id: str
    stage_id: str
    owner: str
    subject: str
    body: str

    def spec(self) -> dict[str, Any]:
        return {"stage_id": self.stage_id, "owner": self.owner, "subject": self.subject,
                "body": self.body}


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
    tasks: tuple[StageTask, ...]
    approvals: tuple[ApprovalTask, ...]
    edges: tuple[tuple[str, str], ...]
