"""Airflow output, loaded by Airflow's own DagBag (Airflow 3, its own virtualenv)."""

from __future__ import annotations

import ast

import pytest
from pipec.backends.airflow.docs import lineage_from_doc_md
from pipec.backends.naming import task_id

from .backend_helpers import build, module_constants

OPERATORS = ("bash", "kubernetes")


@pytest.mark.parametrize("operator", OPERATORS)
def test_every_dag_imports_without_errors_or_warnings(dagbags, plans, operator):
    bag = dagbags[operator]
    assert bag["import_errors"] == {}
    assert bag["warnings"] == [], "the DAG files raised warnings (deprecations included)"
    assert sorted(bag["dags"]) == sorted(plans)


def human(stage_id: str) -> str:
    """The task id of the human step before an approval stage."""
    return task_id(stage_id) + "-human"


def rejected(stage_id: str) -> str:
    """The task id of the task that records a Reject at an approval's human step."""
    return task_id(stage_id) + "-rejected"


def expected_upstreams(plan) -> dict[str, list[str]]:
    """The pipec DAG, with each approval stage after its human step, the task that
    records a Reject after the approval stage, and (drift triggers) the drift gate
    before every first stage."""
    gate = ["drift-gate"] if plan.retrain.get("on") == "drift" else []
    expected = dict.fromkeys(gate, [])
    for s in plan.stages:
        inputs = sorted(task_id(i) for i in s.inputs) or gate
        if s.is_approval:
            expected[human(s.id)] = inputs
            expected[rejected(s.id)] = [task_id(s.id)]
            inputs = [human(s.id)]
        expected[task_id(s.id)] = inputs
    return expected


@pytest.mark.parametrize("operator", OPERATORS)
def test_tasks_and_upstreams_equal_the_pipec_dag(dagbags, plans, operator):
    for name, plan in plans.items():
        tasks = dagbags[operator]["dags"][name]["tasks"]
        assert {t: v["upstream"] for t, v in tasks.items()} == expected_upstreams(plan)


@pytest.mark.parametrize("operator", OPERATORS)
def test_owner_retries_and_timeouts_per_task(dagbags, plans, operator):
    for name, plan in plans.items():
        tasks = dagbags[operator]["dags"][name]["tasks"]
        checks = {s.register for s in plan.stages if s.is_approval}
        for stage in plan.stages:
            task = tasks[task_id(stage.id)]
            assert task["owner"] == stage.owner
            if stage.is_approval:
                step = tasks[human(stage.id)]
                assert step["owner"] == stage.owner
                assert step["operator"] == "HumanApproval"
                assert "airflow.providers.standard.operators.hitl.ApprovalOperator" in \
                    step["bases"]
                recorder = tasks[rejected(stage.id)]
                assert recorder["owner"] == stage.owner
                # Runs after a Reject only (the operator checks), but `none_failed`: a
                # stage before it that failed or stopped fails it, and the DAG run.
                assert recorder["operator"] == "RecordRejection"
                assert recorder["attrs"]["trigger_rule"] == "none_failed"
            # Every stage task keeps the manifest's retries: the runtime tells a failure's
            # last attempt by them. A waiting approval (exit 3) is not retried anyway.
            assert task["retries"] == stage.retries
            assert task["retry_delay_s"] == 300
            assert task["execution_timeout_s"] == stage.timeout_s
            if operator == "bash" and stage.id in checks:  # reads --approval-given's file
                assert task["operator"] == "ApprovalCheck"
                assert any(b.endswith(".StageOperator") for b in task["bases"])
            else:
                assert task["operator"] == "StageOperator"
            assert task["attrs"]["skip_on_exit_code"] == [1, 3]  # failed by StageOperator


def test_bash_tasks_run_their_stage_through_the_runtime(dagbags, plans):
    for name, plan in plans.items():
        tasks = dagbags["bash"]["dags"][name]["tasks"]
        for stage in plan.stages:
            command = tasks[task_id(stage.id)]["attrs"]["bash_command"]
            assert "pipec stage run --manifest" in command
            assert f"lineage.json --dag-hash {plan.dag_hash} --stage {stage.id}" in command


REVIEWER = "{{ ti.xcom_pull(task_ids='%s', key='responded_by') or '' }}"


def test_a_reject_is_recorded_with_the_reviewer_from_the_environment(dagbags, plans):
    """The reviewer's name (Airflow renders it from the human step's XCom) reaches
    `--rejected-by` through an environment variable: never through a shell or a template
    that holds user text."""
    approvals = [(name, s) for name, plan in plans.items() for s in plan.stages
                 if s.is_approval]
    assert approvals
    for name, stage in approvals:
        bash = dagbags["bash"]["dags"][name]["tasks"][rejected(stage.id)]["attrs"]
        # One argument `--rejected-by=NAME`: a name like `-bob` is still a value.
        assert f"--stage {stage.id} --rejected-by=\"$PIPEC_REJECTED_BY\"')" in \
            bash["bash_command"]  # LiteralValue(value='...'): never templated
        assert bash["env"] == {"PIPEC_REJECTED_BY": REVIEWER % human(stage.id)}
        assert bash["append_env"] is True
        pod = dagbags["kubernetes"]["dags"][name]["tasks"][rejected(stage.id)]["attrs"]
        assert f"'--stage', '{stage.id}', '--rejected-by=$(PIPEC_REJECTED_BY)']" in \
            pod["arguments"]
        assert REVIEWER % human(stage.id) in str(pod["env_vars"])


def test_kubernetes_pods_run_under_the_dag_run_id(dagbags, plans):
    """A pod gets none of Airflow's AIRFLOW_CTX_* variables: without the DAG run's id
    passed in (a templated field), each stage would be a run of its own."""
    for name in plans:
        tasks = dagbags["kubernetes"]["dags"][name]["tasks"]
        for task in tasks.values():
            if task["operator"] == "StageOperator":
                assert "'AIRFLOW_CTX_DAG_RUN_ID': '{{ run_id }}'" in str(
                    task["attrs"]["env_vars"])


def test_kubernetes_pods_mount_the_state_volume(dagbags, plans):
    """`[tool.pipec] state_volume`: every stage pod mounts the claim and keeps its state
    there (PIPEC_STATE_DIR); without it a pod mounts nothing."""
    for name in plans:
        tasks = dagbags["kubernetes"]["dags"][name]["tasks"]
        for task in tasks.values():
            if task["operator"] != "StageOperator":
                continue
            attrs = task["attrs"]
            if name != "fraud_stateful":
                assert not attrs.get("volumes") and "PIPEC_STATE_DIR" not in str(
                    attrs["env_vars"]), name
                continue
            assert "'PIPEC_STATE_DIR': '/var/lib/pipec'" in str(attrs["env_vars"])
            assert "'claim_name': 'ml-state'" in str(attrs["volumes"])
            assert "'mount_path': '/var/lib/pipec'" in str(attrs["volume_mounts"])
            assert attrs["service_account_name"] == "ml-stages"  # `service_account`


def test_max_parallel_stages_is_the_dag_s_max_active_tasks(dagbags, plans):
    """`[tool.pipec] max_parallel_stages` (set for fraud_stateful only): the most tasks
    of one DAG run at once, in Airflow's own DAG; unset, Airflow's default stands."""
    for operator in ("bash", "kubernetes"):
        limits = {name: dagbags[operator]["dags"][name]["max_active_tasks"] for name in plans}
        assert limits.pop("fraud_stateful") == 8
        assert 8 not in limits.values() and None not in limits.values(), limits


def test_kubernetes_tasks_use_the_pipeline_image(dagbags, plans):
    for name, plan in plans.items():
        for stage in plan.stages:
            attrs = dagbags["kubernetes"]["dags"][name]["tasks"][task_id(stage.id)]["attrs"]
            assert plan.image in attrs["image"]
            assert stage.id in attrs["arguments"]
            if stage.resources:
                requests = attrs["container_resources"]["requests"]
                assert requests == {k: str(v) for k, v in stage.resources.items()}


def test_schedules_follow_retrain(dagbags):
    dags = dagbags["bash"]["dags"]
    assert dags["fraud_manual"]["schedule"] is None
    assert dags["fraud_scheduled"]["timetable_summary"] == "*/30 2 * * 1-5"
    assert dags["fraud_detection"]["timetable_summary"] == "0 3 * * *"
    for name in ("fraud_new_snapshot", "fraud_drift", "fraud_continuous"):
        assert "Asset" in dags[name]["timetable"], dags[name]["timetable"]


def test_dag_carries_tags_and_lineage(dagbags, plans):
    for name, plan in plans.items():
        dag = dagbags["bash"]["dags"][name]
        assert "pipec" in dag["tags"] and f"owner:{plan.owner}" in dag["tags"]
        assert lineage_from_doc_md(dag["doc_md"])["dag_hash"] == plan.dag_hash


def test_every_generated_file_parses(programs, tmp_path):
    for path in programs.values():
        for operator in OPERATORS:
            for text in build(path, "airflow", tmp_path, operator).files.values():
                if text.startswith('"""'):
                    ast.parse(text)


def test_user_values_are_literals(programs, tmp_path):
    text = build(programs["fraud_detection"], "airflow", tmp_path).files["fraud_detection.py"]
    constants = module_constants(text)
    assert set(constants) >= {"OWNER", "RETRIES", "TIMEOUT_S", "TASKS", "OVERRIDES",
                              "APPROVALS", "SCHEDULE", "DOC_MD"}
    assert constants["APPROVALS"]["approval__fraud_gbm-human"]["owner"] == "risk"


DRIFT_PROBE = """
import importlib.util, json, sys
from types import SimpleNamespace
spec = importlib.util.spec_from_file_location("generated", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
gate = module.dag.get_task(module.DRIFT_GATE)
answers = [module.drift_crossed(), module.drift_crossed({})]
for extras in json.loads(sys.argv[2]):
    events = {"asset": [SimpleNamespace(extra=extra) for extra in extras]}
    answers.append(module.drift_crossed(events))
print("RESULT", json.dumps([type(gate).__name__, answers]))
"""


def test_a_drift_event_starts_the_run_only_past_the_threshold(programs, tmp_path):
    """Airflow starts a run on any asset event; the drift gate (a ShortCircuitOperator,
    first in the DAG) lets it go on only when an event's measured drift crosses the
    threshold, as Argo's sensor filters the same events (`drift(amount) > 0.2`)."""
    import json
    import subprocess

    from .backend_airflow import SKIP_REASON, airflow_python

    python = airflow_python()
    if python is None:
        pytest.skip(SKIP_REASON)
    files = build(programs["fraud_drift"], "airflow", tmp_path).files
    (tmp_path / "fraud_drift.py").write_text(files["fraud_drift.py"], encoding="utf-8")
    probe = tmp_path / "probe.py"
    probe.write_text(DRIFT_PROBE, encoding="utf-8")
    cases = [[{"value": 0.05}], [{"value": 0.2}], [{"value": 0.35}], [{"value": "0.3"}],
             [{}], [{"value": True}], [{"value": "high"}], [{"value": 0.1}, {"value": 0.9}]]
    done = subprocess.run([str(python), str(probe), str(tmp_path / "fraud_drift.py"),
                           json.dumps(cases)], capture_output=True, text=True, timeout=300,
                          env={"AIRFLOW_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    (result,) = [line[7:] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    operator, answers = json.loads(result)
    assert operator == "ShortCircuitOperator"
    # by hand (no events) x2; 0.05, 0.2 (not > 0.2), 0.35, "0.3", none, a bool, text, any
    assert answers == [True, True, False, False, True, True, False, False, False, True]


STOPPED_PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("generated", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
for code in (0, 1, 2, 3):
    task = module.StageOperator(task_id=f"t{code}", bash_command=f"exit {code}")
    try:
        task.execute({})
        print("RESULT", code, "done")
    except AirflowFailException:
        print("RESULT", code, "failed, no retry")
    except AirflowException:
        print("RESULT", code, "failed, retried")
"""


def test_blocked_and_waiting_stages_fail_without_retries(programs, tmp_path):
    """The generated StageOperator, run by Airflow itself: exit 1 (blocked) and 3 (waiting
    for approval) fail the task for good, 2 (failed) leaves it to its retries."""
    import subprocess

    from .backend_airflow import SKIP_REASON, airflow_python

    python = airflow_python()
    if python is None:
        pytest.skip(SKIP_REASON)
    dag = build(programs["fraud_detection"], "airflow", tmp_path).files["fraud_detection.py"]
    (tmp_path / "fraud_detection.py").write_text(dag, encoding="utf-8")
    probe = tmp_path / "probe.py"
    probe.write_text(STOPPED_PROBE, encoding="utf-8")
    done = subprocess.run([str(python), str(probe), str(tmp_path / "fraud_detection.py")],
                          capture_output=True, text=True, timeout=300,
                          env={"AIRFLOW_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    results = [line[7:] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert results == ["0 done", "1 failed, no retry", "2 failed, retried", "3 failed, no retry"]
