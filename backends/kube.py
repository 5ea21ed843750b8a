"""A train stage's `resources { ... }` as Kubernetes resource requirements, shared by
the targets that run stages in pods (Argo, Airflow's KubernetesPodOperator).

`cpu`, `memory` and `ephemeral-storage` are requests. `gpu` is the extended resource
`nvidia.com/gpu`; it, other extended resources (`"example.com/fpga"`) and huge pages
are limits, because Kubernetes refuses a request for them without a limit (and a limit
alone requests the same amount). Values must be Kubernetes quantities (`4`, `0.5`,
`"500m"`, `"16Gi"`; a size literal such as `2GiB` is already a number of bytes): any
other value would pass the build and be refused by the API server only when the
stage's pod is created, hours into a run, so it is a BUILD001 error. A key that names
no Kubernetes resource cannot be requested at all: it is left out, with a BUILD002 note.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from pipec.backends.base import BuildOptions, pipeline_span
from pipec.backends.plan import Plan
from pipec.diagnostics import Diagnostic, Severity, error
from pipec.model import Program
from pipec.nodes import Span
from pipec.stdlib.runtime.state import STATE_DIR_ENV as STATE_DIR_ENV  # for the targets

# `[tool.pipec] state_volume`: every stage pod mounts the claim here, and STATE_DIR_ENV
# (read by the runtime) puts the run store and the local registries on it, so the stages
# of a run, each in its own pod, share them.
STATE_VOLUME = "pipec-state"
STATE_MOUNT_PATH = "/var/lib/pipec"

# `[tool.pipec] manifest_configmap`: every stage pod mounts the ConfigMap read-only here
# and reads the build's manifest from it (its key `lineage.json`): the image cannot hold
# the manifest of its own build, which names the image's digest.
MANIFEST_VOLUME = "pipec-manifest"
MANIFEST_MOUNT_PATH = "/etc/pipec"
# Kubernetes refuses a ConfigMap whose values add up to more than 1 MiB (`MaxSecretSize`
# in ValidateConfigMap, k8s.io/kubernetes pkg/apis/core/validation/validation.go).
CONFIGMAP_MAX_BYTES = 1024 * 1024
# Kubernetes refuses an object whose annotations (keys and values) add up to more than
# 256 KiB (`TotalAnnotationSizeLimitB` in k8s.io/apimachinery's ValidateAnnotations).
ANNOTATIONS_MAX = 256 * 1024
# Client-side `kubectl apply` copies the whole object, as JSON, into this annotation, so
# an object past ANNOTATIONS_MAX that etcd would hold cannot be applied that way
# ("metadata.annotations: Too long: must have at most 262144 bytes"); server-side apply
# and `kubectl create` add no such copy (https://github.com/kubernetes/kubectl/issues/712).
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Go's encoding/json, which kubectl encodes that copy with, escapes these as `\u003c`...
_GO_JSON_ESCAPES = {ord(c): f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"}

GPU = "nvidia.com/gpu"
REQUESTS = frozenset({"cpu", "memory", "ephemeral-storage"})
# k8s.io/apimachinery/pkg/api/resource: a decimal with an optional binary, decimal or
# exponent suffix (the sign is left out: no resource takes a negative amount).
_QUANTITY = re.compile(r"\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
                       r"(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))?")
# Names without a domain that Kubernetes knows besides REQUESTS; others need a domain.
_HUGEPAGES = re.compile(r"hugepages-[A-Za-z0-9.]+")
_QUALIFIED = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


def quantity(value: Any) -> str | None:
    """`value` as a Kubernetes quantity, or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    text = str(value)
    return text if _QUANTITY.fullmatch(text) else None


def resource_name(key: str) -> str | None:
    """The Kubernetes resource name for a `resources` key, or None when there is none."""
    if key == "gpu":
        return GPU
    if key in REQUESTS or _HUGEPAGES.fullmatch(key) or _QUALIFIED.fullmatch(key):
        return key
    return None


def requirements(resources: dict[str, Any] | tuple[tuple[str, Any], ...]
                 ) -> dict[str, dict[str, str]]:
    """`{"requests": {...}, "limits": {...}}` (each only when not empty), keys sorted;
    keys that name no Kubernetes resource and values that are no quantity left out."""
    found: dict[str, dict[str, str]] = {"requests": {}, "limits": {}}
    for key, value in sorted(dict(resources).items()):
        name, amount = resource_name(str(key)), quantity(value)
        if name is not None and amount is not None:
            found["requests" if name in REQUESTS else "limits"][name] = amount
    return {part: entries for part, entries in found.items() if entries}


def diagnostics(program: Program, plan: Plan, target: str) -> list[Diagnostic]:
    """At each train stage's `resources`: BUILD001 for a value Kubernetes would refuse,
    BUILD002 for a key that names no resource (left out)."""
    found = []
    for stage in plan.stages:
        span = _resources_span(program, stage.id)
        for key, value in sorted(stage.resources.items()):
            if resource_name(str(key)) is None:
                found.append(Diagnostic(
                    "BUILD002", Severity.NOTE, f"`{key}` in `resources` is not a Kubernetes "
                    f"resource name: {target} does not request it for the stage's pod", span,
                    "use `cpu`, `memory`, `gpu`, or a resource name such as "
                    "\"ephemeral-storage\" or \"example.com/fpga\""))
            elif quantity(value) is None:
                shown = json.dumps(value, ensure_ascii=False, default=str)
                found.append(error(
                    "BUILD001", f"`{key}: {shown}` in `resources` is not a Kubernetes "
                    f"quantity: {target} would ask for a pod that Kubernetes refuses", span,
                    "write a number, a size such as 16GiB, or a quantity such as "
                    "\"500m\" or \"16Gi\""))
    return found


def shared_state(program: Program, state_volume: str | None, target: str) -> list[Diagnostic]:
    """BUILD003 when stage pods would share no run store: each pod starts with an empty
    one, so the second stage finds no outputs of the first (and is retried in vain), and
    a `registry local` write is lost with its pod."""
    if state_volume:
        return []
    return [Diagnostic(
        "BUILD003", Severity.WARNING, f"{target} runs each stage in a pod of its own, but no "
        "`[tool.pipec] state_volume` names a claim for the run store they share: the "
        "second stage would find no outputs of the first, and a `registry local` would be "
        "lost with its pod", pipeline_span(program),
        'name a PersistentVolumeClaim in pyproject.toml: `[tool.pipec] state_volume = '
        '"CLAIM"`')]


def _resources_span(program: Program, stage_id: str) -> Span:
    stage = program.stages.get(stage_id)
    setting = stage.block.setting("resources") if stage and stage.block else None
    return setting.span if setting is not None else pipeline_span(program)


def manifest_path(manifest_name: str, configmap: str | None) -> str:
    """Where a stage pod reads the build's manifest: in the folder the ConfigMap is
    mounted at, else relative to the image's working directory."""
    return f"{MANIFEST_MOUNT_PATH}/{manifest_name}" if configmap else manifest_name


def configmap_command(configmap: str, manifest_name: str, path: str) -> str:
    """The command that makes the ConfigMap the stage pods mount from the manifest at
    `path`, under the key the mount reads."""
    return shlex.join(["kubectl", "create", "configmap", configmap,
                       f"--from-file={manifest_name}={path}"])


def manifest_fits(span: Span, options: BuildOptions) -> list[Diagnostic]:
    """BUDGET001 when `manifest_configmap` is set and the manifest is larger than a
    ConfigMap may be: `kubectl create configmap` would be refused, and no stage could
    start."""
    from pipec.manifest import dump_manifest

    if not options.manifest_configmap or options.manifest is None:
        return []
    size = len(dump_manifest(options.manifest).encode())
    if size <= CONFIGMAP_MAX_BYTES:
        return []
    return [error(
        "BUDGET001", f"the build's `{options.manifest_name}` is {size:,} bytes, over a "
        f"ConfigMap's limit of {CONFIGMAP_MAX_BYTES:,} (1 MiB) by "
        f"{size - CONFIGMAP_MAX_BYTES:,}: Kubernetes would refuse the ConfigMap "
        f"`{options.manifest_configmap}` (`[tool.pipec] manifest_configmap`) that the stage "
        "pods read it from", span,
        "split the pipeline into smaller ones (long descriptions and source queries count "
        "too)")]


def applied_annotation_bytes(document: dict[str, Any]) -> int:
    """The size of `document`'s annotations once client-side `kubectl apply` has added its
    LAST_APPLIED copy of the object: compact JSON as Go writes it (with the object's own
    annotations, `{}` when none), and a newline."""
    metadata = document.get("metadata") or {}
    own = dict(metadata.get("annotations") or {})
    copied = {**document, "metadata": {**metadata, "annotations": own}}
    text = json.dumps(copied, separators=(",", ":"), ensure_ascii=False)
    value = text.translate(_GO_JSON_ESCAPES) + "\n"
    return sum(len(k.encode()) + len(str(v).encode()) for k, v in own.items()) \
        + len(LAST_APPLIED) + len(value.encode())


def client_apply_note(span: Span, document: dict[str, Any], file_name: str,
                      create_command: str | None = None) -> list[Diagnostic]:
    """A BUILD002 note when a named object is too large for client-side `kubectl apply`
    (see LAST_APPLIED), with the commands that install it all the same: the build is
    fine, only that way of installing it is not. An object with `generateName` (an Argo
    Workflow) is left out: `kubectl apply` refuses it whatever its size."""
    metadata = document.get("metadata") or {}
    if "name" not in metadata:
        return []
    size = applied_annotation_bytes(document)
    if size <= ANNOTATIONS_MAX:
        return []
    kind, name = document.get("kind", "object"), metadata["name"]
    commands = [f"`kubectl apply --server-side -f {file_name}`", f"`kubectl create -f {file_name}`"]
    if create_command:
        commands.append(f"`{create_command} {file_name}`")
    return [Diagnostic(
        "BUILD002", Severity.NOTE, f"the {kind} `{name}` is too large for a plain `kubectl "
        f"apply`: its copy in the `{LAST_APPLIED}` annotation would bring its annotations to "
        f"{size:,} bytes, over the {ANNOTATIONS_MAX:,} Kubernetes allows (\"metadata."
        "annotations: Too long\")", span,
        f"install it with {', '.join(commands[:-1])} or {commands[-1]}")]
