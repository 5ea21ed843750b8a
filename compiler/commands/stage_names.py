"""Stage names on the command line: a stage id (`train.delay_gbm`, `split`) or, when
only one stage has it, a kind (`train`) or a name (`delay_gbm` is ambiguous there)."""

from __future__ import annotations

from typing import Any


def resolve_stage(manifest: dict[str, Any], written: str) -> str:
    ids = [s["id"] for s in manifest["stages"]]
    if written in ids:
        return written
    by_kind = [s["id"] for s in manifest["stages"] if s["kind"] == written]
    if len(by_kind) == 1:
        return by_kind[0]
    choices = ", ".join(ids)
    if len(by_kind) > 1:
        raise ValueError(f"`{written}` names several stages: {', '.join(by_kind)}")
    raise ValueError(f"no stage `{written}`; the stages are: {choices}")
