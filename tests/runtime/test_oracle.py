"""Labels, features, as-of columns and the join in DuckDB against the Python oracle.

The generators use few keys, a small integer time grid (ties, events exactly at t,
t + W, t - W and t - lag) and windows / lags on the same grid, so every boundary of
the semantics is hit often. `test_oracle_has_teeth_*` prove it: an off-by-one at t is
found.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis.strategies as st
import pyarrow as pa
from hypothesis import HealthCheck, find, given, settings
from pipec.stdlib.runtime import features as F
from pipec.stdlib.runtime import labels as L
from pipec.stdlib.runtime.db import connect, query_arrow
from pipec.stdlib.runtime.join import build_examples

from . import oracle
from .oracle import Row

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
UNIT_US = 3_600 * 1_000_000
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

keys = st.sampled_from(["a", "b", "c", None])
times = st.integers(min_value=0, max_value=12)
rows = st.builds(
    Row,
    keys,
    times,
    st.one_of(st.none(), st.integers(-3, 5)),
    st.one_of(st.none(), st.sampled_from(["x", "y"])),
)
base_rows = st.lists(st.builds(Row, keys, times), min_size=1, max_size=12)
source_rows = st.lists(rows, max_size=15)


@st.composite
def cases(draw: Any) -> dict[str, Any]:
    return {
        "base": draw(base_rows),
        "src": draw(source_rows),
        "window": draw(st.integers(0, 6)),
        "lag": draw(st.integers(0, 3)),
        "end": draw(st.integers(0, 16)),
        "maturity_extra": draw(st.integers(0, 2)),
    }


def ts(unit: int) -> datetime:
    return EPOCH + timedelta(hours=unit)


def _tables(con: Any, case: dict[str, Any]) -> None:
    base = case["base"]
    con.register(
        "spine_in",
        pa.table(
            {
                "__row_id": pa.array(range(len(base)), pa.int64()),
                "k": pa.array([b.key for b in base], pa.string()),
                "t": pa.array([ts(b.t) for b in base], pa.timestamp("us", tz="UTC")),
            }
        ),
    )
    src = case["src"]
    con.register(
        "src_in",
        pa.table(
            {
                "k": pa.array([r.key for r in src], pa.string()),
                "ts": pa.array([ts(r.t) for r in src], pa.timestamp("us")),
                "v": pa.array([r.value for r in src], pa.int64()),
                "cat": pa.array([r.cat for r in src], pa.string()),
            }
        ),
    )
    con.execute("CREATE TABLE spine AS SELECT * FROM spine_in")
    con.execute("CREATE TABLE src AS SELECT * FROM src_in")


AGGS = ("count", "count_col", "sum", "mean", "min", "max", "distinct")


def _view(case: dict[str, Any]) -> F.ViewSpec:
    w = case["window"] * UNIT_US
    aggs = tuple(
        F.Aggregate(
            name, "count" if name == "count_col" else name, None if name == "count" else "v", w
        )
        for name in AGGS
    )
    return F.ViewSpec("view", "k", "ts", "t", case["lag"] * UNIT_US, aggs, ("v", "cat"))


def _spec(case: dict[str, Any]) -> L.WindowSpec:
    maturity = case["window"] + case["lag"] + case["maturity_extra"]
    end = EPOCH + timedelta(hours=case["end"])
    return L.WindowSpec(
        "k",
        "t",
        "k",
        "ts",
        case["window"] * UNIT_US,
        maturity * UNIT_US,
        int(end.timestamp()) * 1_000_000,
    )


def duck_labels(case: dict[str, Any], sql_fn: Any = L.window_label_sql) -> list[tuple]:
    con = connect()
    _tables(con, case)
    out = query_arrow(con, sql_fn("spine", "src", _spec(case)) + " ORDER BY __row_id")
    return list(zip(out["label"].to_pylist(), out["censored"].to_pylist(), strict=True))


def ref_labels(case: dict[str, Any]) -> list[tuple]:
    spec_m = case["window"] + case["lag"] + case["maturity_extra"]
    labels = oracle.window_label(case["base"], case["src"], case["window"])
    cens = oracle.censored(case["base"], spec_m, case["end"], case["window"])
    return [(None if c else lab, c) for lab, c in zip(labels, cens, strict=True)]


def duck_features(
    case: dict[str, Any], agg_fn: Any = F.aggregates_sql, asof_fn: Any = F.asof_sql
) -> list[dict]:
    con = connect()
    _tables(con, case)
    view = _view(case)
    aggs = query_arrow(con, agg_fn("spine", "src", view) + " ORDER BY __row_id").to_pylist()
    asof = query_arrow(con, asof_fn("spine", "src", view) + " ORDER BY __row_id").to_pylist()
    return [a | b for a, b in zip(aggs, asof, strict=True)]


# The view's source is the base itself: `build_features` takes the single-pass route.
self_base_rows = st.lists(rows, min_size=1, max_size=15)


@st.composite
def self_cases(draw: Any) -> dict[str, Any]:
    return {
        "base": draw(self_base_rows),
        "window": draw(st.integers(0, 6)),
        "lag": draw(st.integers(0, 3)),
    }


def _self_view(case: dict[str, Any]) -> F.ViewSpec:
    view = _view(case)
    return F.ViewSpec(view.name, "k", "t", "t", view.lag_us, view.aggregates, ())


def _self_spine(case: dict[str, Any]) -> Any:
    """A connection holding the case's base rows as `spine` (and the same rows under
    another name, `spine_in`), values included: the view's source is the base itself."""
    con = connect()
    base = case["base"]
    con.register(
        "spine_in",
        pa.table(
            {
                "__row_id": pa.array(range(len(base)), pa.int64()),
                "k": pa.array([b.key for b in base], pa.string()),
                "t": pa.array([ts(b.t) for b in base], pa.timestamp("us", tz="UTC")),
                "v": pa.array([b.value for b in base], pa.int64()),
            }
        ),
    )
    con.execute("CREATE TABLE spine AS SELECT * FROM spine_in")
    return con


def duck_self_features(case: dict[str, Any], agg_fn: Any = F.self_aggregates_sql) -> list[dict]:
    con = _self_spine(case)
    sql = agg_fn("spine", _self_view(case))
    return query_arrow(con, sql + " ORDER BY __row_id").to_pylist()


def ref_self_features(case: dict[str, Any]) -> list[dict]:
    base = case["base"]
    return [
        {"__row_id": i}
        | {
            f"view__{name}": oracle.aggregate(base, b.key, b.t, case["lag"], case["window"], name)
            for name in AGGS
        }
        for i, b in enumerate(base)
    ]


def ref_features(case: dict[str, Any]) -> list[dict]:
    out = []
    for i, b in enumerate(case["base"]):
        row = {"__row_id": i}
        for name in AGGS:
            row[f"view__{name}"] = oracle.aggregate(
                case["src"], b.key, b.t, case["lag"], case["window"], name
            )
        row["view__v"], row["view__cat"] = oracle.as_of(case["src"], b.key, b.t, case["lag"])
        out.append(row)
    return out


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, abs_tol=1e-9)
    return a == b


def rows_match(got: list[dict], want: list[dict]) -> bool:
    if len(got) != len(want):
        return False
    pairs = zip(got, want, strict=True)
    return all(g.keys() == w.keys() and all(same(g[k], w[k]) for k in w) for g, w in pairs)


@SETTINGS
@given(cases())
def test_window_labels_match_oracle(case: dict[str, Any]) -> None:
    assert duck_labels(case) == ref_labels(case)


@SETTINGS
@given(cases())
def test_features_and_as_of_match_oracle(case: dict[str, Any]) -> None:
    got, want = duck_features(case), ref_features(case)
    assert rows_match(got, want), (got, want)


@SETTINGS
@given(self_cases())
def test_features_over_the_base_itself_match_oracle(case: dict[str, Any]) -> None:
    got, want = duck_self_features(case), ref_self_features(case)
    assert rows_match(got, want), (got, want)


@SETTINGS
@given(self_cases())
def test_build_features_over_the_base_itself(case: dict[str, Any]) -> None:
    """build_features routes spine == source to the single pass; same rows as the union."""
    con = _self_spine(case)
    view = _self_view(case)
    F.build_features(con, view, "spine", "spine", "single")
    F.build_features(con, view, "spine", "spine_in", "via_union")  # another name: union route
    single = query_arrow(con, "SELECT * FROM single").to_pylist()
    union = query_arrow(con, "SELECT * FROM via_union").to_pylist()
    assert rows_match(single, ref_self_features(case))
    assert rows_match(union, single)
    assert (
        query_arrow(con, "SELECT * FROM single").schema
        == query_arrow(con, "SELECT * FROM via_union").schema
    )


@SETTINGS
@given(cases())
def test_build_features_matches_oracle(case: dict[str, Any]) -> None:
    """build_features on string keys compares integer codes of the keys; the same rows."""
    con = connect()
    _tables(con, case)
    F.build_features(con, _view(case), "spine", "src", "feats")
    assert rows_match(query_arrow(con, "SELECT * FROM feats").to_pylist(), ref_features(case))
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() == (0,)


def test_build_features_reading_the_key_column_sees_its_values() -> None:
    """A feature over the key column itself gets the keys, not their integer codes."""
    con = connect()
    con.execute("CREATE TABLE spine AS SELECT i AS __row_id, ['a', 'b'][i % 2 + 1] AS k, "
                "TIMESTAMP '2026-01-01' + INTERVAL (i) HOUR AS t FROM range(6) r(i)")
    last = F.Aggregate("last_key", "max", "k", 5 * UNIT_US)
    F.build_features(con, F.ViewSpec("view", "k", "t", "t", 0, (last,), ()), "spine", "spine", "f")
    got = [r[0] for r in con.execute("SELECT view__last_key FROM f ORDER BY __row_id").fetchall()]
    assert got == [None, None, "a", "b", "a", "b"]


@SETTINGS
@given(cases())
def test_join_matches_oracle(case: dict[str, Any]) -> None:
    con = connect()
    _tables(con, case)
    con.execute(f"CREATE TABLE labels AS {L.window_label_sql('spine', 'src', _spec(case))}")
    F.build_features(con, _view(case), "spine", "src", "feats")
    counts = build_examples(con, "spine", "labels", "y", ["feats"], "examples")
    got = query_arrow(con, "SELECT * FROM examples").to_pylist()
    labels, feats = ref_labels(case), ref_features(case)
    want = [
        {"k": b.key, "t": ts(b.t), "y": lab} | {k: v for k, v in f.items() if k != "__row_id"}
        for b, (lab, cens), f in zip(case["base"], labels, feats, strict=True)
        if not cens
    ]
    assert counts.censored == sum(c for _, c in labels)
    assert counts.examples == len(want)
    assert rows_match(got, want)


# The grouped plan (one window row per (key, time)) gives the oracle's numbers too ----
def _without_distinct(view: F.ViewSpec) -> F.ViewSpec:
    kept = tuple(a for a in view.aggregates if a.agg in F.GROUPABLE)
    return F.ViewSpec(view.name, view.key, view.time, view.spine_time, view.lag_us, kept,
                      view.columns)


def _drop_distinct(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "view__distinct"} for row in rows]


@SETTINGS
@given(cases())
def test_grouped_aggregates_match_oracle(case: dict[str, Any]) -> None:
    def grouped(spine: str, source: str, view: F.ViewSpec) -> str:
        return F.aggregates_sql(spine, source, _without_distinct(view), grouped=True)

    got, want = duck_features(case, agg_fn=grouped), _drop_distinct(ref_features(case))
    assert rows_match(got, want), (got, want)


@SETTINGS
@given(self_cases())
def test_grouped_aggregates_over_the_base_itself_match_oracle(case: dict[str, Any]) -> None:
    def grouped(spine: str, view: F.ViewSpec) -> str:
        return F.self_aggregates_sql(spine, _without_distinct(view), grouped=True)

    got = duck_self_features(case, agg_fn=grouped)
    assert rows_match(got, _drop_distinct(ref_self_features(case))), got


def test_build_features_groups_when_times_repeat() -> None:
    """Hourly times: build_features takes the grouped plan, with the same rows and types
    as the row-by-row plan."""
    con = connect()
    con.execute(
        "CREATE TABLE spine AS SELECT i AS __row_id, ['a', 'b'][i % 2 + 1] AS k, "
        "TIMESTAMP '2026-01-01' + INTERVAL (i // 10) HOUR AS t, i % 7 AS v FROM range(400) r(i)"
    )
    aggs = tuple(F.Aggregate(n, n, None if n == "count" else "v", 5 * UNIT_US)
                 for n in ("count", "sum", "mean", "min", "max"))
    view = F.ViewSpec("view", "k", "t", "t", UNIT_US, aggs, ())
    assert F.times_repeat(con, "spine", "k", "t")
    F.build_features(con, view, "spine", "spine", "auto")
    rows_sql = F.self_aggregates_sql("spine", view, grouped=False) + " ORDER BY __row_id"
    by_rows = query_arrow(con, rows_sql)
    auto = query_arrow(con, "SELECT * FROM auto")
    assert auto.schema == by_rows.schema
    assert auto.to_pylist() == by_rows.to_pylist()
    con.execute("CREATE TABLE distinct_times AS SELECT * REPLACE (t + INTERVAL (__row_id) "
                "SECOND AS t) FROM spine")
    assert not F.times_repeat(con, "distinct_times", "k", "t")



# Counts of one window share an aggregate in two 32-bit lanes (`_CountLanes`) -------------
@SETTINGS
@given(cases())
def test_unpaired_counts_match_oracle(case: dict[str, Any]) -> None:
    """Each count as an aggregate of its own gives the same rows as the paired lanes."""
    def unpaired(spine: str, source: str, view: F.ViewSpec) -> str:
        return F.aggregates_sql(spine, source, replace(view, pair_counts=False))

    assert rows_match(duck_features(case, agg_fn=unpaired), ref_features(case))


def test_counts_stay_apart_when_the_source_could_fill_a_lane(monkeypatch: Any) -> None:
    """A lane holds LANE - 1 rows: build_features pairs no counts over a source that
    large, so a frame's count never carries into the other lane. With lanes of 2 bits,
    a frame of 5 rows, 4 of them with a value, still counts 5 and 4."""
    monkeypatch.setattr(F, "LANE_BITS", 2)
    monkeypatch.setattr(F, "LANE", 4)
    monkeypatch.setattr(F, "PAIR_ROWS", 1)
    con = connect()
    con.execute("CREATE TABLE spine AS SELECT i AS __row_id, 'a' AS k, "
                "TIMESTAMP '2026-01-01' + INTERVAL (i) HOUR AS t, "
                "CASE WHEN i = 2 THEN NULL ELSE i END AS v FROM range(6) r(i)")
    aggs = (F.Aggregate("rows", "count", None, 10 * UNIT_US),
            F.Aggregate("values", "count", "v", 10 * UNIT_US))
    view = F.ViewSpec("view", "k", "t", "t", 0, aggs, ())
    F.build_features(con, view, "spine", "spine", "f")
    last = con.execute("SELECT view__rows, view__values FROM f WHERE __row_id = 5").fetchone()
    assert last == (5, 4)
    # Paired anyway, the low lane overflows into the high one: the guard is what holds.
    paired = F.self_aggregates_sql("spine", view) + " ORDER BY __row_id DESC LIMIT 1"
    assert con.execute(paired).fetchone()[1:] != (5, 4)

# Exact sums ride in the counts' aggregate when they fit (`_Lanes`, `packed_sums`) -----
PACKED = (("v", "integer"),)


@SETTINGS
@given(cases(), st.booleans())
def test_packed_sums_match_oracle(case: dict[str, Any], pair: bool) -> None:
    """The sum, mean and counts of a window out of one HUGEINT aggregate, with two count
    lanes above the sum or one: the oracle's rows, negative sums and empty frames too."""
    def packed(spine: str, source: str, view: F.ViewSpec) -> str:
        sql = F.aggregates_sql(spine, source,
                               replace(view, packed_sums=PACKED, pair_counts=pair))
        assert "AS HUGEINT) * 18446744073709551616" in sql
        return sql

    assert rows_match(duck_features(case, agg_fn=packed), ref_features(case))


@SETTINGS
@given(self_cases(), st.booleans())
def test_packed_sums_over_the_base_itself_match_oracle(case: dict[str, Any],
                                                        grouped: bool) -> None:
    def packed(spine: str, view: F.ViewSpec) -> str:
        view = replace(_without_distinct(view), packed_sums=PACKED)
        return F.self_aggregates_sql(spine, view, grouped=grouped)

    got = duck_self_features(case, agg_fn=packed)
    assert rows_match(got, _drop_distinct(ref_self_features(case))), got


@SETTINGS
@given(cases())
def test_packed_grouped_sums_match_oracle(case: dict[str, Any]) -> None:
    def packed(spine: str, source: str, view: F.ViewSpec) -> str:
        view = replace(_without_distinct(view), packed_sums=PACKED)
        return F.aggregates_sql(spine, source, view, grouped=True)

    got, want = duck_features(case, agg_fn=packed), _drop_distinct(ref_features(case))
    assert rows_match(got, want), (got, want)


# The oracle has teeth: an off-by-one at t is found by the same generators ------------
def _mutated(sql_fn: Any, old: str, new: str) -> Any:
    def mutated(*args: Any) -> str:
        sql = sql_fn(*args)
        assert old in sql, f"mutation target {old!r} not in SQL"
        return sql.replace(old, new)

    return mutated


def test_oracle_has_teeth_label_window_includes_t() -> None:
    bad = _mutated(L.window_label_sql, "s.__t < e.__k", "s.__t <= e.__k")
    find(
        cases(),
        lambda c: duck_labels(c, bad) != ref_labels(c),
        settings=settings(max_examples=500, deadline=None, database=None),
    )


def test_oracle_has_teeth_aggregate_window_includes_t() -> None:
    bad = _mutated(F.aggregates_sql, "AND 1 PRECEDING", "AND CURRENT ROW")
    find(
        cases(),
        lambda c: not rows_match(duck_features(c, agg_fn=bad), ref_features(c)),
        settings=settings(max_examples=500, deadline=None, database=None),
    )


def test_oracle_has_teeth_as_of_at_or_before_t() -> None:
    bad = _mutated(F.asof_sql, "s.__p > f.__k", "s.__p >= f.__k")
    find(
        cases(),
        lambda c: not rows_match(duck_features(c, asof_fn=bad), ref_features(c)),
        settings=settings(max_examples=500, deadline=None, database=None),
    )


def test_oracle_has_teeth_self_aggregate_window_includes_t() -> None:
    # The single pass's frame ends at `lag + 1 PRECEDING` (time + lag < t); one
    # microsecond less reads rows with time + lag == t.
    def bad(spine: str, view: F.ViewSpec) -> str:
        sql = F.self_aggregates_sql(spine, view)
        old = f"AND {view.lag_us + 1} PRECEDING"
        assert old in sql, f"mutation target {old!r} not in SQL"
        return sql.replace(old, f"AND {view.lag_us} PRECEDING")

    find(
        self_cases(),
        lambda c: not rows_match(duck_self_features(c, bad), ref_self_features(c)),
        settings=settings(max_examples=500, deadline=None, database=None),
    )
