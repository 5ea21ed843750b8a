"""Shared helpers for the backend tests: building programs, reading outputs back."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pipec
from pipec.backends.build import BuildResult, build_files

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
GOLDEN = REPO / "tests" / "golden"
TARGETS = ("airflow", "argo", "local")


def pipeline_examples() -> list[Path]:
    """Every example file that declares a pipeline (libraries such as teams.pipe don't)."""
    found = []
    for path in sorted(EXAMPLES.glob("*/*.pipe")):
        if pipec.compile(path).pipeline is not None:
            found.append(path)
    return found


def build(path: Path, target: str, output: Path, operator: str = "bash") -> BuildResult:
    result = build_files(path, target, output, airflow_operator=operator)
    assert result.ok, [f"{d.code}: {d.message}" for d in result.diagnostics]
    return result


def variant(example: Path, folder: Path, name: str, retrain: str) -> Path:
    """A copy of `example` (with the files beside it) renamed to `name` and retraining
    with `retrain` (the text after the keyword)."""
    folder.mkdir(parents=True, exist_ok=True)
    for sibling in example.parent.glob("*.pipe"):
        shutil.copy(sibling, folder / sibling.name)
    text = example.read_text("utf-8")
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("retrain "):
            line = line[: len(line) - len(line.lstrip())] + f"retrain {retrain}"
        elif stripped.startswith("pipeline "):
            line = f"pipeline {name} {{"
        lines.append(line)
    target = folder / f"{name}.pipe"
    (folder / example.name).unlink()
    target.write_text("\n".join(lines) + "\n", "utf-8")
    return target


def module_constants(source: str) -> dict[str, object]:
    """Module-level `NAME = <literal>` assignments of a generated Python file."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return found


def airflow_stages(constants: dict[str, object]) -> dict[str, dict[str, object]]:
    """Stage task id -> the settings it runs with (stage id, owner, retries, timeout_s,
    doc_md, pod_name, resources), read from a generated DAG file's `TASKS` table, its
    defaults and its `OVERRIDES`. Approvals are left out (see `APPROVALS`)."""
    defaults = {"owner": constants["OWNER"], "retries": constants["RETRIES"],
                "timeout_s": constants["TIMEOUT_S"], "doc_md": None, "resources": None}
    found = {}
    for row in constants["TASKS"]:
        task, stage, *pod, _upstream = row
        if task in constants["APPROVALS"]:
            continue
        found[task] = {**defaults, "stage_id": stage, **constants["OVERRIDES"].get(task, {})}
        if pod:
            found[task]["pod_name"] = pod[0]
    return found


def airflow_edges(constants: dict[str, object]) -> list[tuple[str, str]]:
    """(upstream task id, downstream task id) from a generated DAG file's `TASKS`."""
    return sorted((upstream, row[0]) for row in constants["TASKS"] for upstream in row[-1])


def argo_dependencies(task: dict) -> list[str]:
    """The task names an Argo DAG task waits for (`depends: "a && b.Succeeded"`, or
    `(a.Succeeded || b.Succeeded)` after either of two tasks, `a.Skipped`), in order."""
    if "depends" not in task:
        return []
    terms = re.split(r" && | \|\| ", task["depends"].replace("(", "").replace(")", ""))
    return [re.sub(r"\.(Succeeded|Skipped)$", "", term) for term in terms]


def argo_stage_tasks(spec: dict) -> list[dict]:
    """Every task of the workflow's DAG that runs a stage or an approval, fan-out groups
    opened: a grouped stage depends on what its group depends on, and a task depending
    on a group depends on each of its stages (`depends` rewritten accordingly)."""
    templates = {t["name"]: t for t in spec["templates"]}
    outer = templates[spec["entrypoint"]]["dag"]["tasks"]
    groups = {t["name"]: templates[t["template"]]["dag"]["tasks"] for t in outer
              if "dag" in templates[t["template"]]}

    def opened(names: list[str]) -> list[str]:
        return sorted(m["name"] for n in names for m in groups.get(n, [{"name": n}]))

    def with_depends(task: dict, names: list[str]) -> dict:
        task = {k: v for k, v in task.items() if k != "depends"}
        return task | ({"depends": " && ".join(names)} if names else {})

    found = []
    for task in outer:
        needs = opened(argo_dependencies(task))
        if task["name"] in groups:
            found += [with_depends(m, needs) for m in groups[task["name"]]]
        else:
            found.append(with_depends(task, needs))
    return found


def hostile_program(folder: Path, values: dict[str, str], cron: str,
                    name: str = "fraud_detection") -> Path:
    """The reference program with `values` in every user-controlled string."""
    import json

    q = lambda key: json.dumps(values[key], ensure_ascii=False)  # noqa: E731
    teams = (EXAMPLES / "fraud" / "teams.pipe").read_text("utf-8")
    teams = teams.replace('contact "#risk"', f"contact {q('contact')}")
    text = (EXAMPLES / "fraud" / "fraud.pipe").read_text("utf-8")
    text = text.replace("  owner ml_fraud\n  risk high",
                        f"  owner ml_fraud\n  description {q('description')}\n  risk high")
    text = text.replace('"data/transactions.parquet"', q("path"))
    text = text.replace("learning_rate: 0.05 }", f"learning_rate: 0.05, note: {q('param')} }}")
    text = text.replace("    seed 42\n", f"    seed 42\n    description {q('stage')}\n")
    text = text.replace('"registry.example.com/ml-train@', '"' + json.dumps(
        values["image"], ensure_ascii=False)[1:-1] + "@")
    text = text.replace('scheduled "0 3 * * *"', f'scheduled "{cron}"')
    text = text.replace("pipeline fraud_detection {", f"pipeline {name} {{")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "teams.pipe").write_text(teams, "utf-8")
    (folder / "hostile.pipe").write_text(text, "utf-8")
    return folder / "hostile.pipe"
