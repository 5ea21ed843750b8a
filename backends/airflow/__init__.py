"""The Airflow target: one `<pipeline>.py` DAG file for Airflow 3.1 and later."""

from __future__ import annotations

from pipec.backends.airflow.lower import diagnostics, lower_dag
from pipec.backends.airflow.model import AirflowDag
from pipec.backends.base import (
    BuildOptions,
    Lowered,
    image_span,
    pipeline_span,
    resources_span,
)
from pipec.backends.kube import diagnostics as pod_diagnostics
from pipec.backends.kube import shared_state
from pipec.backends.plan import plan_of
from pipec.backends.pyrender import render
from pipec.diagnostics import Diagnostic, Severity
from pipec.model import Program

OPERATORS = ("bash", "kubernetes")


class AirflowBackend:
    name = "airflow"

    def lower(self, program: Program, options: BuildOptions) -> Lowered:
        plan = plan_of(program, options.manifest)
        model = lower_dag(plan, options)
        span = pipeline_span(program)
        found = diagnostics(plan, model, span, resources_span(program), image_span(program))
        if options.airflow_operator == "kubernetes":
            found += pod_diagnostics(program, plan, "the KubernetesPodOperator")
            found += shared_state(program, options.state_volume, "The KubernetesPodOperator")
        elif options.state_volume:
            # Said rather than ignored: the claim is for pods; Bash tasks share the
            # workers' folder, where the run store and the registries already are.
            found.append(Diagnostic(
                "BUILD002", Severity.NOTE, "`[tool.pipec] state_volume` is not used by "
                "Airflow's BashOperator: stages keep their state beside the .pipe file on "
                "the workers", span,
                "build with `--airflow-operator kubernetes` to mount the claim in each pod"))
        return Lowered(model, span, found)

    def emit(self, lowered: Lowered) -> dict[str, str]:
        dag: AirflowDag = lowered.model
        from pipec.backends import kube

        return {dag.file_name: render(__name__, "dag.py.j2", dag=dag, kube=kube)}

    def measure(self, lowered: Lowered, files: dict[str, str],
                options: BuildOptions) -> list[Diagnostic]:
        from pipec.rules.budget001_target_size import budget001

        dag: AirflowDag = lowered.model
        size = dag.task_count
        if size <= options.airflow_max_tasks:
            return []
        return [budget001(lowered.span, "airflow", size, options.airflow_max_tasks)]
