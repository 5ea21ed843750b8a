"""Programs the examples do not write, through every target: three train / evaluate /
register / deploy chains in one pipeline (two behind a team's approval), every form of
`retrain`, per-stage retries, timeouts, failure policies and resources, and names at
Kubernetes' length limits. What is checked is what the cluster and the scheduler would
refuse or get wrong, beyond the schema: names, references between templates, and each
stage's owner, retries and deadline as the lineage manifest states them."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from .backend_argo import dag_errors, schema_errors
from .backend_helpers import airflow_stages, argo_dependencies, build, module_constants

TEAMS = """\
team data_platform { contact "#data"; role data }
team ml_a { contact "#ml-a"; role ml }
team risk_board { contact "risk@example.com"; role risk }
team prod { contact "p@example.com"; role product }
team plat { contact "#plat"; role platform }
team serving { contact "#serving"; role serving }
"""
IMAGE = "registry.example.com/ml@sha256:" + "4b1c0f9e2d7a8c6b5a49382716f5e4d3" * 2
GATES = ("owners ml_a, prod, risk_board; primary roc_auc >= 0.7; calibration ece <= 0.05; "
         "latency p99 <= 50ms; size <= 100MB; features compatible; "
         "slice kind min 10: roc_auc >= 0.6")
# 67 characters: over a DNS label once `train-` is added, so the task names are hashed
LONG = "model_one_with_an_extremely_long_identifier_name_exceeding_limits_"
RETRAINS = ('manual', 'scheduled "*/7 3-5 1,15 */2 MON-FRI"', 'scheduled "@annually"',
            "triggered on drift(amount) > 0.2", "triggered on new_snapshot", "continuous")


def _chain(model: str, train: str, approval: bool, deploy: str) -> str:
    approved = "; approval by risk_board" if approval else ""
    return (f"  train {model} {{ owner ml_a; model \"sklearn.linear_model.LogisticRegression"
            f"\"; {train} }}\n  evaluate {model} {{ {GATES}{approved} }}\n"
            f"  register {model} {{ owner plat; registry local \"registry/\"; "
            f"rollback previous }}\n  deploy {model} {{ owner serving; {deploy} }}\n")


def _program(name: str, retrain: str, chains: list[str]) -> str:
    return (
        f'import "teams.pipe"\npipeline {name} {{\n  owner ml_a\n'
        '  description "He said \\"hi\\" \\\\ {{ ds }} ${HOME} $(whoami) \u00fc \U0001f680"\n'
        f'  risk medium\n  predicts future\n  image "{IMAGE}"\n'
        '  code_commit "0123456789abcdef0123456789abcdef01234567"\n'
        '  on_failure alert "page {{ dag }} ${X} \\"oncall\\""\n'
        f"  retries 3\n  timeout 45m\n  retrain {retrain}\n"
        '  source ev { owner data_platform; from csv "ev.csv"; snapshot latest; entity id; '
        "time at\n    schema { id: string, at: timestamp, amount: float, late: bool, "
        "kind: category } }\n"
        "  validate ev { owner data_platform; require id; on_failure block }\n"
        "  label late { owner prod; column late }\n"
        "  features h version 1 { owner data_platform; from ev; entity id; time at; "
        "point_in_time; feature a7 = mean(amount) over 7d }\n"
        "  split by time on at { owner ml_a; train before 2026-03-01; "
        "test from 2026-04-01 }\n" + "".join(chains) + "}\n")


THREE_CHAINS = [
    _chain(LONG + "x", 'seed 1; retries 5; timeout 2h; resources { cpu: 4, memory: "16Gi", '
           "gpu: 1 }; on_failure retry", True, "canary 5% for 1h"),
    _chain(LONG + "y", 'seed 2; retries 0; timeout 10m; on_failure alert "y {{x}} \\\\"',
           False, "canary 50% for 2h"),
    _chain("m3", "seed 3", True, "canary 1% for 1h"),
]


def _write(folder, name: str, retrain: str, chains: list[str]):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "teams.pipe").write_text(TEAMS, "utf-8")
    path = folder / f"{name}.pipe"
    path.write_text(_program(name, retrain, chains), "utf-8")
    return path


DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
REFERENCE = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
# Argo refuses a CronWorkflow name over 52 characters (it appends a timestamp); a name
# from `generateName` gets 5 random characters after it.
NAME_MAX = {"CronWorkflow": 52, "Workflow": 58}


def _label_errors(where: str, labels: dict) -> list[str]:
    return [f"{where}: label {key}={value!r}" for key, value in (labels or {}).items()
            if "{{" not in value and (len(value) > 63 or not LABEL_VALUE.fullmatch(value))]


def name_errors(document: dict) -> list[str]:
    """Names and label values Kubernetes or Argo would refuse."""
    metadata = document["metadata"]
    name = metadata.get("name") or metadata["generateName"]
    errors = _label_errors("metadata", metadata.get("labels"))
    if len(name) > NAME_MAX.get(document["kind"], 63) or \
            not DNS_LABEL.fullmatch(name.rstrip("-")):
        errors.append(f"{document['kind']} name {name!r}")
    spec = document["spec"].get("workflowSpec", document["spec"])
    for template in spec.get("templates", []):
        tasks = template.get("dag", {}).get("tasks", [])
        for named in [template["name"], *(t["name"] for t in tasks)]:
            if len(named) > 63 or not DNS_LABEL.fullmatch(named):
                errors.append(f"name {named!r}")
        errors += _label_errors(template["name"], template.get("metadata", {}).get("labels"))
    return errors


def _inputs(template: dict) -> dict[str, dict]:
    return {p["name"]: p for p in template.get("inputs", {}).get("parameters", [])}


def _outputs(template: dict) -> set[str]:
    return {p["name"] for p in template.get("outputs", {}).get("parameters", [])}


def reference_errors(document: dict) -> list[str]:
    """What Argo only finds when a task starts: a `{{...}}` naming an input, a workflow
    parameter, a task or a task's output that does not exist; an argument its template
    does not declare; an input without a default that a task does not pass."""
    spec = document["spec"].get("workflowSpec", document["spec"])
    workflow = {p["name"] for p in spec.get("arguments", {}).get("parameters", [])}
    templates = {t["name"]: t for t in spec["templates"]}
    errors = []
    for name, template in templates.items():
        tasks = {t["name"]: t for t in template.get("dag", {}).get("tasks", [])}
        body = json.dumps({k: v for k, v in template.items() if k != "dag"})
        errors += _unknown(name, body, _inputs(template), workflow, {}, templates)
        for task in tasks.values():
            declared = _inputs(templates[task["template"]])
            passed = {p["name"] for p in task.get("arguments", {}).get("parameters", [])}
            errors += [f"{task['name']}: passes undeclared {p}" for p in passed - set(declared)]
            errors += [f"{task['name']}: does not pass {p}" for p in set(declared) - passed
                       if "default" not in declared[p] and "value" not in declared[p]]
            errors += _unknown(task["name"], json.dumps(task), {}, workflow, tasks, templates)
    return errors


def _unknown(where: str, text: str, inputs: dict, workflow: set[str], tasks: dict,
             templates: dict) -> list[str]:
    return [f"{where}: {reference}" for reference in REFERENCE.findall(text)
            if not _resolves(reference.split("."), inputs, workflow, tasks, templates)]


def _resolves(parts: list[str], inputs: dict, workflow: set[str], tasks: dict,
              templates: dict) -> bool:
    if parts[:2] == ["inputs", "parameters"]:
        return parts[2] in inputs
    if parts[:2] == ["workflow", "parameters"]:
        return parts[2] in workflow
    if parts[0] != "tasks":  # `workflow.uid` and the like: Argo's own
        return True
    task = tasks.get(parts[1])
    return task is not None and parts[2:4] == ["outputs", "parameters"] and \
        parts[4] in _outputs(templates[task["template"]])


def argo_settings(document: dict) -> dict[str, tuple[str, int, int | None]]:
    """Stage id -> (owner label, retries, deadline) of the task that runs it as
    itself (not the approval's human step, its rejection or its re-run)."""
    spec = document["spec"].get("workflowSpec", document["spec"])
    templates = {t["name"]: t for t in spec["templates"]}
    found = {}
    for task in templates[spec["entrypoint"]]["dag"]["tasks"]:
        template = templates[task["template"]]
        values = {name: p.get("default") for name, p in _inputs(template).items()}
        values |= {p["name"]: p["value"] for p in task.get("arguments", {}).get("parameters",
                                                                                  [])}
        if "stage" not in values or task["name"].endswith(("--rejected", "--approved")):
            continue
        timeout = values.get("timeout")
        found[values["stage"]] = (values["owner"], int(values["retries"]),
                                  int(timeout) if timeout is not None else None)
    return found


def _manifest(result) -> dict:
    return json.loads(result.files["lineage.json"])


@pytest.mark.parametrize("retrain", RETRAINS)
def test_argo_accepts_three_chains_under_every_retrain(tmp_path, retrain):
    path = _write(tmp_path / "p", "multi_chain_pipeline_with_a_rather_long_name_that_goes_on",
                  retrain, THREE_CHAINS)
    result = build(path, "argo", tmp_path / "out")
    (text,) = [t for n, t in result.files.items() if n.endswith(".yaml")]
    documents = list(yaml.safe_load_all(text))
    for document in documents:
        assert name_errors(document) == []
        if document["kind"] != "Sensor":
            assert schema_errors(document) == [] and dag_errors(document) == []
            assert reference_errors(document) == []
    stages = {s["id"]: s for s in _manifest(result)["stages"]}
    settings = argo_settings(documents[0])
    assert set(settings) == set(stages)
    for stage_id, (owner, retries, deadline) in settings.items():
        stage = stages[stage_id]
        assert (owner, retries, deadline) == (stage["owner"], stage["retries"],
                                              stage["timeout_s"] and int(stage["timeout_s"]))


def test_airflow_carries_each_stage_s_owner_retries_and_timeout(tmp_path):
    path = _write(tmp_path / "p", "multi_chain", RETRAINS[1], THREE_CHAINS)
    result = build(path, "airflow", tmp_path / "out")
    constants = module_constants(result.files["multi_chain.py"])
    tasks = airflow_stages(constants)
    humans = {spec["owner"] for spec in constants["APPROVALS"].values()}
    assert humans == {"risk_board"}
    stages = {s["id"]: s for s in _manifest(result)["stages"]}
    for settings in tasks.values():
        stage = stages[settings["stage_id"]]
        assert (settings["owner"], settings["retries"], settings["timeout_s"]) == \
            (stage["owner"], stage["retries"], stage["timeout_s"])
    assert {s["stage_id"] for s in tasks.values()} == set(stages)
    assert constants["SCHEDULE"] == "*/7 3-5 1,15 */2 MON-FRI"


@pytest.mark.slow
def test_dagbag_loads_three_chains_under_every_retrain(tmp_path):
    from .backend_airflow import probe

    folder = tmp_path / "dags"
    folder.mkdir()
    for number, retrain in enumerate(RETRAINS):
        name = f"chains_{number}"
        path = _write(tmp_path / name, name, retrain, THREE_CHAINS)
        for operator in ("bash", "kubernetes"):
            files = build(path, "airflow", tmp_path / f"{name}-{operator}", operator).files
            text = files[f"{name}.py"].replace(f"dag_id={name!r}", f"dag_id='{name}_{operator}'")
            (folder / f"{name}_{operator}.py").write_text(text, "utf-8")
    bag = probe(folder)
    assert bag["import_errors"] == {} and bag["warnings"] == []
    assert len(bag["dags"]) == 2 * len(RETRAINS)
    for dag_id, dag in bag["dags"].items():
        tasks = dag["tasks"]
        assert tasks["train__m3"]["upstream"] == ["split"]
        assert tasks["approval__m3-human"]["owner"] == "risk_board"
        assert tasks[f"train__{LONG}x"]["retries"] == 5
        assert tasks[f"train__{LONG}y"]["execution_timeout_s"] == 600
        if "drift" in RETRAINS[int(dag_id.split("_")[1])]:
            assert tasks["drift-gate"]["downstream"] == ["source__ev"]


def test_argo_keeps_a_thousand_stage_multi_model_pipeline_small_and_valid(tmp_path):
    # 250 chains, half of them with resources of their own (their own templates), a
    # third behind an approval: 1,090 stages and 1,256 DAG tasks
    chains = [_chain(f"model_number_{i:04d}_with_a_long_name_to_push_the_limits",
                     f"seed {i}; retries {i % 4}; timeout {10 + i}m"
                     + (f'; resources {{ cpu: {1 + i % 7}, memory: "{1 + i % 5}Gi" }}'
                        if i % 2 else ""), i % 3 == 0, "canary 5% for 1h")
              for i in range(250)]
    path = _write(tmp_path / "p", "big_chains", RETRAINS[1], chains)
    result = build(path, "argo", tmp_path / "out")
    text = result.files["big_chains.yaml"]
    assert len(text.encode()) < 1_000_000
    (document,) = yaml.safe_load_all(text)
    assert schema_errors(document) == [] and dag_errors(document) == []
    assert name_errors(document) == [] and reference_errors(document) == []
    stages = _manifest(result)["stages"]
    assert len(stages) > 1000
    assert len(argo_settings(document)) == len(stages)
    tasks = document["spec"]["workflowSpec"]["templates"][0]["dag"]["tasks"]
    assert max(len(argo_dependencies(t)) for t in tasks) == 3  # the join


POD_SETTINGS = ('[tool.pipec]\nstate_volume = "ml-state"\nservice_account = "ml-stages"\n'
                'manifest_configmap = "ml-manifest"\n')
ALL_UNUSED = ["[tool.pipec] manifest_configmap", "[tool.pipec] service_account",
              "[tool.pipec] state_volume"]


def _unused_notes(result) -> list[str]:
    return sorted(d.message.split("`")[1] for d in result.diagnostics
                  if d.code == "BUILD002" and "[tool.pipec]" in d.message)


@pytest.mark.parametrize("target, operator, unused", [
    ("local", "bash", ALL_UNUSED),
    ("airflow", "bash", ALL_UNUSED),
    ("airflow", "kubernetes", []),
    ("argo", "bash", []),
])
def test_pod_settings_a_target_runs_without_are_noted(tmp_path, target, operator, unused):
    """A service account (or a claim) the platform team set for the stage pods is said
    to be unused where stages run in no pod, not dropped without a word: Bash tasks ran
    with the workers' own credentials and nothing said so."""
    path = _write(tmp_path / "p", "multi_chain", "manual", THREE_CHAINS)
    (tmp_path / "p" / "pyproject.toml").write_text(POD_SETTINGS, "utf-8")
    result = build(path, target, tmp_path / "out", operator)
    assert _unused_notes(result) == unused
