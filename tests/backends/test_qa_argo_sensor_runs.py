"""QA: the runs an Argo Events Sensor starts, as Argo's UI and controller find them."""

from __future__ import annotations

import re

import pytest
import yaml

from .backend_argo import schema_errors
from .backend_helpers import EXAMPLES, build, variant

TEMPLATE_LABEL = "workflows.argoproj.io/workflow-template"
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


@pytest.mark.parametrize("name, retrain", [
    ("fraud_new_snapshot", "triggered on new_snapshot"),
    ("fraud_drift", "triggered on drift(amount) > 0.2"),
    ("fraud_continuous", "continuous"),
    ("p" * 70, "triggered on new_snapshot"),  # a name cut to fit, with a hash
])
def test_a_sensor_run_is_labelled_with_its_workflow_template(tmp_path, name, retrain):
    """QA: Argo labels a run with its WorkflowTemplate only when it is submitted with
    `argo submit --from`; the Sensor creates it with a `workflowTemplateRef`, so its
    retrains were missing from the template's page in the Argo UI (which lists the runs
    by this label) and had no estimated duration (the controller finds the last run by
    it too)."""
    path = variant(EXAMPLES / "fraud" / "fraud.pipe", tmp_path / "src", name, retrain)
    text = build(path, "argo", tmp_path / "out").files[f"{name}.yaml"]
    template, sensor = yaml.safe_load_all(text)
    assert template["kind"] == "WorkflowTemplate" and sensor["kind"] == "Sensor"
    run = sensor["spec"]["triggers"][0]["template"]["argoWorkflow"]["source"]["resource"]
    assert run["spec"]["workflowTemplateRef"]["name"] == template["metadata"]["name"]
    labels = run["metadata"]["labels"]
    assert labels[TEMPLATE_LABEL] == template["metadata"]["name"]
    assert LABEL_VALUE.fullmatch(labels[TEMPLATE_LABEL])
    # The pipeline's own labels stay, as on every other run.
    assert labels["pipec.dev/retrain"] == template["metadata"]["labels"]["pipec.dev/retrain"]
    assert schema_errors(run) == []
