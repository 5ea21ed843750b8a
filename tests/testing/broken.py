"""Deliberately broken split implementations, with the runtime's signature, that the
split properties must catch. Importable by name so that a child interpreter can run them."""

from __future__ import annotations

import math
import random
from datetime import date
from typing import Any

import pyarrow as pa
from pipec.stdlib.runtime.splits import SIDE, assign_sides


def _with_sides(table: pa.Table, sides: list[Any]) -> pa.Table:
    return table.append_column(SIDE, pa.array(sides, pa.string()))


def _keys(table: pa.Table, split: dict[str, Any], on: str | None) -> list[Any]:
    return table.column(split.get("on") or on).to_pylist()


def _test_share(split: dict[str, Any]) -> float:
    return 0.2 if split.get("test") is None else float(split["test"])


def row_order_entity_split(table: pa.Table, split: dict[str, Any], snapshot: date | None, *,
                           on: str | None = None, identity: list[str] | None = None) -> pa.Table:
    """The first `test` share of the keys, in order of first appearance, are test."""
    keys = _keys(table, split, on)
    order = list(dict.fromkeys(keys))
    test = set(order[:math.ceil(_test_share(split) * len(order))])
    return _with_sides(table, ["test" if k in test else "train" for k in keys])


def gapless_time_split(table: pa.Table, split: dict[str, Any], snapshot: date | None, *,
                       on: str | None = None, identity: list[str] | None = None) -> pa.Table:
    """Ignores the gap: the test period starts where training ends."""
    return assign_sides(table, {**split, "gap_s": 0, "test_from": None}, snapshot,
                        on=on, identity=identity)


def builtin_hash_entity_split(table: pa.Table, split: dict[str, Any], snapshot: date | None,
                              *, on: str | None = None,
                              identity: list[str] | None = None) -> pa.Table:
    """Hashes keys with Python's `hash()`, which PYTHONHASHSEED randomises per process."""
    share = _test_share(split)
    return _with_sides(table, ["test" if hash(str(k)) % 10_000 < share * 10_000 else "train"
                               for k in _keys(table, split, on)])


def salted_hash_entity_split(table: pa.Table, split: dict[str, Any], snapshot: date | None,
                             *, on: str | None = None,
                             identity: list[str] | None = None) -> pa.Table:
    """`hash()` with a new salt on every call: what a randomised hash does between runs,
    simulated inside one process."""
    salt = random.random()
    share = _test_share(split)
    return _with_sides(table, ["test" if hash((salt, str(k))) % 10_000 < share * 10_000
                               else "train" for k in _keys(table, split, on)])


def raising_split(table: pa.Table, split: dict[str, Any], snapshot: date | None, *,
                  on: str | None = None, identity: list[str] | None = None) -> pa.Table:
    """Raises on every input, in this process and in a child one."""
    raise ValueError("boom")
