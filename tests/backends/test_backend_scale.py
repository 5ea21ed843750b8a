"""A generated 1,000-stage program: Argo stays well under 1 MB; Airflow's DagBag loads it;
both outputs stay lean (defaults once, no per-stage lineage in the documentation)."""

from __future__ import annotations

import importlib.util

import pipec
import pytest
import yaml
from pipec.backends.naming import dns_label
from pipec.backends.plan import plan_of

from .backend_argo import dag_errors, schema_errors
from .backend_helpers import REPO, argo_dependencies, argo_stage_tasks, build, module_constants


def _generate(tmp_path, stages: int):
    spec = importlib.util.spec_from_file_location("gen_program", REPO / "tools" / "gen_program.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "big.pipe"
    path.write_text(module.program(stages), "utf-8")
    return path


def test_generator_makes_a_clean_program_of_n_stages(tmp_path):
    import pipec

    program = pipec.compile(_generate(tmp_path, 40))
    assert program.ok and program.diagnostics == [] and len(program.stages) == 40


def test_thousand_stages_for_argo(tmp_path):
    path = _generate(tmp_path, 1000)
    files = build(path, "argo", tmp_path / "out").files
    text = files["generated_1000.yaml"]
    assert len(text.encode()) < 150_000
    (document,) = yaml.safe_load_all(text)
    assert schema_errors(document) == [] and dag_errors(document) == []
    # The 990 feature views (same input, same dependent) are one nested DAG, which the
    # join waits for as a whole; opened, the edges are the program's.
    spec = document["spec"]
    outer = spec["templates"][0]["dag"]["tasks"]
    (group,) = [t for t in outer if t["name"].startswith("fanout-")]
    assert argo_dependencies(group) == ["validate-events"]
    join = next(t for t in outer if t["name"] == "join")
    assert group["name"] in argo_dependencies(join) and len(argo_dependencies(join)) == 3
    tasks = argo_stage_tasks(spec)
    assert len(tasks) == 1000
    plan = plan_of(pipec.compile(path))
    edges = sorted((d, t["name"]) for t in tasks for d in argo_dependencies(t))
    assert edges == sorted((dns_label(a), dns_label(b)) for a, b in plan.edges)


@pytest.mark.slow
def test_thousand_stages_load_in_dagbag(tmp_path):
    from .backend_airflow import probe

    folder = tmp_path / "dags"
    folder.mkdir()
    files = build(_generate(tmp_path, 1000), "airflow", tmp_path / "out").files
    (folder / "generated_1000.py").write_text(files["generated_1000.py"], "utf-8")
    bag = probe(folder)
    assert bag["import_errors"] == {} and bag["warnings"] == []
    assert len(bag["dags"]["generated_1000"]["tasks"]) == 1000


def test_thousand_stages_stay_lean(tmp_path):
    path = _generate(tmp_path, 1000)
    text = build(path, "airflow", tmp_path / "a").files["generated_1000.py"]
    constants = module_constants(text)
    assert len(constants["TASKS"]) == 1000
    # owner, retries and timeout are written once (default_args) and again only where a
    # task differs: here the sources and the label, owned by other teams
    assert len(constants["OVERRIDES"]) <= 5
    assert len(constants["DOC_MD"]) < 4_000  # a summary: every stage is in lineage.json
    assert len(text.encode()) < 110_000
    (document,) = yaml.safe_load_all(build(path, "argo", tmp_path / "b").files[
        "generated_1000.yaml"])
    tasks = argo_stage_tasks(document["spec"])
    passed = [p["name"] for t in tasks for p in t["arguments"]["parameters"]]
    assert passed.count("stage") == 1000 and len(passed) <= 1005  # defaults: in the template
    assert len(document["metadata"]["annotations"]["pipec.dev/lineage"]) < 3_000
