"""YAML for Kubernetes: a SafeDumper with no aliases, keys in the order built, and
block scalars for long or multi-line strings. A `Flow` mapping is written on one line
(YAML flow style): the Argo DAG's tasks, one per stage.

The C emitter (libyaml, which PyYAML's wheels bundle) when present, else the pure-Python
one: the same YAML for ordinary strings, only slower (for exotic line breaks such as
U+2028 the two may quote differently; both load back the same data)."""

from __future__ import annotations

import re
from typing import Any

import yaml

BLOCK_OVER = 80  # characters: longer prose (with spaces) is written as a block
WIDTH = 1 << 30  # never fold a line: a task (one line) may list hundreds of dependencies
# Plain scalars that PyYAML (YAML 1.1 as it reads it) leaves as strings but go-yaml, which
# kubectl, the argo CLI and Argo Events read manifests with, takes for a bool or a number:
# `y`/`n` (YAML 1.1 booleans PyYAML does not implement), floats without a dot or with an
# unsigned exponent (`1e3`, `1e-05`, `+.5`, `09`) and `0o`/`0X`/`0B` integers. Written
# plain, a claim named `1e3` or a drift threshold of 1e-05 (`str(0.00001)`) would reach
# Kubernetes as a number, and a pipeline named `y` as `true`: quote them.
# (go-yaml v2 resolve.go: its `resolveMapList`, and `yamlStyleFloat` and `ParseInt(s, 0)`
# tried on the scalar with its `_` removed when it starts with a sign, digit or `.`.)
_GO_YAML_BOOL = re.compile(r"[yYnN]")
_GO_YAML_NUMBER = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                             r"|[-+]?0[xXoObB][0-9a-fA-F]+")


def go_yaml_misreads(value: str) -> bool:
    """Whether go-yaml reads `value`, written plain, as something other than a string
    where PyYAML would write it plain (see above)."""
    if _GO_YAML_BOOL.fullmatch(value):
        return True
    starts_a_number = value != "" and value[0] in "+-.0123456789"
    return starts_a_number and bool(_GO_YAML_NUMBER.fullmatch(value.replace("_", "")))


class Flow(dict):
    """A mapping written in flow style: `{key: value, ...}` on one line."""


class KubeDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=_style(value))


def _style(value: str) -> str | None:
    if go_yaml_misreads(value):
        return "'"
    # The emitter falls back to a quoted style when a block scalar cannot hold the value
    # (and inside a flow mapping).
    prose = len(value) > BLOCK_OVER and " " in value
    return "|" if "\n" in value or prose else None


def _flow(dumper: yaml.SafeDumper, value: Flow) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


KubeDumper.add_representer(str, _str)
KubeDumper.add_representer(Flow, _flow)


def dump_all(documents: list[dict[str, Any]]) -> str:
    return yaml.dump_all(documents, Dumper=KubeDumper, sort_keys=False, allow_unicode=True,
                         default_flow_style=False, width=WIDTH, explicit_start=True)
