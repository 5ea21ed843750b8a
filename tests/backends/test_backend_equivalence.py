"""The same stages, edges, retries, timeouts, schedule and approval points in the
Airflow, Argo and local outputs of every program."""

from __future__ import annotations

import math

import yaml
from pipec.backends.airflow.docs import lineage_from_doc_md
from pipec.backends.naming import dns_label, stage_id_of_task

from .backend_helpers import (
    airflow_edges,
    airflow_stages,
    argo_dependencies,
    argo_stage_tasks,
    build,
    module_constants,
)


def _airflow(path, tmp_path) -> dict:
    (text,) = [t for n, t in build(path, "airflow", tmp_path).files.items()
               if n.endswith(".py")]
    c = module_constants(text)
    stages = {s["stage_id"]: (s["retries"], s["timeout_s"]) for s in airflow_stages(c).values()}
    approvals = sorted(stage for task, stage, *_ in c["TASKS"] if task in c["APPROVALS"])
    return {"stages": {k: v for k, v in stages.items() if k not in approvals},
            "approvals": approvals,
            "edges": _through_human_steps(
                [(stage_id_of_task(a), stage_id_of_task(b)) for a, b in airflow_edges(c)],
                {stage_id_of_task(task): stage for task, stage, *_ in c["TASKS"]
                 if task in c["APPROVALS"]}),
            "retrain": lineage_from_doc_md(c["DOC_MD"])["retrain"]}


def _argo(path, tmp_path) -> dict:
    (text,) = [t for n, t in build(path, "argo", tmp_path).files.items() if n.endswith(".yaml")]
    documents = list(yaml.safe_load_all(text))
    workflow = documents[0]
    spec = workflow["spec"].get("workflowSpec", workflow["spec"])
    # The task that records a rejection runs the approval stage's entry point in place
    # of it; like Airflow's `-rejected` task, it is no stage of its own.
    tasks = [t for t in argo_stage_tasks(spec) if t["template"] != "record-rejection"]
    templates = {t["name"]: t for t in spec["templates"]}
    stage_of = {t["name"]: _param(t, "stage", templates) for t in tasks}
    human = {t["name"]: t["name"].removesuffix("--human") for t in tasks
             if t["template"] == "approval"}
    # The approval stage run after a skipped human step (the registry held the approval)
    # is the approval stage too, as its human step is.
    human |= {t["name"]: t["name"].removesuffix("--approved") for t in tasks
              if t["name"].endswith("--approved")}
    stages = {stage_of[t["name"]]: (int(_param(t, "retries", templates)),
                                    _timeout(t, templates))
              for t in tasks if t["template"] != "approval" and t["name"] not in human
              and t["name"] not in human.values()}
    edges = _through_human_steps([(d, t["name"]) for t in tasks for d in argo_dependencies(t)],
                                 human)
    approvals = sorted(human)
    return {"stages": stages, "edges": edges, "approvals": approvals,
            "kind": workflow["kind"], "cron": workflow["spec"].get("schedules")}


def _through_human_steps(edges, human):
    """The edges with each human step (`human`: step -> its approval stage) folded into
    the stage it precedes: `register -> step -> approval` reads `register -> approval`
    (and `approval -> deploy` once, though deploy waits for either approval task)."""
    folded = ((human.get(a, a), human.get(b, b)) for a, b in edges)
    return sorted({(a, b) for a, b in folded if a != b})


def _param(task, name, templates):
    """The value the task passes, else its template's default."""
    for parameter in task.get("arguments", {}).get("parameters", []):
        if parameter["name"] == name:
            return parameter["value"]
    for parameter in templates[task["template"]].get("inputs", {}).get("parameters", []):
        if parameter["name"] == name:
            return parameter.get("default")
    return None


def _timeout(task, templates):
    value = _param(task, "timeout", templates)
    return int(value) if value is not None else None


def _local(path, tmp_path) -> dict:
    (text,) = [t for n, t in build(path, "local", tmp_path).files.items()
               if n.startswith("run_")]
    c = module_constants(text)
    return {"stages": {s: (r, t) for s, _o, r, t, a in c["STAGES"] if not a},
            "approvals": sorted(s for s, *_rest, a in c["STAGES"] if a),
            "edges": sorted(map(tuple, c["EDGES"])), "retrain": c["SCHEDULE"],
            "order": [s[0] for s in c["STAGES"]]}


def test_targets_agree(programs, plans, tmp_path):
    for name, path in programs.items():
        plan = plans[name]
        airflow = _airflow(path, tmp_path / name / "a")
        argo = _argo(path, tmp_path / name / "b")
        local = _local(path, tmp_path / name / "c")
        expected = {s.id: (s.retries, s.timeout_s) for s in plan.stages if not s.is_approval}
        assert airflow["stages"] == local["stages"] == expected
        assert argo["stages"] == {k: (r, None if t is None else math.ceil(t))
                                  for k, (r, t) in expected.items()}
        assert airflow["edges"] == local["edges"] == list(plan.edges)
        approvals = sorted(s.id for s in plan.stages if s.is_approval)
        assert airflow["approvals"] == local["approvals"] == approvals
        assert argo["approvals"] == sorted(dns_label(a) + suffix for a in approvals
                                           for suffix in ("--approved", "--human"))
        assert argo["edges"] == sorted((dns_label(a), dns_label(b)) for a, b in plan.edges)
        assert airflow["retrain"] == local["retrain"] == plan.retrain
        assert local["order"] == [s.id for s in plan.stages]
        if plan.retrain["kind"] == "scheduled":
            assert argo["kind"] == "CronWorkflow" and argo["cron"] == [plan.retrain["cron"]]
