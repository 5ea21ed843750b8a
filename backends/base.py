"""The backend interface: `name`, `lower(program, options)`, `emit(model)`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pipec.diagnostics import Diagnostic
from pipec.model import Program
from pipec.nodes import Span


@dataclass(frozen=True)
class BuildOptions:
    """What `pipec build` passes to every backend (each reads what it needs)."""

    manifest_name: str = "lineage.json"
    airflow_operator: str = "bash"  # bash | kubernetes
    argo_max_bytes: int = 1_000_000
    airflow_max_tasks: int = 5_000
    # `[tool.pipec] state_volume`: the claim pods mount for the run store and registries.
    state_volume: str | None = None
    # `[tool.pipec] service_account` (the stage pods') and `sensor_service_account` (the
    # Argo Events Sensor's, which creates the retrain Workflows).
    service_account: str | None = None
    sensor_service_account: str | None = None
    # `[tool.pipec] manifest_configmap`: the ConfigMap holding `lineage.json` that the
    # stage pods mount (kube.py); None: they read it from the image's working directory.
    manifest_configmap: str | None = None
    # `[tool.pipec] max_parallel_stages`: Argo's `parallelism`, Airflow's `max_active_tasks`.
    max_parallel_stages: int | None = None
    # The lineage manifest `pipec build` writes beside the target files, built once per
    # build: backends lower from it (`plan.plan_of`) rather than building their own.
    manifest: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass
class Lowered:
    """A target model plus the diagnostics met while lowering (what the target cannot
    express). `model` is the backend's own dataclass tree."""

    model: Any
    span: Span
    diagnostics: list[Diagnostic] = field(default_factory=list)


@runtime_checkable
class Backend(Protocol):
    """A target. `lower` never raises for a user's program: what the target cannot
    express becomes a diagnostic in `Lowered.diagnostics`."""

    name: str

    def lower(self, program: Program, options: BuildOptions) -> Lowered: ...

    def emit(self, lowered: Lowered) -> dict[str, str]:
        """Relative POSIX path -> file text. Must be deterministic."""
        ...

    def measure(self, lowered: Lowered, files: dict[str, str],
                options: BuildOptions) -> list[Diagnostic]:
        """Diagnostics about the emitted files (size budgets); often none."""
        ...


def pipeline_span(program: Program) -> Span:
    """Where build diagnostics point: the pipeline's header, else the file's start."""
    if program.pipeline is not None:
        return program.pipeline.header
    return Span(program.display, 1, 1, 1, 1)


def resources_span(program: Program) -> Span | None:
    """The first `resources` setting of a train stage: what BUILD002 points at."""
    for block in program.blocks("train"):
        setting = block.setting("resources")
        if setting is not None:
            return setting.span
    return None


def image_span(program: Program) -> Span | None:
    """The pipeline's `image` setting: what a BUILD002 note on it points at."""
    if program.pipeline is None:
        return None
    setting = program.pipeline.setting("image")
    return setting.span if setting is not None else None
