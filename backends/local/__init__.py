"""The local target: `run_<pipeline>.py`, a standalone script that runs every stage in
topological order through the runtime entry point (`python -m pipec stage run`)."""

from __future__ import annotations

from dataclasses import dataclass

from pipec.backends.base import BuildOptions, Lowered, pipeline_span
from pipec.backends.plan import RETRY_DELAY_S, plan_of
from pipec.backends.pyrender import render
from pipec.commands.stage import RUN_ID
from pipec.diagnostics import Diagnostic
from pipec.model import Program


@dataclass(frozen=True)
class LocalScript:
    pipeline: str
    file_name: str
    manifest_name: str
    retry_delay_s: int
    pipec_version: str
    run_id_pattern: str  # what `pipec stage run` takes as a run id (checked up front)
    # (stage id, owner, retries, timeout seconds or None, is approval), topological order
    stages: tuple[tuple[str, str | None, int, float | None, bool], ...]
    edges: tuple[tuple[str, str], ...]
    schedule: dict


class LocalBackend:
    name = "local"

    def lower(self, program: Program, options: BuildOptions) -> Lowered:
        plan = plan_of(program, options.manifest)
        model = LocalScript(
            pipeline=plan.name, file_name=f"run_{plan.name}.py",
            manifest_name=options.manifest_name, retry_delay_s=RETRY_DELAY_S,
            pipec_version=plan.pipec_version, run_id_pattern=RUN_ID.pattern,
            stages=tuple((s.id, s.owner, s.retries, s.timeout_s, s.is_approval)
                         for s in plan.stages),
            edges=plan.edges, schedule=plan.retrain,
        )
        return Lowered(model, pipeline_span(program))

    def emit(self, lowered: Lowered) -> dict[str, str]:
        script: LocalScript = lowered.model
        return {script.file_name: render(__name__, "run.py.j2", script=script)}

    def measure(self, lowered: Lowered, files: dict[str, str],
                options: BuildOptions) -> list[Diagnostic]:
        return []
