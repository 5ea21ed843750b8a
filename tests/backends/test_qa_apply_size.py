"""QA: an Argo document that fits etcd but not client-side `kubectl apply`.

`kubectl apply -f` (client-side) copies the whole object, as JSON, into its
`kubectl.kubernetes.io/last-applied-configuration` annotation, and Kubernetes allows an
object 262,144 bytes of annotations in all: a CronWorkflow or WorkflowTemplate between
about 256 KiB and `argo_max_bytes` passes BUDGET001 but a plain `kubectl apply` is refused
("metadata.annotations: Too long"). The build says so, with the commands that install it
all the same; a smaller document, or a Workflow (which `kubectl apply` never takes: it has
`generateName`), gets nothing.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re

import pytest
from pipec.backends.build import build_files
from pipec.backends.kube import (
    ANNOTATIONS_MAX,
    LAST_APPLIED,
    applied_annotation_bytes,
    client_apply_note,
)
from pipec.nodes import Span

from .backend_helpers import REPO

SPAN = Span("p.pipe", 1, 1, 1, 2)
RETRAINS = {"scheduled": ('retrain scheduled "0 3 * * *"', "CronWorkflow", "argo cron create"),
            "triggered": ("retrain triggered on new_snapshot", "WorkflowTemplate",
                          "argo template create"),
            "manual": ("retrain manual", "Workflow", None)}


def _program(tmp_path, stages: int, retrain: str):
    """The generated program of `stages` stages, retraining as `retrain` says, each of its
    feature views with a description of its own (a task parameter each: about 500 bytes
    of the Argo document per view)."""
    spec = importlib.util.spec_from_file_location("gen_program", REPO / "tools" / "gen_program.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.program(stages).replace("retrain manual", RETRAINS[retrain][0])
    numbers = itertools.count()
    text = re.sub(r"    point_in_time\n", lambda _: "    point_in_time\n    description "
                  f"{json.dumps(f'view {next(numbers)}: ' + 'd' * 480)}\n", text)
    path = tmp_path / "big.pipe"
    path.write_text(text, "utf-8")
    return path


def _apply_notes(result) -> list:
    return [d for d in result.diagnostics if LAST_APPLIED in d.message]


@pytest.mark.parametrize("retrain", ["scheduled", "triggered"])
def test_a_named_document_too_large_for_kubectl_apply_is_noted(tmp_path, retrain):
    """QA: a 390 KB CronWorkflow or WorkflowTemplate (within the 1,000,000-byte budget)
    built with no word about `kubectl apply`, which Kubernetes would refuse."""
    result = build_files(_program(tmp_path, 600, retrain), "argo", tmp_path / "out")
    assert result.ok
    text = result.files["generated_600.yaml"]
    assert ANNOTATIONS_MAX < len(text.encode()) < 1_000_000
    (note,) = _apply_notes(result)
    _, kind, create = RETRAINS[retrain]
    assert (note.code, note.severity.value) == ("BUILD002", "note")
    assert f"the {kind} `generated-600` is too large for a plain `kubectl apply`" in note.message
    assert "over the 262,144 Kubernetes allows" in note.message
    assert note.help == ("install it with `kubectl apply --server-side -f generated_600.yaml`, "
                         f"`kubectl create -f generated_600.yaml` or `{create} "
                         "generated_600.yaml`")


@pytest.mark.parametrize(("stages", "retrain"), [(200, "scheduled"), (600, "manual")])
def test_a_document_kubectl_apply_takes_or_never_takes_gets_no_note(tmp_path, stages, retrain):
    """A CronWorkflow of about 130 KB fits the annotation; a Workflow of any size is
    submitted (`argo submit`, `kubectl create`), never applied."""
    result = build_files(_program(tmp_path, stages, retrain), "argo", tmp_path / "out")
    assert result.ok and _apply_notes(result) == []


def test_the_copy_is_measured_as_kubectl_writes_it():
    """Go's JSON (what kubectl encodes the copy with) writes `<`, `>` and `&` as six bytes
    each, adds `"annotations":{}` to an object without any, and ends with a newline."""
    document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"},
                "data": {"k": "<&>"}}
    copied = ('{"apiVersion":"v1","data":{"k":"\\u003c\\u0026\\u003e"},"kind":"ConfigMap",'
              '"metadata":{"annotations":{},"name":"a"}}\n')
    assert applied_annotation_bytes(document) == len(LAST_APPLIED) + len(copied)
    own = {**document, "metadata": {"name": "a", "annotations": {"x": "é"}}}
    copied = copied.replace('{"annotations":{}', '{"annotations":{"x":"é"}')
    assert applied_annotation_bytes(own) == len("x") + len("é".encode()) + len(LAST_APPLIED) \
        + len(copied.encode())


def test_the_note_starts_one_byte_past_the_limit():
    def sized(extra: int) -> dict:
        document = {"kind": "CronWorkflow", "metadata": {"name": "a"}, "spec": {"x": ""}}
        filler = ANNOTATIONS_MAX - applied_annotation_bytes(document) + extra
        return {**document, "spec": {"x": "d" * filler}}

    assert applied_annotation_bytes(sized(0)) == ANNOTATIONS_MAX
    assert client_apply_note(SPAN, sized(0), "a.yaml") == []
    (note,) = client_apply_note(SPAN, sized(1), "a.yaml")
    assert f"{ANNOTATIONS_MAX + 1:,} bytes" in note.message
    assert note.help == ("install it with `kubectl apply --server-side -f a.yaml` or "
                         "`kubectl create -f a.yaml`")
    unnamed = {**sized(1), "metadata": {"generateName": "a-"}}
    assert client_apply_note(SPAN, unnamed, "a.yaml") == []
