"""The Argo target: one `<pipeline>.yaml` for Argo Workflows v4 (and Argo Events)."""

from __future__ import annotations

import json

from pipec.backends.argo.documents import documents
from pipec.backends.argo.lower import lower_workflow
from pipec.backends.argo.model import ArgoWorkflow
from pipec.backends.argo.yamldump import dump_all
from pipec.backends.base import BuildOptions, Lowered, pipeline_span
from pipec.backends.kube import ANNOTATIONS_MAX as ANNOTATIONS_MAX  # Kubernetes' own
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.nodes import Span

# The argo CLI's command that creates each named kind, besides kubectl's own (a Sensor
# has none): the ways to install it that add no `kubectl apply` annotation.
ARGO_CREATE = {"CronWorkflow": "argo cron create", "WorkflowTemplate": "argo template create"}


class ArgoBackend:
    name = "argo"

    def lower(self, program: Program, options: BuildOptions) -> Lowered:
        from pipec.backends.kube import diagnostics, shared_state
        from pipec.backends.plan import plan_of

        plan = plan_of(program, options.manifest)
        model = lower_workflow(plan, options)
        span = pipeline_span(program)
        found = _diagnostics(model, span) + diagnostics(program, plan, "Argo") \
            + shared_state(program, options.state_volume, "Argo")
        return Lowered(model, span, found)

    def emit(self, lowered: Lowered) -> dict[str, str]:
        wf: ArgoWorkflow = lowered.model
        # One document at a time, so each one's written size is known (see `measure`).
        return {wf.file_name: "".join(dump_all([d]) for d in documents(wf))}

    def measure(self, lowered: Lowered, files: dict[str, str],
                options: BuildOptions) -> list[Diagnostic]:
        from pipec.backends.kube import manifest_fits
        from pipec.rules.budget001_target_size import budget001

        wf: ArgoWorkflow = lowered.model
        found = manifest_fits(lowered.span, options)
        docs = documents(wf)
        written = files.get(wf.file_name)
        if docs and written is not None:
            # The workflow comes first; the others (a Sensor) are small: re-dumping them
            # is cheap, and the workflow is what is left of the file.
            rest = [len(dump_all([d]).encode()) for d in docs[1:]]
            sizes = [max(stored_bytes(docs[0]), len(written.encode()) - sum(rest))]
            sizes += [max(stored_bytes(d), n) for d, n in zip(docs[1:], rest, strict=True)]
        else:
            sizes = [document_bytes(d) for d in docs]
        size = max(sizes, default=0)
        if size > options.argo_max_bytes:
            found.append(budget001(lowered.span, "argo", size, options.argo_max_bytes))
            return found
        return found + _apply_notes(lowered.span, docs, wf.file_name)


def _apply_notes(span: Span, docs: list[dict], file_name: str) -> list[Diagnostic]:
    """BUILD002 for each document that fits etcd but not client-side `kubectl apply`."""
    from pipec.backends.kube import client_apply_note

    return [note for d in docs
            for note in client_apply_note(span, d, file_name, ARGO_CREATE.get(d.get("kind")))]


def stored_bytes(document: dict) -> int:
    """Size as stored by Kubernetes (compact JSON)."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())


def document_bytes(document: dict) -> int:
    """Size as stored (compact JSON) or as written (YAML), whichever is larger."""
    return max(stored_bytes(document), len(dump_all([document]).encode()))


def _diagnostics(wf: ArgoWorkflow, span: Span) -> list[Diagnostic]:
    found = []
    if not wf.image:
        found.append(error("BUILD001", "Argo runs every stage in a container, but the "
                           "pipeline declares no `image`", span,
                           "add `image \"REGISTRY/NAME@sha256:DIGEST\"` to the pipeline"))
    elif "{{" in wf.image:
        found.append(error("BUILD001", "the `image` contains `{{`, which Argo would read as "
                           "a template expression", span, "use a plain image reference"))
    annotations = sum(len(k.encode()) + len(v.encode()) for k, v in wf.annotations)
    if annotations > ANNOTATIONS_MAX:  # a pipeline name or owner hundreds of KiB long
        found.append(error("BUILD001", f"the workflow's annotations take {annotations:,} "
                           f"bytes, and Kubernetes refuses more than {ANNOTATIONS_MAX:,}",
                           span, "shorten the pipeline's name and owner"))
    names = [t.name for t in wf.tasks] + [t.name for g in wf.groups for t in g.tasks]
    if not names:  # Argo's validation: "templates.pipeline must have at least one task"
        found.append(error("BUILD001", "the pipeline has no stages, and Argo refuses a DAG "
                           "with no tasks", span, "declare the pipeline's stages"))
    if len(set(names)) != len(names):  # only on a 40-bit hash collision (naming.py)
        found.append(error("BUILD001", "two stages map to the same Argo task name", span,
                           "rename one of the stages"))
    return found
