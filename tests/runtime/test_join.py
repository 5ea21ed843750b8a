"""The join reads aligned inputs side by side and falls back to a keyed join otherwise;
both give the same examples table."""

from __future__ import annotations

from typing import Any

import pytest
from pipec.stdlib.runtime.db import connect, query_arrow
from pipec.stdlib.runtime.join import _aligned, build_examples

ROWS = 50


def _tables(con: Any, feature_order: str, drop_row: bool = False) -> None:
    con.execute(
        f"CREATE TABLE spine AS SELECT i AS __row_id, 'k' || (i % 3) AS k, i * 10 AS t "
        f"FROM range({ROWS}) r(i)"
    )
    con.execute(
        f"CREATE TABLE labels AS SELECT i AS __row_id, i % 2 = 0 AS label, i % 7 = 0 AS censored "
        f"FROM range({ROWS}) r(i)"
    )
    missing = "WHERE i <> 17" if drop_row else ""
    con.execute(
        f"CREATE TABLE feats AS SELECT i AS __row_id, i * 1.5 AS view__x FROM range({ROWS}) r(i) "
        f"{missing} ORDER BY {feature_order}"
    )


def _examples(feature_order: str, drop_row: bool = False) -> tuple[bool, list[dict]]:
    con = connect()
    _tables(con, feature_order, drop_row)
    aligned = _aligned(con, "spine", ["labels", "feats"])
    counts = build_examples(con, "spine", "labels", "y", ["feats"], "examples")
    assert counts.base_rows == ROWS
    return aligned, query_arrow(con, "SELECT * FROM examples").to_pylist()


def _expected(drop_row: bool = False) -> list[dict]:
    return [
        {"k": f"k{i % 3}", "t": i * 10, "y": i % 2 == 0,
         "view__x": None if drop_row and i == 17 else i * 1.5}
        for i in range(ROWS) if i % 7 != 0
    ]


def test_aligned_inputs_are_read_side_by_side() -> None:
    aligned, rows = _examples("__row_id")
    assert aligned
    assert rows == _expected()


@pytest.mark.parametrize("order", ["__row_id DESC", "hash(__row_id)"])
def test_inputs_out_of_order_take_the_keyed_join(order: str) -> None:
    aligned, rows = _examples(order)
    assert not aligned
    assert rows == _expected()


def test_a_missing_feature_row_takes_the_keyed_join() -> None:
    aligned, rows = _examples("__row_id", drop_row=True)
    assert not aligned
    assert rows == _expected(drop_row=True)
