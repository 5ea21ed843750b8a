"""The join reads aligned inputs side by side and falls back to a keyed join otherwise;
both give the same examples table."""

from __future__ import annotations

from typing import Any

import pytest
from pipec.stdlib.runtime.db import connect, query_arrow
from pipec.stdlib.runtime.join import _aligned, _in_row_order, build_examples

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


@pytest.mark.parametrize("spine_order", ["__row_id", "__row_id DESC", "hash(__row_id)"])
def test_examples_come_out_in_base_row_order_whatever_the_spine_order(spine_order: str) -> None:
    """A spine in row order is read side by side and not sorted again; any other spine
    order is sorted, so the examples table is in base-row order either way."""
    con = connect()
    _tables(con, "__row_id")
    con.execute(f"CREATE OR REPLACE TABLE spine AS SELECT * FROM spine ORDER BY {spine_order}")
    con.execute(f"CREATE OR REPLACE TABLE labels AS SELECT * FROM labels ORDER BY {spine_order}")
    con.execute(f"CREATE OR REPLACE TABLE feats AS SELECT * FROM feats ORDER BY {spine_order}")
    assert _in_row_order(con, "spine") == (spine_order == "__row_id")
    build_examples(con, "spine", "labels", "y", ["feats"], "examples")
    assert query_arrow(con, "SELECT * FROM examples").to_pylist() == _expected()


def test_examples_keep_base_row_order_over_many_row_groups() -> None:
    """Read side by side without a sort, 300,000 rows (many row groups, several threads)
    still come out in base-row order."""
    con = connect()
    con.execute("CREATE TABLE spine AS SELECT range AS __row_id, range % 97 AS k "
                "FROM range(300000)")
    con.execute("CREATE TABLE feats AS SELECT range AS __row_id, range * 2 AS view__x "
                "FROM range(300000)")
    assert _aligned(con, "spine", ["feats"]) and _in_row_order(con, "spine")
    build_examples(con, "spine", None, None, ["feats"], "examples")
    xs = [r[0] for r in con.execute("SELECT view__x FROM examples").fetchall()]
    assert xs == list(range(0, 600000, 2))
