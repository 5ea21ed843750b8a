"""Argo output: the official schema in strict mode, plus pipec's own DAG checks."""

from __future__ import annotations

import json

import yaml
from pipec.backends.argo.lower import FAN_OUT_MIN, fan_outs
from pipec.backends.argo.model import DagTask
from pipec.backends.naming import dns_label

from .backend_argo import ARGO_KINDS, dag_errors, schema_errors
from .backend_helpers import argo_dependencies, argo_stage_tasks, build, variant

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
    # The human resumes the suspend step; the approval stage after it checks the registry.
    human = templates[tasks["approval-fraud-gbm--human"]["template"]]
    assert human["suspend"] == {}
    assert argo_dependencies(tasks["approval-fraud-gbm--human"]) == ["register-fraud-gbm"]
    assert argo_dependencies(tasks["approval-fraud-gbm"]) == ["approval-fraud-gbm--human"]
    assert "container" in templates[tasks["approval-fraud-gbm"]["template"]]
    # Deploy needs the approval stage to have succeeded: skipped (rejected) is not enough;
    # it runs as `--approved` when nobody was asked (see the test below).
    assert tasks["deploy-fraud-gbm"]["depends"] == \
        "(approval-fraud-gbm.Succeeded || approval-fraud-gbm--approved.Succeeded)"


GIVEN = "{{tasks.register-fraud-gbm.outputs.parameters.approval-given}}"


def test_the_human_step_is_skipped_when_the_registry_holds_the_approval(programs, tmp_path):
    """The register stage's pod says whether the registry already holds the approval
    (`--approval-given`, a file in a volume of its own, its output parameter); the suspend
    step's `when` skips it then. Nothing reads a skipped step's outputs (Argo versions
    disagree on what they are): the approval stage and the Reject task wait for it to have
    succeeded, and `--approved` runs the approval stage after a skip instead."""
    (document,) = _documents(programs["fraud_detection"], tmp_path)
    templates = {t["name"]: t for t in document["spec"]["workflowSpec"]["templates"]}
    tasks = {t["name"]: t for t in templates["pipeline"]["dag"]["tasks"]}
    register = templates[tasks["register-fraud-gbm"]["template"]]
    path = "/pipec-outputs/approval-given.json"
    assert register["container"]["args"][-2:] == ["--approval-given", path]
    assert register["outputs"] == {"parameters": [
        {"name": "approval-given", "valueFrom": {"path": path, "default": "false"}}]}
    assert register["volumes"] == [{"name": "pipec-outputs", "emptyDir": {}}]
    assert register["container"]["volumeMounts"] == [
        {"name": "pipec-outputs", "mountPath": "/pipec-outputs"}]
    assert tasks["approval-fraud-gbm--human"]["when"] == f"{GIVEN} != true"
    assert tasks["approval-fraud-gbm"]["depends"] == "approval-fraud-gbm--human.Succeeded"
    assert tasks["approval-fraud-gbm--rejected"]["depends"] == \
        "approval-fraud-gbm--human.Succeeded"
    approved = tasks["approval-fraud-gbm--approved"]
    assert approved["depends"] == "approval-fraud-gbm--human.Skipped"
    assert "when" not in approved
    assert (approved["template"], approved["arguments"]) == (
        tasks["approval-fraud-gbm"]["template"], tasks["approval-fraud-gbm"]["arguments"])
    # Only the register stage an approval follows says it: other stages write nothing.
    assert [t for t, v in tasks.items() if v["template"] == register["name"]] == \
        ["register-fraud-gbm"]
    assert schema_errors(document) == [] and dag_errors(document) == []


def test_the_approval_check_keeps_the_state_volume(programs, tmp_path):
    """With `[tool.pipec] state_volume`, the register stage mounts both volumes."""
    (document,) = _documents(programs["fraud_stateful"], tmp_path)
    templates = {t["name"]: t for t in document["spec"]["templates"]}
    mounts = templates["stage-approval-check"]["container"]["volumeMounts"]
    assert [m["name"] for m in mounts] == ["pipec-state", "pipec-outputs"]
    assert schema_errors(document) == []


def test_a_rejection_at_the_suspend_step_is_recorded(programs, tmp_path):
    """Resumed with decision `reject` (a plain resume gives the default, `approve`), the
    approval stage is skipped and the next task records the rejection by the reviewer,
    which reaches `--rejected-by` as one argument."""
    (document,) = _documents(programs["fraud_detection"], tmp_path)
    templates = {t["name"]: t for t in document["spec"]["workflowSpec"]["templates"]}
    tasks = {t["name"]: t for t in templates["pipeline"]["dag"]["tasks"]}
    human = templates["approval"]
    assert {p["name"]: p["default"] for p in human["inputs"]["parameters"]} == \
        {"decision": "approve", "reviewer": ""}
    assert human["inputs"]["parameters"][0]["enum"] == ["approve", "reject"]
    assert {p["name"]: p["valueFrom"] for p in human["outputs"]["parameters"]} == {
        "decision": {"supplied": {}, "default": "approve"},
        "reviewer": {"supplied": {}, "default": ""}}
    decision = "{{tasks.approval-fraud-gbm--human.outputs.parameters.decision}}"
    assert tasks["approval-fraud-gbm"]["when"] == f"{decision} != reject"
    rejected = tasks["approval-fraud-gbm--rejected"]
    assert rejected["when"] == f"{decision} == reject"
    assert argo_dependencies(rejected) == ["approval-fraud-gbm--human"]
    arguments = {p["name"]: p["value"] for p in rejected["arguments"]["parameters"]}
    assert arguments["stage"] == "approval.fraud_gbm"
    assert arguments["reviewer"] == \
        "{{tasks.approval-fraud-gbm--human.outputs.parameters.reviewer}}"
    args = templates[rejected["template"]]["container"]["args"]
    # `--rejected-by=NAME`, one argument: a reviewer typed as `-bob` is still a value.
    assert args[-1] == "--rejected-by={{inputs.parameters.reviewer}}"
    assert args[:-1] == templates["stage"]["container"]["args"]


def test_every_stage_of_a_workflow_runs_under_its_uid(programs, tmp_path):
    """`pipec stage run` takes PIPEC_WORKFLOW_UID as the run id; without it each pod
    would be a run of its own, and the run's record would say every stage but the last
    was reused."""
    for name, path in programs.items():
        for document in _documents(path, tmp_path / name):
            spec = document["spec"].get("workflowSpec", document["spec"])
            for template in spec.get("templates", []):
                if "container" in template:
                    assert template["container"]["env"][0] == {
                        "name": "PIPEC_WORKFLOW_UID", "value": "{{workflow.uid}}"}, name


def test_only_failures_are_retried(programs, tmp_path):
    """A blocked stage (exit 1) or one waiting for approval (3) answers the same again."""
    (document,) = _documents(programs["fraud_detection"], tmp_path)
    for template in document["spec"]["workflowSpec"]["templates"]:
        if "container" in template:
            assert template["retryStrategy"]["expression"] == (
                'lastRetry.exitCode != "1" && lastRetry.exitCode != "3"')


def test_names_labels_and_resources(programs, tmp_path):
    import re

    (document,) = _documents(programs["fraud_detection"], tmp_path)
    spec = document["spec"]["workflowSpec"]
    for task in argo_stage_tasks(spec):
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
    # the DAG, the human step, the rejection's record, two stage shapes, and the plain
    # shape's variant for the register stage an approval follows
    assert len(templates) == 6


def _t(name: str, *needs: str) -> DagTask:
    return DagTask(name, name.replace("-", "."), "stage", tuple(sorted(needs)), ())


def test_fan_outs_nest_siblings_with_the_same_inputs_and_dependents():
    views = [_t(f"features-v{i}", "validate-a") for i in range(FAN_OUT_MIN)]
    few = [_t(f"features-w{i}", "validate-b") for i in range(FAN_OUT_MIN - 1)]
    join = _t("join", *(t.name for t in views + few), "validate-a")
    tasks = (_t("validate-a"), _t("validate-b"), *views, *few, join)
    outer, (group,) = fan_outs(tasks)
    assert group.name == "fanout-features-v0"
    assert [t.name for t in group.tasks] == [t.name for t in views]
    assert all(t.dependencies == () for t in group.tasks)
    by_name = {t.name: t for t in outer}
    assert by_name[group.name].dependencies == ("validate-a",)
    assert by_name[group.name].template == group.name
    assert by_name["join"].dependencies == tuple(sorted(
        [group.name, "validate-a", *(t.name for t in few)]))
    assert [t.name for t in outer] == ["validate-a", "validate-b", group.name,
                                       *(t.name for t in few), "join"]


def test_fan_outs_keep_siblings_apart_when_a_dependent_waits_for_only_some():
    views = [_t(f"features-v{i}", "validate-a") for i in range(FAN_OUT_MIN + 2)]
    picky = _t("train-m", views[0].name)
    join = _t("join", *(t.name for t in views))
    outer, groups = fan_outs((_t("validate-a"), *views, picky, join))
    # v0 has another dependent than its siblings: the rest still make a group
    (group,) = groups
    assert views[0].name not in {t.name for t in group.tasks}
    assert len(group.tasks) == FAN_OUT_MIN + 1
    assert {t.name: t for t in outer}["join"].dependencies == (group.name, views[0].name)


def test_fan_outs_chain():
    first = [_t(f"features-v{i}", "validate-a") for i in range(FAN_OUT_MIN)]
    second = [_t(f"label-l{i}", *(t.name for t in first)) for i in range(FAN_OUT_MIN)]
    outer, groups = fan_outs((_t("validate-a"), *first, *second))
    assert [g.name for g in groups] == ["fanout-features-v0", "fanout-label-l0"]
    assert {t.name: t for t in outer}["fanout-label-l0"].dependencies == ("fanout-features-v0",)


def test_no_fan_out_below_the_threshold_leaves_tasks_alone():
    views = tuple(_t(f"features-v{i}", "validate-a") for i in range(FAN_OUT_MIN - 1))
    tasks = (_t("validate-a"), *views)
    assert fan_outs(tasks) == (tasks, ())



def test_one_run_of_a_pipeline_at_a_time_whatever_starts_it(programs, tmp_path):
    """Airflow's max_active_runs=1, in Argo: every workflow spec holds a mutex named
    after the pipeline, so a sensor or manual run queues behind a running one."""
    for name in ("fraud_manual", "fraud_scheduled", "fraud_continuous"):
        document = _documents(programs[name], tmp_path / name)[0]
        spec = document["spec"].get("workflowSpec", document["spec"])
        assert spec["synchronization"] == {"mutexes": [{"name": document["metadata"].get(
            "name") or document["metadata"]["generateName"].rstrip("-")}]}, name


def test_a_long_lineage_summary_is_cut_to_fit_kubernetes(programs, tmp_path):
    """Kubernetes refuses annotations over 256 KiB in all; the schema does not know it.
    A 300,000-character description stays in the manifest, not in the annotation."""
    path = variant(programs["fraud_detection"], tmp_path / "src", "long", "manual")
    described = f'  owner ml_fraud\n  description "{"x" * 300_000}"\n'
    path.write_text(path.read_text("utf-8").replace("  owner ml_fraud\n", described, 1))
    (document,) = _documents(path, tmp_path / "out")
    annotations = document["metadata"]["annotations"]
    assert sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items()) < 256 * 1024
    lineage = json.loads(annotations["pipec.dev/lineage"])
    assert lineage["dag_hash"] == annotations["pipec.dev/dag-hash"]
    assert "cut" in lineage and "description" not in lineage
    assert schema_errors(document) == []


def test_a_state_volume_is_mounted_by_every_stage_pod(programs, tmp_path):
    """`[tool.pipec] state_volume`: each stage runs in a pod of its own, so the run store
    and the local registries live on the claim every pod mounts (PIPEC_STATE_DIR)."""
    path = variant(programs["fraud_detection"], tmp_path / "src", "stateful", "manual")
    (path.parent / "pyproject.toml").write_text('[tool.pipec]\nstate_volume = "ml-state"\n')
    (document,) = _documents(path, tmp_path / "out")
    assert schema_errors(document) == []
    spec = document["spec"]
    assert spec["volumes"] == [{"name": "pipec-state",
                                "persistentVolumeClaim": {"claimName": "ml-state"}}]
    containers = [t["container"] for t in spec["templates"] if "container" in t]
    assert len(containers) >= 3  # the stage templates and the rejection's
    for container in containers:
        assert {"name": "PIPEC_STATE_DIR", "value": "/var/lib/pipec"} in container["env"]
        assert container["volumeMounts"][0] == {"name": "pipec-state",
                                                "mountPath": "/var/lib/pipec"}
    (plain,) = _documents(programs["fraud_detection"], tmp_path / "plain")
    assert "volumes" not in plain["spec"]["workflowSpec"]


def test_pods_without_a_state_volume_are_warned_of(programs, tmp_path):
    """QA: an Argo build with no claim for the run store built silently, and its second
    stage then failed (no outputs of the first in its own pod's store): BUILD003."""
    path = variant(programs["fraud_detection"], tmp_path / "src", "stateless", "manual")
    warned = [d for d in build(path, "argo", tmp_path / "out").diagnostics
              if d.code == "BUILD003"]
    assert len(warned) == 1 and "no `[tool.pipec] state_volume`" in warned[0].message
    (path.parent / "pyproject.toml").write_text('[tool.pipec]\nstate_volume = "ml-state"\n')
    assert not [d for d in build(path, "argo", tmp_path / "out2").diagnostics
                if d.code == "BUILD003"]
    kube = build(programs["fraud_detection"], "airflow",
                 tmp_path / "k8s", operator="kubernetes").diagnostics
    assert [d.code for d in kube if d.code == "BUILD003"] == ["BUILD003"]


def test_max_parallel_stages_is_the_workflow_s_parallelism(programs, tmp_path):
    """`[tool.pipec] max_parallel_stages`: the most stage pods of one run at once (a
    1,000-stage fan-out would otherwise start ~1,000 pods together). Unset, no limit."""
    path = variant(programs["fraud_detection"], tmp_path / "src", "limited", "manual")
    (path.parent / "pyproject.toml").write_text(
        '[tool.pipec]\nstate_volume = "ml-state"\nmax_parallel_stages = 8\n')
    (workflow,) = _documents(path, tmp_path / "out")
    assert schema_errors(workflow) == []
    assert workflow["spec"]["parallelism"] == 8
    plain = _documents(variant(programs["fraud_detection"], tmp_path / "plain-src", "plain",
                               "manual"), tmp_path / "plain")
    assert "parallelism" not in plain[0]["spec"]


def test_service_accounts_for_the_pods_and_the_sensor(programs, tmp_path):
    """`[tool.pipec] service_account`: what the stage pods run as (Argo's executor needs
    RBAC the namespace's default usually lacks); `sensor_service_account`: what the Argo
    Events Sensor creates the retrain Workflows as. Unset, both are left out."""
    path = variant(programs["fraud_detection"], tmp_path / "src", "accounts",
                   "triggered on new_snapshot")
    (path.parent / "pyproject.toml").write_text(
        '[tool.pipec]\nstate_volume = "ml-state"\nservice_account = "ml-stages"\n'
        'sensor_service_account = "ml-sensor"\n')
    template, sensor = _documents(path, tmp_path / "out")
    assert schema_errors(template) == []
    assert template["spec"]["serviceAccountName"] == "ml-stages"
    assert sensor["kind"] == "Sensor"
    assert sensor["spec"]["template"] == {"serviceAccountName": "ml-sensor"}
    plain = _documents(variant(programs["fraud_detection"], tmp_path / "plain-src", "plain",
                               "triggered on new_snapshot"), tmp_path / "plain")
    assert "serviceAccountName" not in plain[0]["spec"] and "template" not in plain[1]["spec"]


def test_a_stage_that_stops_leaves_the_other_branches_running(programs, tmp_path):
    """Argo's DAGs fail fast unless told not to: after a blocked gate (a failed task) no
    new task would be scheduled, and a second model's branch would never train, unlike
    `pipec run`, Airflow and the local script. Every DAG, nested fan-outs too, says so."""
    from pipec.backends.argo.documents import _group_template

    for name, path in programs.items():
        for document in _documents(path, tmp_path / name):
            spec = document["spec"].get("workflowSpec", document["spec"])
            for template in spec.get("templates", ()):
                if "dag" in template:
                    assert template["dag"]["failFast"] is False, (name, template["name"])
    views = [_t(f"features-v{i}", "validate-a") for i in range(FAN_OUT_MIN)]
    _, (group,) = fan_outs((_t("validate-a"), *views))
    assert _group_template(group)["dag"]["failFast"] is False
