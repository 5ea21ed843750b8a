"""A program with a hostile string in every place a user string can go, and readers that
take each output apart: Python by `ast`, YAML by `yaml.safe_load`, JSON by `json`."""

from __future__ import annotations

import ast
import contextlib
import json
import re
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FRAUD = REPO / "examples" / "fraud"

# Every string-valued place of the language (names are identifiers by grammar; a
# `rollback` version is a number and a `code_commit` a commit id: text there is P001).
FIELDS = ("contact", "team_description", "description", "stage_description", "path",
          "sql", "param_key", "param", "image", "registry", "runtime", "definition",
          "alert", "resource")


def q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def hostile_program(folder: Path, values: dict[str, str], cron: str = "0 3 * * *") -> Path:
    """The reference program (chargebacks read by SQL) carrying `values`."""
    v = {key: q(value) for key, value in values.items()}
    teams = (FRAUD / "teams.pipe").read_text("utf-8").replace(
        'contact "#risk"', f"contact {v['contact']}; description {v['team_description']}")
    text = (FRAUD / "fraud.pipe").read_text("utf-8")
    edits = {
        "  owner ml_fraud\n  risk high": f"  owner ml_fraud\n  description {v['description']}"
                                         "\n  risk high",
        'scheduled "0 3 * * *"': f"scheduled {q(cron)}",
        '"data/transactions.parquet"': v["path"],
        '"chargeback reported within the window after the decision"': v["definition"],
        "learning_rate: 0.05 }": f"learning_rate: 0.05, {v['param_key']}: {v['param']} }}",
        "    seed 42\n": f"    seed 42\n    description {v['stage_description']}\n",
        'memory: "16Gi" }': f'memory: "16Gi", note: {v["resource"]} }}',
        '"registry/"': v["registry"],
        "canary 5% for 1h": f"canary 5% for 1h\n    runtime {v['runtime']}\n"
                            f"    on_failure alert {v['alert']}",
        'from parquet "data/chargebacks.parquet"': f"from sql {v['sql']}",
        '"registry.example.com/ml-train@': '"' + q(values["image"])[1:-1] + "@",
    }
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "teams.pipe").write_text(teams, "utf-8")
    path = folder / "hostile.pipe"
    path.write_text(text, "utf-8")
    return path


def skeleton_py(source: str) -> str:
    """The module's structure with every literal blanked: equal skeletons mean a hostile
    string changed no code, only data."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree, include_attributes=False)


def strings_py(source: str) -> list[str]:
    """Every string literal of a module, and every string inside those that are JSON."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.extend(_with_json(node.value))
    return found


def _with_json(text: str) -> list[str]:
    found = [text]
    if text[:1] in "{[":
        with contextlib.suppress(ValueError):
            found.extend(leaves(json.loads(text)))
    return found


def leaves(value: Any) -> list[str]:
    """Every string in a decoded document, keys included, recursing into embedded JSON."""
    if isinstance(value, str):
        return _with_json(value)
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in leaves(k) + leaves(v)]
    if isinstance(value, list):
        return [s for item in value for s in leaves(item)]
    return []


def skeleton_data(value: Any, user_keys: frozenset[str] = frozenset()) -> Any:
    """A decoded YAML/JSON document with string leaves blanked; keys are kept, except
    those that are user strings (a param key)."""
    if isinstance(value, dict):
        return {("<user>" if k in user_keys else k): skeleton_data(v, user_keys)
                for k, v in value.items()}
    if isinstance(value, list):
        return [skeleton_data(item, user_keys) for item in value]
    return "" if isinstance(value, str) else value


_DOT_STRING = r'"(?:[^"\\\n]|\\.)*"'
DOT_LINE = re.compile(
    rf"(digraph {_DOT_STRING} \{{|  rankdir=LR;|  node \[shape=box, style=rounded\];|"
    rf"  {_DOT_STRING} \[label={_DOT_STRING}\];|"
    rf"  {_DOT_STRING} -> {_DOT_STRING} \[label={_DOT_STRING}\];|\}})")
