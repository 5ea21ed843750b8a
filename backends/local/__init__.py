"""The local target: `run_<pipeline>.py`, a standalone script that runs every stage in
topological order through the runtime entry point (`python -m pipec stage run`)."""

from __future__ import annotations

from dataclasses import dataclass

from pipec.backends.base import (
    BuildOptions,
    Lowered,
    image_span,
    pipeline_span,
    resources_span,
)
from pipec.backends.plan import RETRY_DELAY_S, Plan, plan_of
from pipec.backends.pyrender import render
from pipec.commands.stage import RUN_ID
from pipec.diagnostics import Diagnostic, Severity
from pipec.model import Program
from pipec.nodes import Span


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
        span = pipeline_span(program)
        return Lowered(model, span,
                       [*_ignored(program, plan, span), *_no_pods(options, span)])

    def emit(self, lowered: Lowered) -> dict[str, str]:
        script: LocalScript = lowered.model
        return {script.file_name: render(__name__, "run.py.j2", script=script)}

    def measure(self, lowered: Lowered, files: dict[str, str],
                options: BuildOptions) -> list[Diagnostic]:
        return []


def _ignored(program: Program, plan: Plan, span: Span) -> list[Diagnostic]:
    """What the script runs without, said as Airflow's BashOperator says it: every
    stage is a process on this machine, in the Python environment the script runs in.
    (`resources { cpu: N }` still sets the model's thread count, on every target.)"""
    found = []
    if any(stage.resources for stage in plan.stages):
        found.append(Diagnostic(
            "BUILD002", Severity.NOTE, "`resources` is not requested by the local script: "
            "each stage runs as a process on this machine, as it is (`cpu` still sets the "
            "model's thread count)", resources_span(program) or span,
            "build for Argo or `--airflow-operator kubernetes` to request them for a pod"))
    if plan.image:
        found.append(Diagnostic(
            "BUILD002", Severity.NOTE, "the pipeline's `image` is not used by the local "
            "script: stages run in the Python environment that runs the script",
            image_span(program) or span,
            "build for Argo or `--airflow-operator kubernetes` to run every stage in the image"))
    return found


def _no_pods(options: BuildOptions, span: Span) -> list[Diagnostic]:
    """The pod settings of `[tool.pipec]`, said rather than ignored, as Airflow's
    BashOperator says them: the script starts no pod, so the run store and the
    registries stay in the project folder and the stages run with the credentials of
    whoever runs the script."""
    unused = (("state_volume", options.state_volume, "the run store and the registries "
               "stay in the project folder"),
              ("service_account", options.service_account, "stages run with the "
               "credentials of whoever runs the script"),
              ("manifest_configmap", options.manifest_configmap, "the stages read "
               "the `lineage.json` written beside the script"))
    return [Diagnostic(
        "BUILD002", Severity.NOTE, f"`[tool.pipec] {name}` is not used by the local script: "
        f"it runs every stage as a process on this machine, and {effect}", span,
        "build for Argo or `--airflow-operator kubernetes` to run the stages in pods")
        for name, value, effect in unused if value]
