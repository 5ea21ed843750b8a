"""The Argo build's dag hash on the runs, not only on the CronWorkflow or WorkflowTemplate:
a run that cron or the Sensor starts does not inherit its template's own annotations, so
`workflowMetadata.annotations` carries the `pipec.dev/dag-hash` annotation to every run,
which then says which build it ran."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .backend_argo import ARGO_KINDS, dag_errors, schema_errors
from .backend_helpers import EXAMPLES, build, variant

DAG_HASH = "pipec.dev/dag-hash"


def _built(folder: Path, example: str, retrain: str) -> tuple[str, dict, str]:
    """The Argo YAML of `example` retraining with `retrain`, its workflow document, and
    the dag hash of the build's manifest."""
    path = variant(EXAMPLES / example / f"{example}.pipe", folder / "src", "hashed", retrain)
    files = build(path, "argo", folder / "out").files
    (text,) = [t for n, t in files.items() if n.endswith(".yaml")]
    (document,) = [d for d in yaml.safe_load_all(text) if d["kind"] in ARGO_KINDS]
    return text, document, json.loads(files["lineage.json"])["dag_hash"]


@pytest.mark.parametrize(("example", "retrain", "kind"), [
    ("fraud", "manual", "Workflow"),
    ("fraud", 'scheduled "0 3 * * *"', "CronWorkflow"),
    ("fraud", "triggered on new_snapshot", "WorkflowTemplate"),
    ("flights", 'scheduled "0 3 * * *"', "CronWorkflow"),  # with a description
])
def test_every_run_carries_the_dag_hash(tmp_path: Path, example: str, retrain: str,
                                        kind: str) -> None:
    """The run's annotations name the same build as the template's, valid against Argo's
    schema; the template keeps its own (and the lineage summary, which runs do not
    copy)."""
    _, document, dag_hash = _built(tmp_path, example, retrain)
    assert document["kind"] == kind
    assert schema_errors(document) == [] and dag_errors(document) == []
    spec = document["spec"].get("workflowSpec", document["spec"])
    run_annotations = spec["workflowMetadata"]["annotations"]
    assert run_annotations[DAG_HASH] == document["metadata"]["annotations"][DAG_HASH] \
        == dag_hash
    assert "pipec.dev/lineage" not in run_annotations
    assert "pipec.dev/lineage" in document["metadata"]["annotations"]


def test_the_run_annotations_are_the_same_bytes_each_build(tmp_path: Path) -> None:
    """Built twice into two folders: the same YAML, byte for byte."""
    first, _, _ = _built(tmp_path / "a", "flights", 'scheduled "0 3 * * *"')
    second, _, _ = _built(tmp_path / "b", "flights", 'scheduled "0 3 * * *"')
    assert first == second
