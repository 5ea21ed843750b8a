"""What pipec's runtime cannot do on any target, reported by `pipec build` whatever the
target: every target (the local script, Airflow, Argo) runs its stages through the same
runtime, so a setting the runtime lacks fails or is ignored on all of them alike.
"""

from __future__ import annotations

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, Severity, error
from pipec.model import Program


def runtime_limits(program: Program) -> list[Diagnostic]:
    return [*_remote_registries(program), *_distributed(program), *_canaries(program)]


def _remote_registries(program: Program) -> list[Diagnostic]:
    """`registry mlflow "URI"` parses and checks, but the runtime registers only in a
    local folder: the run would fail once the model is trained."""
    found = []
    for block in program.blocks("register"):
        registry = block.first(n.Registry)
        if registry is not None and registry.kind != "local":
            found.append(error(
                "BUILD001", f"`registry {registry.kind}` is not supported by pipec's runtime, "
                f"which registers `{block.name.name}` on every target: the run would fail "
                "once the model is trained", registry.span,
                'write `registry local "DIR"` (a folder, shared through the state volume '
                "on pod targets)"))
    return found


def _distributed(program: Program) -> list[Diagnostic]:
    """`distributed { ... }` is kept in the lineage but no target starts workers."""
    found = []
    for block in program.blocks("train"):
        setting = block.setting("distributed")
        if setting is not None:
            found.append(Diagnostic(
                "BUILD002", Severity.NOTE, f"`distributed` on `{block.name.name}` is recorded "
                "in the lineage but not applied: no target starts workers, and the model "
                "trains in one process", setting.span,
                "size the stage with `resources { cpu: N }` instead"))
    return found


def _canaries(program: Program) -> list[Diagnostic]:
    """`canary P for D` is recorded (the deploy report, the registry's reason) but no
    target serves traffic: the deploy stage puts the version in production at once."""
    found = []
    for block in program.blocks("deploy"):
        canary = block.first(n.Canary)
        if canary is not None:
            written = f"canary {canary.share.text} for {canary.duration.text}"
            found.append(Diagnostic(
                "BUILD002", Severity.NOTE, f"`{written}` on `{block.name.name}` is "
                "recorded in the deploy report and the registry but not applied: no target "
                "serves traffic, and the version is promoted to production at once",
                canary.span, "run the canary in the serving system that reads the registry"))
    return found
