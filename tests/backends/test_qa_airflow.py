"""Airflow target, as a demanding user meets it: what a task's log says when a stage
stops the run, and which teams the DAG names as owners."""

from __future__ import annotations

import ast
import subprocess

import pytest

from .backend_airflow import SKIP_REASON, airflow_python
from .backend_helpers import EXAMPLES, build

FLIGHTS = EXAMPLES / "flights" / "flights.pipe"

STOPPED_LOG_PROBE = """
import importlib.util, sys, traceback
spec = importlib.util.spec_from_file_location("generated", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from airflow.providers.common.compat.sdk import AirflowFailException
task = module.StageOperator(task_id="stopped", bash_command="exit 1")
try:
    task.execute({})
except AirflowFailException as failed:
    print("".join(traceback.format_exception(failed)))
"""


def dag_argument(source: str, name: str) -> object:
    """The literal value of the keyword argument `name` of the file's `DAG(...)` call."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DAG":
            [value] = [k.value for k in node.keywords if k.arg == name]
            return ast.literal_eval(value)
    raise AssertionError("no DAG(...) call")


def run_in_airflow(tmp_path, dag_text: str, probe: str) -> str:
    """`probe` run by the Airflow virtualenv's Python on the DAG file `dag_text`."""
    python = airflow_python()
    if python is None:
        pytest.skip(SKIP_REASON)
    dag = tmp_path / "dag.py"
    dag.write_text(dag_text, encoding="utf-8")
    script = tmp_path / "probe.py"
    script.write_text(probe, encoding="utf-8")
    done = subprocess.run([str(python), str(script), str(dag)], capture_output=True,
                          text=True, timeout=300,
                          env={"AIRFLOW_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_stopped_stage_fails_with_one_short_traceback(tmp_path):
    """A blocked stage (exit 1) fails its task; the log's traceback is the failure alone,
    not the BashOperator's "...Skipping." chained before it, which read as if the task
    were skipped and doubled the noise under the stage's own one-line reason."""
    dag = build(FLIGHTS, "airflow", tmp_path / "out").files["flights_delay.py"]
    logged = run_in_airflow(tmp_path, dag, STOPPED_LOG_PROBE)
    assert "a blocking check or gate stopped the stage" in logged
    assert "Skipping" not in logged
    assert "direct cause" not in logged
    assert logged.count("Traceback (most recent call last)") == 1


DEFERRED_STOP_PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("generated", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException

def pod_exited_1(self, context, event):  # what the provider raises for exit code 1
    raise AirflowSkipException("Pod stopped returned exit code 1. Skipping.")

KubernetesPodOperator.trigger_reentry = pod_exited_1
task = module.StageOperator(task_id="stopped", name="stopped", image="pipec")
try:
    task.trigger_reentry({}, {"name": "stopped", "namespace": "default"})
except AirflowFailException as failed:
    print("failed:", failed)
"""


def test_a_deferred_pod_that_stops_fails_its_task(tmp_path):
    """With `[operators] default_deferrable = True` the pod operator reads the exit code
    after its trigger, in `trigger_reentry`, not `execute`: a blocked stage (exit 1)
    must fail the task there too, not leave it skipped (a green DAG run; an approval's
    rejection task would run on the skip)."""
    dag = build(FLIGHTS, "airflow", tmp_path / "out", "kubernetes").files["flights_delay.py"]
    logged = run_in_airflow(tmp_path, dag, DEFERRED_STOP_PROBE)
    assert "failed: a blocking check or gate stopped the stage" in logged


def test_evaluate_co_owners_tag_the_dag(tmp_path):
    """`owners ml_flights, flights_product, ops_risk` on evaluate: every co-owner is an
    `owner:` tag of the DAG, so filtering Airflow's DAG list by `ops_risk` finds the
    pipeline whose gates that team co-owns (it owns no other stage of flights.pipe)."""
    tags = set(dag_argument(build(FLIGHTS, "airflow", tmp_path).files["flights_delay.py"],
                            "tags"))
    assert {"owner:ml_flights", "owner:flights_product", "owner:ops_risk"} <= tags


def test_co_owner_tags_reach_airflow(dagbags):
    """The same through Airflow's DagBag; the task keeps its one owner (a comma list
    would make Airflow show a team twice among the DAG's owners)."""
    dag = dagbags["bash"]["dags"]["flights_delay"]
    assert "owner:ops_risk" in dag["tags"]
    assert dag["tasks"]["evaluate__delay_gbm"]["owner"] == "ml_flights"  # one owner


def test_the_pipeline_description_is_the_dag_s(dagbags):
    """Airflow's DAG list shows a DAG's `description` beside its name: the pipeline's."""
    dag = dagbags["bash"]["dags"]["flights_delay"]
    assert dag["description"] == ("Arrival delay > 15 min for NYC departures, scored at "
                                  "booking time")


def imports(tree: ast.Module) -> list[tuple[str, str]]:
    """(module, bound name) of every top-level import of a generated file."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            found += [(a.name, a.asname or a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            found += [(node.module or "", a.asname or a.name) for a in node.names]
    return found


@pytest.mark.parametrize("operator", ("bash", "kubernetes"))
def test_generated_imports_are_used_and_sorted(programs, tmp_path, operator):
    """Teams lint their DAG folder (pyflakes, isort): a manual or cron DAG imported
    `Asset` and `AssetAny` without using them, and the operator's import sat out of
    order, so `ruff --fix` on the folder rewrote generated files."""
    for name, path in programs.items():
        files = build(path, "airflow", tmp_path / name / operator, operator).files
        tree = ast.parse(files[f"{name}.py"])
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        found = imports(tree)
        assert [bound for _, bound in found if bound not in used] == [], name
        from_airflow = [m for m, _ in found if m.startswith(("airflow", "kubernetes"))]
        assert from_airflow == sorted(from_airflow), name
