"""The Argo target: one `<pipeline>.yaml` for Argo Workflows v4 (and Argo Events)."""

from __future__ import annotations

import json

from pipec.backends.argo.documents import documents
from pipec.backends.argo.lower import lower_workflow
from pipec.backends.argo.model import ArgoWorkflow
from pipec.backends.argo.yamldump import dump_all
from pipec.backends.base import BuildOptions, Lowered, pipeline_span
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.nodes import Span


class ArgoBackend:
    name = "argo"

    def lower(self, program: Program, options: BuildOptions) -> Lowered:
        from pipec.backends.plan import plan_of

        model = lower_workflow(plan_of(program), options)
        span = pipeline_span(program)
        return Lowered(model, span, _diagnostics(model, span))

    def emit(self, lowered: Lowered) -> dict[str, str]:
        wf: ArgoWorkflow = lowered.model
        return {wf.file_name: dump_all(documents(wf))}

    def measure(self, lowered: Lowered, files: dict[str, str],
                options: BuildOptions) -> list[Diagnostic]:
        from pipec.rules.budget001_target_size import budget001

        size = max(map(document_bytes, documents(lowered.model)), default=0)
        if size <= options.argo_max_bytes:
            return []
        return [budget001(lowered.span, "argo", size, options.argo_max_bytes)]


def document_bytes(document: dict) -> int:
    """Size as stored (compact JSON) or as written (YAML), whichever is larger."""
    stored = len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())
    return max(stored, len(dump_all([document]).encode()))


def _diagnostics(wf: ArgoWorkflow, span: Span) -> list[Diagnostic]:
    found = []
    if not wf.image:
        found.append(error("BUILD001", "Argo runs every stage in a container, but the "
                           "pipeline declares no `image`", span,
                           "add `image \"REGISTRY/NAME@sha256:DIGEST\"` to the pipeline"))
    elif "{{" in wf.image:
        found.append(error("BUILD001", "the `image` contains `{{`, which Argo would read as "
                           "a template expression", span, "use a plain image reference"))
    names = [t.name for t in wf.tasks]
    if len(set(names)) != len(names):  # only on a 40-bit hash collision (naming.py)
        found.append(error("BUILD001", "two stages map to the same Argo task name", span,
                           "rename one of the stages"))
    return found
