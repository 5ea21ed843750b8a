"""A re-run of a version the registry already approved asks nobody, on Airflow as with
`pipec run`: the register task that an approval's human step follows runs `pipec stage
run --approval-given`, whose answer is the task's XCom (a file the bash task reads, the
pod's `/airflow/xcom/return.json`), and `HumanApproval` completes approved at once when
it is true. Otherwise the human is asked as before. (Argo: test_backend_argo.py.)"""

from __future__ import annotations

import json

import pytest

from .backend_helpers import EXAMPLES, build
from .test_qa_airflow import run_in_airflow

FRAUD = EXAMPLES / "fraud" / "fraud.pipe"
REGISTER = "register__fraud_gbm"

def results(printed: str) -> list[object]:
    """What the probe printed as `RESULT JSON` lines (Airflow logs to stdout too)."""
    return [json.loads(line.removeprefix("RESULT ")) for line in printed.splitlines()
            if line.startswith("RESULT ")]


LOAD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("generated", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
"""

# HumanApproval with a task instance whose register task pushed GIVEN; asking (the HITL
# operator's own `execute`, which writes the request and defers) is replaced by a mark.
HUMAN_PROBE = LOAD + """
from airflow.providers.standard.operators.hitl import HITLOperator

HITLOperator.execute = lambda self, context: "asked"

class TaskInstance:
    def __init__(self, given):
        self.given, self.pushed, self.pulled = given, {}, []

    def xcom_pull(self, task_ids, key="return_value"):
        self.pulled.append((task_ids, key))
        return self.given

    def xcom_push(self, key, value):
        self.pushed[key] = value

step = module.approval_task("approval__fraud_gbm-human", "approval.fraud_gbm",
                            **module.APPROVALS["approval__fraud_gbm-human"])
for given in (True, False, None, "true"):
    ti = TaskInstance(given)
    print("RESULT", json.dumps({"result": step.execute({"ti": ti, "task_instance": ti}),
                                "pushed": ti.pushed, "pulled": ti.pulled}))
"""


def _human(tmp_path, operator: str) -> list[dict]:
    dag = build(FRAUD, "airflow", tmp_path / "out", operator).files["fraud_detection.py"]
    return results(run_in_airflow(tmp_path, dag, HUMAN_PROBE))


@pytest.mark.parametrize("operator", ("bash", "kubernetes"))
def test_the_human_step_asks_nobody_when_the_approval_is_given(tmp_path, operator):
    """Given (the register task's XCom is true): approved without asking or deferring,
    `rejected` false, so the Reject task skips. Anything else (false, no XCom, a string)
    asks, exactly as before."""
    given, *others = _human(tmp_path, operator)
    assert given["result"]["chosen_options"] == ["Approve"]
    assert given["pushed"] == {"rejected": False}
    assert given["pulled"] == [[REGISTER, "return_value"]]
    for other in others:
        assert other["result"] == "asked"
        assert other["pushed"] == {}


CHECK_PROBE = LOAD + """
for command in ('printf true > "$PIPEC_APPROVAL_GIVEN"', 'printf false > "$PIPEC_APPROVAL_GIVEN"',
                'true', 'printf "not json" > "$PIPEC_APPROVAL_GIVEN"'):
    task = module.ApprovalCheck(task_id="check", bash_command=command, append_env=True)
    print("RESULT", json.dumps(task.execute({})))
"""


def test_the_bash_register_task_returns_the_answer_as_its_xcom(tmp_path):
    """`ApprovalCheck` gives the command a file of its own through the environment and
    returns what it wrote: true only for `true`; no file or bad JSON reads false."""
    dag = build(FRAUD, "airflow", tmp_path / "out").files["fraud_detection.py"]
    assert results(run_in_airflow(tmp_path, dag, CHECK_PROBE)) == [True, False, False, False]


def test_the_register_tasks_ask_the_runtime(dagbags):
    """The register task an approval follows passes `--approval-given` (bash: the path in
    the environment, never through the shell's text; kubernetes: the file KubernetesPod
    Operator's `do_xcom_push` reads); no other task does."""
    bash = dagbags["bash"]["dags"]["fraud_detection"]["tasks"]
    pods = dagbags["kubernetes"]["dags"]["fraud_detection"]["tasks"]
    assert bash[REGISTER]["operator"] == "ApprovalCheck"
    assert '--stage register.fraud_gbm --approval-given "$PIPEC_APPROVAL_GIVEN"' in \
        bash[REGISTER]["attrs"]["bash_command"]
    assert "'--approval-given', '/airflow/xcom/return.json'])" in \
        pods[REGISTER]["attrs"]["arguments"]
    assert [t for t, v in bash.items() if "--approval-given" in
            str(v["attrs"].get("bash_command"))] == [REGISTER]
    assert [t for t, v in pods.items() if "--approval-given" in
            str(v["attrs"].get("arguments"))] == [REGISTER]


KUBERNETES_PROBE = LOAD + """
task = module.approval_check_task("register__fraud_gbm", "register.fraud_gbm",
                                  "register-fraud-gbm", ())
print("RESULT", json.dumps([type(task).__name__, task.do_xcom_push]))
"""


def test_the_register_pod_pushes_its_answer(tmp_path):
    dag = build(FRAUD, "airflow", tmp_path / "out", "kubernetes").files["fraud_detection.py"]
    assert results(run_in_airflow(tmp_path, dag, KUBERNETES_PROBE)) == [["StageOperator", True]]
