"""`[tool.pipec] manifest_configmap`: every stage pod mounts the ConfigMap holding the
build's `lineage.json` and reads it there. Before, nothing in the generated YAML or DAG
mounted it, and the image cannot hold the manifest of its own build (the manifest names
the image's digest): every Kubernetes build had to be edited by hand before it could run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pipec.backends.base import BuildOptions
from pipec.backends.build import build_files
from pipec.backends.kube import CONFIGMAP_MAX_BYTES, manifest_fits
from pipec.cli import main
from pipec.manifest import dump_manifest
from pipec.nodes import Span

from .backend_argo import ARGO_KINDS, dag_errors, schema_errors
from .backend_helpers import EXAMPLES, build, module_constants, variant

FRAUD = EXAMPLES / "fraud" / "fraud.pipe"
MOUNT = {"name": "pipec-manifest", "mountPath": "/etc/pipec", "readOnly": True}


def _project(folder: Path, settings: str, retrain: str = "manual") -> Path:
    path = variant(FRAUD, folder, "mounted", retrain)
    (folder / "pyproject.toml").write_text(f"[tool.pipec]\n{settings}", "utf-8")
    return path


def _workflows(path: Path, output: Path) -> list[dict]:
    (text,) = [t for n, t in build(path, "argo", output).files.items() if n.endswith(".yaml")]
    return [d for d in yaml.safe_load_all(text) if d["kind"] in ARGO_KINDS]


def _spec(document: dict) -> dict:
    return document["spec"].get("workflowSpec", document["spec"])


def _containers(spec: dict) -> list[dict]:
    return [t["container"] for t in spec["templates"] if "container" in t]


@pytest.mark.parametrize("retrain", ["manual", 'scheduled "0 3 * * *"',
                                     "triggered on new_snapshot"])
def test_argo_pods_mount_the_configmap_and_read_the_manifest_there(tmp_path, retrain):
    """Every kind of workflow (Workflow, CronWorkflow, WorkflowTemplate): the ConfigMap is
    a volume of the workflow, every container (the stage templates and the rejection's)
    mounts it read-only, and the `manifest` parameter points into it."""
    path = _project(tmp_path / "src", 'manifest_configmap = "ml-manifest"\n', retrain)
    (document,) = _workflows(path, tmp_path / "out")
    assert schema_errors(document) == [] and dag_errors(document) == []
    spec = _spec(document)
    assert spec["volumes"] == [{"name": "pipec-manifest", "configMap": {"name": "ml-manifest"}}]
    (parameter,) = spec["arguments"]["parameters"]
    assert parameter["value"] == "/etc/pipec/lineage.json"
    assert "kubectl create configmap ml-manifest --from-file=lineage.json=lineage.json" \
        in parameter["description"]
    containers = _containers(spec)
    assert len(containers) >= 3  # the stage templates and the rejection's
    for container in containers:
        assert MOUNT in container["volumeMounts"]
        assert "{{workflow.parameters.manifest}}" in container["args"]
        # its relative paths from the working directory, not the mount's folder
        at = container["args"].index("--manifest-dir")
        assert container["args"][at + 1] == "."


def test_argo_mounts_the_claim_and_the_configmap_side_by_side(tmp_path):
    """With `state_volume` too: both volumes, both mounts; the register stage that an
    approval follows keeps its own output volume as well."""
    path = _project(tmp_path / "src", 'state_volume = "ml-state"\n'
                    'manifest_configmap = "ml-manifest"\n')
    (document,) = _workflows(path, tmp_path / "out")
    assert schema_errors(document) == [] and dag_errors(document) == []
    spec = _spec(document)
    assert [v["name"] for v in spec["volumes"]] == ["pipec-state", "pipec-manifest"]
    templates = {t["name"]: t for t in spec["templates"]}
    mounts = templates["stage-approval-check"]["container"]["volumeMounts"]
    assert [m["name"] for m in mounts] == ["pipec-state", "pipec-manifest", "pipec-outputs"]
    for container in _containers(spec):
        assert [m["name"] for m in container["volumeMounts"]][:2] == \
            ["pipec-state", "pipec-manifest"]


def test_without_the_setting_argo_reads_the_manifest_from_the_working_directory(tmp_path):
    path = _project(tmp_path / "src", 'state_volume = "ml-state"\n')
    (document,) = _workflows(path, tmp_path / "out")
    spec = _spec(document)
    assert spec["arguments"]["parameters"] == [{"name": "manifest", "value": "lineage.json"}]
    assert "pipec-manifest" not in str(spec)


def test_the_name_is_quoted_where_yaml_would_read_a_number(tmp_path):
    """`1e3` is a valid ConfigMap name that go-yaml (kubectl, argo) reads as a number
    when written plain."""
    path = _project(tmp_path / "src", 'manifest_configmap = "1e3"\n')
    text = build(path, "argo", tmp_path / "out").files["mounted.yaml"]
    assert "name: '1e3'" in text
    (document,) = [d for d in yaml.safe_load_all(text) if d["kind"] in ARGO_KINDS]
    assert schema_errors(document) == []


@pytest.mark.parametrize("target, operator", [("argo", "bash"), ("airflow", "kubernetes")])
def test_a_build_with_the_setting_is_the_same_bytes_twice(tmp_path, target, operator):
    path = _project(tmp_path / "src", 'state_volume = "ml-state"\n'
                    'manifest_configmap = "ml-manifest"\n')
    first = build_files(path, target, tmp_path / "out", airflow_operator=operator).files
    again = build_files(path, target, tmp_path / "out", airflow_operator=operator).files
    assert first == again


def test_the_kubernetes_pod_operator_dag_mounts_the_configmap(tmp_path):
    """The generated module's constants: the manifest path in the mount, the command that
    makes the ConfigMap."""
    path = _project(tmp_path / "src", 'manifest_configmap = "ml-manifest"\n')
    text = build(path, "airflow", tmp_path / "out", "kubernetes").files["mounted.py"]
    constants = module_constants(text)
    assert constants["MANIFEST"] == "/etc/pipec/lineage.json"
    assert constants["MANIFEST_CONFIGMAP"] == "ml-manifest"
    assert constants["CREATE_MANIFEST_CONFIGMAP"] == \
        "kubectl create configmap ml-manifest --from-file=lineage.json=lineage.json"
    compile(text, "mounted.py", "exec")


def test_the_kubernetes_pod_operator_loads_in_airflow_with_the_mount(tmp_path):
    """Airflow's own DagBag: every pod task (stages, the rejection's) mounts the
    ConfigMap read-only beside the claim and passes the mounted manifest's path."""
    from .backend_airflow import probe

    both = _project(tmp_path / "both", 'state_volume = "ml-state"\n'
                    'manifest_configmap = "ml-manifest"\n')
    alone = variant(FRAUD, tmp_path / "alone", "mounted_alone", "manual")
    (alone.parent / "pyproject.toml").write_text(
        '[tool.pipec]\nmanifest_configmap = "ml-manifest"\n', "utf-8")
    dags = tmp_path / "dags"
    for path in (both, alone):
        files = build(path, "airflow", tmp_path / "out" / path.stem, "kubernetes").files
        (dags / path.stem).mkdir(parents=True)
        for name, text in files.items():
            (dags / path.stem / name).write_text(text, "utf-8")
    bag = probe(dags)
    assert bag["import_errors"] == {} and bag["warnings"] == []
    for dag_id, claims in (("mounted", True), ("mounted_alone", False)):
        pods = [t["attrs"] for t in bag["dags"][dag_id]["tasks"].values()
                if "image" in t["attrs"]]
        assert len(pods) >= 9, dag_id  # every stage task and the rejection's
        for attrs in pods:
            volumes = {v["name"]: v for v in attrs["volumes"]}
            assert volumes["pipec-manifest"]["config_map"]["name"] == "ml-manifest"
            assert ("pipec-state" in volumes) == claims
            mounts = [(m["name"], m["mount_path"], m["read_only"])
                      for m in attrs["volume_mounts"]]
            assert ("pipec-manifest", "/etc/pipec", True) in mounts
            assert "'--manifest', '/etc/pipec/lineage.json', '--manifest-dir', '.'" \
                in attrs["arguments"]


def test_the_bash_operator_notes_the_setting_and_writes_the_same_dag(tmp_path):
    """The BashOperator starts no pod: a BUILD002 note, as for `state_volume`, and the
    DAG reads the manifest beside it as before."""
    plain = build(_project(tmp_path / "plain", ""), "airflow", tmp_path / "p").files
    path = _project(tmp_path / "src", 'manifest_configmap = "ml-manifest"\n')
    result = build(path, "airflow", tmp_path / "out")
    notes = [d for d in result.diagnostics if "manifest_configmap" in d.message]
    assert [(d.code, d.severity) for d in notes] == [("BUILD002", "note")]
    assert "BashOperator" in notes[0].message
    assert result.files["mounted.py"] == plain["mounted.py"]


def test_an_invalid_name_is_a_usage_error_naming_the_setting(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.pipec]\nmanifest_configmap = "ML Manifest"\n',
                                             "utf-8")
    program = tmp_path / "teams.pipe"
    program.write_text('team ml { contact "#ml"; role ml }\n', "utf-8")
    assert main(["check", str(program)]) == 2
    err = capsys.readouterr().err
    assert "`manifest_configmap` must name a ConfigMap" in err and "pyproject.toml" in err
    assert "internal error" not in err


def _options(size: int) -> BuildOptions:
    """Options whose manifest is `size` bytes as written (`{"a":"xx…"}` and a newline)."""
    manifest = {"a": "x" * (size - len(dump_manifest({"a": ""})))}
    assert len(dump_manifest(manifest).encode()) == size
    return BuildOptions(manifest_configmap="ml-manifest", manifest=manifest)


def test_a_manifest_over_a_configmap_s_limit_is_budget001():
    """Kubernetes refuses a ConfigMap whose data is over 1 MiB: 1,048,576 bytes fit,
    one more does not."""
    span = Span("p.pipe", 1, 1, 1, 9)
    assert manifest_fits(span, _options(CONFIGMAP_MAX_BYTES)) == []
    (found,) = manifest_fits(span, _options(CONFIGMAP_MAX_BYTES + 1))
    assert (found.code, found.severity) == ("BUDGET001", "error")
    assert "1,048,577 bytes" in found.message and "ml-manifest" in found.message
    assert found.span == span


def test_a_build_whose_manifest_cannot_be_a_configmap_fails(tmp_path):
    """Through `pipec build`: Argo and the KubernetesPodOperator fail at the pipeline,
    with nothing written; the BashOperator, which mounts nothing, builds."""
    path = _project(tmp_path / "src", 'manifest_configmap = "ml-manifest"\n')
    text = path.read_text("utf-8")
    path.write_text(text.replace("  owner ml_fraud\n", f'  owner ml_fraud\n  description '
                                 f'"{"long " * 220_000}"\n', 1), "utf-8")
    for target, operator in (("argo", "bash"), ("airflow", "kubernetes")):
        result = build_files(path, target, tmp_path / target, airflow_operator=operator)
        budget = [d for d in result.diagnostics if d.code == "BUDGET001"]
        assert not result.ok and len(budget) == 1, target
        assert "ConfigMap" in budget[0].message and budget[0].span.line == 3
    bash = build_files(path, "airflow", tmp_path / "bash")
    assert bash.ok and not [d for d in bash.diagnostics if d.code == "BUDGET001"]
