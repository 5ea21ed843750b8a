"""Argo output: the official schema in strict mode, plus pipec's own DAG checks."""

from __future__ import annotations

import yaml
from pipec.backends.naming import dns_label

from .backend_argo import ARGO_KINDS, dag_errors, schema_errors
from .backend_helpers import argo_dependencies, build

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


def _documents(path, tmp_path) -> list[dict]:
    files = build(path, "argo", tmp_path).files
    (text,) = [t for name, t in files.items() if name.endswith(".yaml")]
    return list(yaml.safe_load_all(text))


def test_every_document_validates_in_strict_mode(programs, tmp_path):
    for name, path in programs.items():
        for document in _documents(path, tmp_path / name):
            if document["kind"] in ARGO_KINDS:
                assert schema_errors(document) == [], name
                assert dag_errors(document) == [], name


def test_the_strict_schema_catches_a_misspelled_field(programs, tmp_path):
    (document,) = _documents(programs["fraud_detection"], tmp_path)
    document["spec"]["workflowSpec"]["entryPoint"] = "pipeline"
    assert schema_errors(document)


def test_kinds_follow_retrain(programs, tmp_path):
    kinds = {name: [d["kind"] for d in _documents(programs[name], tmp_path / name)]
             for name in ("fraud_manual", "fraud_scheduled", "fraud_new_snapshot",
                          "fraud_drift", "fraud_continuous")}
    assert kinds["fraud_manual"] == ["Workflow"]
    assert kinds["fraud_scheduled"] == ["CronWorkflow"]
    for name in ("fraud_new_snapshot", "fraud_drift", "fraud_continuous"):
        assert kinds[name] == ["WorkflowTemplate", "Sensor"]


def test_cron_workflow_uses_the_schedules_list(programs, tmp_path):
    (cron,) = _documents(programs["fraud_scheduled"], tmp_path)
    assert cron["spec"]["schedules"] == ["*/30 2 * * 1-5"]
    assert "schedule" not in cron["spec"]


def test_sensors_submit_the_template(programs, tmp_path):
    template, sensor = _documents(programs["fraud_continuous"], tmp_path / "c")
    trigger = sensor["spec"]["triggers"][0]["template"]
    resource = trigger["argoWorkflow"]["source"]["resource"]
    assert resource["spec"]["workflowTemplateRef"]["name"] == template["metadata"]["name"]
    events = [d["eventName"] for d in sensor["spec"]["dependencies"]]
    assert events == ["source-chargebacks", "source-transactions"]
    assert trigger["conditions"] == "event0 || event1"
    _, drift = _documents(programs["fraud_drift"], tmp_path / "d")
    (dependency,) = drift["spec"]["dependencies"]
    assert dependency["eventName"] == "drift-amount"
    assert dependency["filters"]["data"][0]["comparator"] == ">"


def test_approval_is_a_suspend_step(programs, tmp_path):
    (document,) = _documents(programs["fraud_detection"], tmp_path)
    spec = document["spec"]["workflowSpec"]
    templates = {t["name"]: t for t in spec["templates"]}
    tasks = {t["name"]: t for t in templates["pipeline"]["dag"]["tasks"]}
    assert templates[tasks["approval-fraud-gbm"]["template"]]["suspend"] == {}
    assert argo_dependencies(tasks["deploy-fraud-gbm"]) == ["approval-fraud-gbm"]


def test_names_labels_and_resources(programs, tmp_path):
    import re

    (document,) = _documents(programs["fraud_detection"], tmp_path)
    spec = document["spec"]["workflowSpec"]
    for task in spec["templates"][0]["dag"]["tasks"]:
        assert re.match(DNS_LABEL, task["name"])
    for value in document["metadata"]["labels"].values():
        assert re.match(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$", value)
    train = next(t for t in spec["templates"] if "res" in t["name"])
    assert train["container"]["resources"] == {"requests": {"cpu": "4", "memory": "16Gi"}}
    assert train["activeDeadlineSeconds"] == "{{inputs.parameters.timeout}}"
    assert document["metadata"]["name"] == dns_label("fraud_detection", 52)


def test_templates_are_shared(programs, tmp_path):
    (document,) = _documents(programs["fraud_detection"], tmp_path)
    templates = document["spec"]["workflowSpec"]["templates"]
    assert len(templates) == 4  # the DAG, the approval, two stage shapes
