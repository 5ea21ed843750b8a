"""YAML for Kubernetes: a SafeDumper with no aliases, keys in the order built, and
block scalars for long or multi-line strings. A `Flow` mapping is written on one line
(YAML flow style): the Argo DAG's tasks, one per stage.

The C emitter (libyaml, which PyYAML's wheels bundle) when present, else the pure-Python
one: the same YAML for ordinary strings, only slower (for exotic line breaks such as
U+2028 the two may quote differently; both load back the same data)."""

from __future__ import annotations

from typing import Any

import yaml

BLOCK_OVER = 80  # characters: longer prose (with spaces) is written as a block
WIDTH = 1 << 30  # never fold a line: a task (one line) may list hundreds of dependencies


class Flow(dict):
    """A mapping written in flow style: `{key: value, ...}` on one line."""


class KubeDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # The emitter falls back to a quoted style when a block scalar cannot hold the value
    # (and inside a flow mapping).
    prose = len(value) > BLOCK_OVER and " " in value
    style = "|" if "\n" in value or prose else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _flow(dumper: yaml.SafeDumper, value: Flow) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


KubeDumper.add_representer(str, _str)
KubeDumper.add_representer(Flow, _flow)


def dump_all(documents: list[dict[str, Any]]) -> str:
    return yaml.dump_all(documents, Dumper=KubeDumper, sort_keys=False, allow_unicode=True,
                         default_flow_style=False, width=WIDTH, explicit_start=True)
