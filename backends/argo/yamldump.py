"""YAML for Kubernetes: a SafeDumper with no aliases, keys in the order built, and
block scalars for long or multi-line strings."""

from __future__ import annotations

from typing import Any

import yaml

BLOCK_OVER = 80  # characters: longer prose (with spaces) is written as a block


class KubeDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted style when a block scalar cannot hold the value.
    prose = len(value) > BLOCK_OVER and " " in value
    style = "|" if "\n" in value or prose else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


KubeDumper.add_representer(str, _str)


def dump_all(documents: list[dict[str, Any]]) -> str:
    return yaml.dump_all(documents, Dumper=KubeDumper, sort_keys=False, allow_unicode=True,
                         default_flow_style=False, width=4096, explicit_start=True)
