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
from pipec.nodes import Span

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
        else:
            found += _unused_by_bash(options, span)
        return Lowered(model, span, found)

    def emit(self, lowered: Lowered) -> dict[str, str]:
        dag: AirflowDag = lowered.model
        from pipec.backends import kube

        return {dag.file_name: render(__name__, "dag.py.j2", dag=dag, kube=kube)}

    def measure(self, lowered: Lowered, files: dict[str, str],
                options: BuildOptions) -> list[Diagnostic]:
        from pipec.backends.kube import manifest_fits
        from pipec.rules.budget001_target_size import budget001

        dag: AirflowDag = lowered.model
        found = manifest_fits(lowered.span, options) if dag.manifest_configmap else []
        size = dag.task_count
        if size > options.airflow_max_tasks:
            found.append(budget001(lowered.span, "airflow", size, options.airflow_max_tasks))
        return found


def _unused_by_bash(options: BuildOptions, span: Span) -> list[Diagnostic]:
    """The pod settings of `[tool.pipec]`, said rather than ignored: Bash tasks run in
    no pod. The claim is not needed (the workers' folder already holds the run store
    and the registries), nor is the manifest's ConfigMap (the DAG reads the manifest
    beside it); the service account is not applied, so the stages run with the
    workers' own credentials, which the platform team may not expect."""
    found = []
    if options.state_volume:
        found.append(Diagnostic(
            "BUILD002", Severity.NOTE, "`[tool.pipec] state_volume` is not used by "
            "Airflow's BashOperator: stages keep their state beside the .pipe file on "
            "the workers", span,
            "build with `--airflow-operator kubernetes` to mount the claim in each pod"))
    if options.service_account:
        found.append(Diagnostic(
            "BUILD002", Severity.NOTE, "`[tool.pipec] service_account` is not used by "
            "Airflow's BashOperator: stages run on the workers with the workers' own "
            "credentials", span,
            "build with `--airflow-operator kubernetes` to run each pod as that account"))
    if options.manifest_configmap:
        found.append(Diagnostic(
            "BUILD002", Severity.NOTE, "`[tool.pipec] manifest_configmap` is not used by "
            "Airflow's BashOperator: stages read the `lineage.json` written beside the DAG "
            "file", span,
            "build with `--airflow-operator kubernetes` to mount the ConfigMap in each pod"))
    return found
