"""What the file says reaches the orchestrator in a form it accepts: drift comparators,
GPU and other pod resources, the image of Kubernetes pods."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from pipec.backends.build import build_files

from .backend_argo import schema_errors
from .backend_helpers import EXAMPLES, build, module_constants

REFERENCE_RESOURCES = 'resources { cpu: 4, memory: "16Gi" }'


def _reference(folder: Path, old: str, new: str) -> Path:
    """The reference program with `old` replaced by `new` (which must occur)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / "fraud" / "teams.pipe", folder / "teams.pipe")
    text = (EXAMPLES / "fraud" / "fraud.pipe").read_text("utf-8")
    assert old in text
    path = folder / "fraud.pipe"
    path.write_text(text.replace(old, new), "utf-8")
    return path


def _argo(path: Path, output: Path) -> list[dict]:
    files = build(path, "argo", output).files
    return list(yaml.safe_load_all(files["fraud_detection.yaml"]))


def test_drift_equality_uses_the_argo_events_comparator(tmp_path):
    # Argo Events knows `=`, not `==`: with `==` no event would ever pass the filter.
    path = _reference(tmp_path, 'retrain scheduled "0 3 * * *"',
                      "retrain triggered on drift(amount) == 0.2")
    _, sensor = _argo(path, tmp_path / "out")
    (dependency,) = sensor["spec"]["dependencies"]
    assert dependency["filters"]["data"][0]["comparator"] == "="


def test_gpu_is_a_limit_of_the_nvidia_resource(tmp_path):
    path = _reference(tmp_path, REFERENCE_RESOURCES,
                      'resources { cpu: 4, memory: "16Gi", gpu: 1 }')
    (workflow,) = _argo(path, tmp_path / "argo")
    assert schema_errors(workflow) == []
    containers = [t["container"] for t in workflow["spec"]["workflowSpec"]["templates"]
                  if "container" in t and "resources" in t["container"]]
    assert [c["resources"] for c in containers] == [
        {"requests": {"cpu": "4", "memory": "16Gi"}, "limits": {"nvidia.com/gpu": "1"}}]
    files = build(path, "airflow", tmp_path / "airflow", operator="kubernetes").files
    overrides = module_constants(files["fraud_detection.py"])["OVERRIDES"]
    assert overrides["train__fraud_gbm"]["resources"] == {"cpu": "4", "memory": "16Gi"}
    assert overrides["train__fraud_gbm"]["limits"] == {"nvidia.com/gpu": "1"}


@pytest.mark.parametrize("resources, problem", [
    ('{ cpu: 4, memory: "16GB" }', '`memory: "16GB"` in `resources` is not a Kubernetes'),
    ("{ cpu: true }", "`cpu: true` in `resources` is not a Kubernetes"),
])
def test_resources_kubernetes_refuses_are_build001(tmp_path, resources, problem):
    path = _reference(tmp_path, REFERENCE_RESOURCES, f"resources {resources}")
    line = next(i for i, text in enumerate(path.read_text("utf-8").splitlines(), 1)
                if text.strip().startswith("resources"))
    for target, operator in (("argo", "bash"), ("airflow", "kubernetes")):
        result = build_files(path, target, tmp_path / target, airflow_operator=operator)
        (found,) = [d for d in result.diagnostics if d.code == "BUILD001"]
        assert not result.ok and problem in found.message, target
        assert found.span.line == line
    # The BashOperator ignores `resources` (BUILD002), so it has nothing to refuse.
    assert build_files(path, "airflow", tmp_path / "bash").ok


def test_keys_that_name_no_kubernetes_resource_are_left_out_with_a_note(tmp_path):
    path = _reference(tmp_path, REFERENCE_RESOURCES,
                      'resources { cpu: 4, gpus: 1, "example.com/fpga": 2 }')
    result = build(path, "argo", tmp_path / "argo")
    notes = [d.message for d in result.diagnostics if d.code == "BUILD002"
             and "`resources`" in d.message]
    assert len(notes) == 1 and "`gpus` in `resources` is not a Kubernetes" in notes[0]
    (workflow,) = yaml.safe_load_all(result.files["fraud_detection.yaml"])
    containers = [t["container"] for t in workflow["spec"]["workflowSpec"]["templates"]
                  if "container" in t and "resources" in t["container"]]
    # An extended resource is a limit: Kubernetes refuses a request without one.
    assert [c["resources"] for c in containers] == [
        {"requests": {"cpu": "4"}, "limits": {"example.com/fpga": "2"}}]


def test_kubernetes_pods_need_an_image(tmp_path):
    text = (EXAMPLES / "fraud" / "fraud.pipe").read_text("utf-8")
    image = re.search(r'  image ".*"\n', text).group(0)
    # Without `register` a pipeline may omit its image (REPRO002 asks only then).
    path = _reference(tmp_path, image, "")
    path.write_text(path.read_text("utf-8").split("  register fraud_gbm")[0] + "}\n",
                    "utf-8")
    assert build_files(path, "airflow", tmp_path / "bash").ok
    result = build_files(path, "airflow", tmp_path / "k8s", airflow_operator="kubernetes")
    (refused,) = [d for d in result.diagnostics if d.severity == "error"]
    assert refused.code == "BUILD001" and "no `image`" in refused.message


def test_a_pipeline_without_stages_is_refused_for_argo(tmp_path):
    """Argo refuses a DAG template with no tasks ("must have at least one task")."""
    path = tmp_path / "empty.pipe"
    path.write_text('team ml { contact "#ml"; role ml }\npipeline empty {\n  owner ml\n'
                    '  on_failure block\n  predicts iid\n  image "r.example.com/x@sha256:'
                    + "ab" * 32 + '"\n}\n', "utf-8")
    result = build_files(path, "argo", tmp_path / "argo")
    (refused,) = [d for d in result.diagnostics if d.severity == "error"]
    assert refused.code == "BUILD001" and "no stages" in refused.message


def test_a_registry_no_runtime_writes_is_refused_on_every_target(tmp_path):
    """The runtime registers only in a local folder, on every target: `registry mlflow`
    would fail once the model is trained, so build (and run) refuse it up front."""
    path = _reference(tmp_path, 'registry local "registry/"', 'registry mlflow "http://m:5000"')
    line = next(i for i, text in enumerate(path.read_text("utf-8").splitlines(), 1)
                if "registry mlflow" in text)
    for target in ("local", "airflow", "argo"):
        result = build_files(path, target, tmp_path / target)
        (refused,) = [d for d in result.diagnostics if d.code == "BUILD001"]
        assert not result.ok and "`registry mlflow` is not supported" in refused.message
        assert refused.span.line == line, target


def test_distributed_training_is_noted_as_not_applied(tmp_path):
    path = _reference(tmp_path, "    seed 42\n", "    seed 42\n    distributed { workers: 4 }\n")
    for target in ("local", "airflow", "argo"):
        result = build_files(path, target, tmp_path / target)
        notes = [d.message for d in result.diagnostics if d.code == "BUILD002"
                 and "distributed" in d.message]
        assert result.ok and len(notes) == 1 and "not applied" in notes[0], target


def test_pipec_run_refuses_such_a_registry_before_any_stage_runs(tmp_path, capsys):
    from pipec.cli import main

    path = _reference(tmp_path, 'registry local "registry/"', 'registry mlflow "http://m:5000"')
    assert main(["run", str(path)]) == 1
    assert "error[BUILD001]" in capsys.readouterr().out
    assert not (tmp_path / ".pipec").exists()  # nothing ran: no run store was made
