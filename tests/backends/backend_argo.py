"""The official Argo Workflows JSON schema, in strict mode, and pipec's own DAG checks.

Strict mode (see ../shared/schemas/README.md): `additionalProperties: false` on every
object definition that has `properties`, and IntOrString as `["string", "integer"]`.
"""

from __future__ import annotations

import copy
import functools
import json

import networkx as nx
import pytest

from .backend_helpers import REPO, argo_dependencies

SCHEMA = REPO.parent / "shared" / "schemas" / "argo-workflows.schema.json"
ARGO_KINDS = ("Workflow", "CronWorkflow", "WorkflowTemplate", "ClusterWorkflowTemplate")


@functools.cache
def _validators() -> dict:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schema = _strict(json.loads(SCHEMA.read_text("utf-8")))
    base = schema.get("$id", "urn:argo-workflows-schema")
    schema["$id"] = base
    registry = Registry().with_resource(base, Resource.from_contents(schema))
    return {kind: Draft202012Validator(
        {"$ref": f"{base}#/definitions/io.argoproj.workflow.v1alpha1.{kind}"},
        registry=registry) for kind in ARGO_KINDS}


def _strict(schema: dict) -> dict:
    schema = copy.deepcopy(schema)
    for name, definition in schema["definitions"].items():
        if "properties" in definition and definition.get("type", "object") == "object":
            definition.setdefault("additionalProperties", False)
        if name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
            definition["type"] = ["string", "integer"]
    return schema


def schema_errors(document: dict) -> list[str]:
    if not SCHEMA.exists():
        pytest.skip(f"the Argo schema is not beside the checkout ({SCHEMA.name})")
    validator = _validators()[document["kind"]]
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


def dag_errors(document: dict) -> list[str]:
    """What no schema catches: unknown templates, unknown or cyclic dependencies."""
    spec = document["spec"].get("workflowSpec", document["spec"])
    templates = {t["name"]: t for t in spec["templates"]}
    errors = [] if spec["entrypoint"] in templates else ["unknown entrypoint"]
    for template in templates.values():
        tasks = template.get("dag", {}).get("tasks", [])
        names = [t["name"] for t in tasks]
        graph = nx.DiGraph()
        graph.add_nodes_from(names)
        for task in tasks:
            if task["template"] not in templates:
                errors.append(f"{task['name']}: unknown template {task['template']}")
            if "dependencies" in task:
                errors.append(f"{task['name']}: `dependencies` beside `depends` elsewhere")
            for dep in argo_dependencies(task):
                if dep not in names:
                    errors.append(f"{task['name']}: unknown dependency {dep}")
                graph.add_edge(dep, task["name"])
        if len(set(names)) != len(names):
            errors.append("duplicate task names")
        if not nx.is_directed_acyclic_graph(graph):
            errors.append("dependency cycle")
    return errors
