"""Exact sums packed into the counts' aggregate (`features._Lanes`) give the same bytes as
the DECIMAL sums they replace, and `packable_sums` packs only what fits."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, assume, given, settings
from pipec.stdlib.runtime import features as F
from pipec.stdlib.runtime.db import connect, query_arrow

HOUR_US = 3_600 * 1_000_000
AGGS = (F.Aggregate("s", "sum", "v", 5 * HOUR_US), F.Aggregate("m", "mean", "v", 5 * HOUR_US),
        F.Aggregate("n", "count", None, 5 * HOUR_US),
        F.Aggregate("s2", "sum", "v", 2 * HOUR_US))
VIEW = F.ViewSpec("view", "k", "t", "t", 0, AGGS, ())

# Finite doubles of every size the exact sums keep: large, halves at the 9th place,
# tiny ones that move a column to more decimal places, negatives, NULLs.
values = st.one_of(
    st.none(),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([0.5e-9, 1.5e-9, -2.5e-9, 1e-12, 0.1, 0.2, 0.3, 123.456789]),
)
rows = st.lists(st.tuples(st.sampled_from(["a", "b", None]), st.integers(0, 8), values),
                min_size=1, max_size=20)


def _table(rows: list[tuple]) -> Any:
    con = connect()
    con.execute("CREATE TABLE base (__row_id BIGINT, k VARCHAR, t TIMESTAMP, v DOUBLE)")
    con.executemany("INSERT INTO base VALUES (?, ?, TIMESTAMP '2026-01-01' + "
                    "to_microseconds(?), ?)",
                    [(i, k, t * HOUR_US, v) for i, (k, t, v) in enumerate(rows)])
    return con


def _planned(con: Any, view: F.ViewSpec) -> F.ViewSpec:
    """The view as `build_features` prepares it, packing as it decides."""
    bounds = F.sum_bounds(con, view, "base")
    view = replace(view, float_sums=F.inexact_sums(con, view, "base", bounds),
                   sum_scales=F.exact_scales(bounds))
    return replace(view, packed_sums=F.packable_sums(con, view, "base"))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, st.booleans(), st.booleans())
def test_packed_float_sums_are_the_decimal_sums(rows: list[tuple], grouped: bool,
                                                pair: bool) -> None:
    """Each double scaled and rounded to an integer, summed in a HUGEINT, gives exactly
    the DOUBLE that the DECIMAL(38, s) sum gave: same values, same NULLs, same types."""
    con = _table(rows)
    view = replace(_planned(con, VIEW), pair_counts=pair)
    # Tiny values beside large ones take 18 places, which large sums do not fit.
    assume(view.packed_sums)
    order = " ORDER BY __row_id"
    packed = query_arrow(con, F.self_aggregates_sql("base", view, grouped) + order)
    plain = replace(view, packed_sums=())
    decimal = query_arrow(con, F.self_aggregates_sql("base", plain, grouped) + order)
    assert packed.schema == decimal.schema
    assert packed.to_pylist() == decimal.to_pylist()


def test_build_features_packs_and_keeps_its_rows() -> None:
    """build_features packs a double column; its table is the unpacked plan's, byte for
    byte (the benchmark's amounts: two places, some NULL)."""
    con = _table([("a", i % 7, None if i % 5 == 0 else (i * 37 % 1000) / 100)
                  for i in range(60)])
    F.build_features(con, VIEW, "base", "base", "auto")
    plain = replace(_planned(con, VIEW), packed_sums=())
    assert _planned(con, VIEW).packed_sums
    want = query_arrow(con, F.self_aggregates_sql("base", plain) + " ORDER BY __row_id")
    assert query_arrow(con, "SELECT * FROM auto").to_pylist() == want.to_pylist()


@pytest.mark.parametrize(("column_sql", "packed"), [
    ("CAST(v AS DOUBLE)", (("v", "float"),)),
    ("CAST(v AS INTEGER)", (("v", "integer"),)),
    ("CAST(v AS DECIMAL(10, 2))", ()),  # a DECIMAL keeps its exact cast
])
def test_packable_sums_by_type(column_sql: str, packed: tuple) -> None:
    con = connect()
    con.execute(f"CREATE TABLE base AS SELECT 'a' AS k, TIMESTAMP '2026-01-01' AS t, "
                f"{column_sql} AS v FROM (SELECT 3 AS v)")
    assert _planned(con, VIEW).packed_sums == packed


def test_packable_sums_bound_each_key_not_the_table() -> None:
    """A frame holds one key's rows: two keys summing to 2e9 each pack at 9 places
    (2e18 < 2**61); one key summing to 3e9 does not (3e18 could pass 2**61 = 2.3e18)."""
    con = connect()
    con.execute("CREATE TABLE base AS SELECT ['a', 'b'][i % 2 + 1] AS k, "
                "TIMESTAMP '2026-01-01' AS t, 1e9::DOUBLE AS v FROM range(4) r(i)")
    assert _planned(con, VIEW).packed_sums == (("v", "float"),)
    con.execute("INSERT INTO base VALUES ('a', TIMESTAMP '2026-01-01', 1e9)")
    assert _planned(con, VIEW).packed_sums == ()


def test_packable_sums_leave_inexact_and_finer_columns() -> None:
    """An infinite column is summed as DOUBLE, never packed; a column of tiny values gets
    18 places, so its per-key sum must stay below 2**61 / 1e18 = 2.3."""
    con = connect()
    con.execute("CREATE TABLE base AS SELECT 'a' AS k, TIMESTAMP '2026-01-01' AS t, "
                "v FROM (VALUES (1e-12), (1.0)) r(v)")
    assert _planned(con, VIEW).sum_scales == (("v", 18),)
    assert _planned(con, VIEW).packed_sums == (("v", "float"),)
    con.execute("INSERT INTO base VALUES ('a', TIMESTAMP '2026-01-01', 2.0)")
    assert _planned(con, VIEW).packed_sums == ()
    con.execute("INSERT INTO base VALUES ('b', TIMESTAMP '2026-01-01', 'inf'::DOUBLE)")
    assert _planned(con, VIEW).float_sums == frozenset({"v"})
    assert _planned(con, VIEW).packed_sums == ()
