"""Hostile but legal data through the data stages: float NaN, label window boundaries,
entities that are NULL. Each test pins a reading of language.md that an earlier runtime
got wrong."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pipec.stdlib.runtime import features as F
from pipec.stdlib.runtime import labels as L
from pipec.stdlib.runtime.dates import snapshot_end, to_us
from pipec.stdlib.runtime.db import connect, query_arrow
from pipec.stdlib.runtime.sources import load_source
from pipec.stdlib.runtime.validation import CheckContext, run_checks

from .manifests import col, source

DAY_US = 86_400 * 1_000_000
NAN = float("nan")


# A float NaN is a missing value --------------------------------------------------------
def _load_nan(tmp_path: Path) -> object:
    pq.write_table(
        pa.table({
            "id": ["a", "b", "c", "d"],
            "at": pa.array([datetime(2026, 3, 1, h, tzinfo=UTC) for h in range(4)]),
            "x": [1.0, NAN, None, 20.0],
            "n": pa.array([1.0, NAN, 2.0, 3.0]),  # declared int, stored as float
            "extra": [NAN, 1.0, 2.0, 3.0],  # undeclared
        }),
        tmp_path / "p.parquet",
    )
    schema = [col("id", "string"), col("at", "timestamp"), col("x", "float"), col("n", "int")]
    con = connect()
    loaded = load_source(con, source("p", "p.parquet", "id", "at", schema), tmp_path, "data")
    assert loaded.type_errors == []  # NaN is missing, not a value of the wrong type
    return con


def test_float_nan_loads_as_null(tmp_path: Path) -> None:
    con = _load_nan(tmp_path)
    rows = query_arrow(con, "SELECT x, n, extra FROM data ORDER BY id").to_pylist()
    assert [r["x"] for r in rows] == [1.0, None, None, 20.0]
    assert [r["n"] for r in rows] == [1, None, 2, 3]
    assert [r["extra"] for r in rows] == [None, 1.0, 2.0, 3.0]


def test_csv_nan_text_loads_as_null(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,at,x\na,2026-03-01,NaN\nb,2026-03-01,nan\nc,2026-03-01,2\n")
    schema = [col("id", "string"), col("at", "timestamp"), col("x", "float")]
    con = connect()
    loaded = load_source(con, source("t", "t.csv", "id", "at", schema, fmt="csv"), tmp_path,
                         "data")
    assert loaded.type_errors == []
    assert [r[0] for r in con.execute("SELECT x FROM data ORDER BY id").fetchall()] == [
        None, None, 2.0]


def test_nan_fails_require_and_completeness_and_no_range_passes_it(tmp_path: Path) -> None:
    """Left as NaN, `range x >= 0` passed it (SQL orders NaN above every number) while
    `range x < 5` failed it, and completeness counted it as present."""
    con = _load_nan(tmp_path)
    ctx = CheckContext("data", date(2026, 3, 1), [], [], "block", lambda s, c: (False, None),
                       lambda s, c, v: None)
    checks = [
        {"kind": "require", "columns": ["x"]},
        {"kind": "completeness", "column": "x", "op": ">=", "value": 0.75},
        {"kind": "range", "column": "x", "op": ">=", "value": 0},
        {"kind": "range", "column": "x", "op": "<", "value": 5},
    ]
    got = [(e["passed"], e["rows_failing"]) for e in run_checks(con, checks, ctx)]
    assert got == [(False, 2), (False, 2), (True, 0), (False, 1)]


def test_features_over_a_nan_value_do_not_fail(tmp_path: Path) -> None:
    """A sum over a NaN stopped the stage: no DECIMAL holds NaN."""
    con = _load_nan(tmp_path)
    con.execute("CREATE TABLE spine AS SELECT row_number() OVER (ORDER BY id) - 1 AS __row_id, "
                "'k' AS k, \"at\" + INTERVAL 1 DAY AS t FROM data")
    con.execute('CREATE TABLE src AS SELECT \'k\' AS k, "at", x FROM data')
    aggs = (F.Aggregate("s", "sum", "x", DAY_US * 2), F.Aggregate("m", "mean", "x", DAY_US * 2))
    F.build_features(con, F.ViewSpec("v", "k", "at", "t", 0, aggs, ()), "spine", "src", "out")
    assert con.execute("SELECT DISTINCT v__s, v__m FROM out").fetchall() == [(21.0, 10.5)]


# Windowed labels --------------------------------------------------------------------------
def _labels(base: list[tuple], events: list[tuple], window_days: int, lag_days: int,
            snapshot: date) -> list[tuple]:
    con = connect()
    con.register("b", pa.table({
        "__row_id": pa.array(range(len(base)), pa.int64()),
        "k": [k for k, _ in base],
        "t": pa.array([t for _, t in base], pa.date32()),
    }))
    con.register("e", pa.table({
        "k": [k for k, _ in events],
        "t": pa.array([t for _, t in events], pa.date32()),
    }))
    spec = L.WindowSpec("k", "t", "k", "t", window_days * DAY_US,
                        (window_days + lag_days) * DAY_US, to_us(snapshot_end(snapshot)))
    sql = L.window_label_sql("b", "e", spec) + " ORDER BY __row_id"
    return [(r["label"], r["censored"]) for r in query_arrow(con, sql).to_pylist()]


def test_window_ending_on_the_snapshot_end_is_censored() -> None:
    """Daily data, `window 2d`, lag 0, snapshot 03-10: the snapshot holds events before
    03-11 00:00. A row of 03-09 needs the events of (03-09, 03-11], and one on 03-11 is
    cut off by the snapshot: the row is censored, not labelled false. language.md:
    "Examples with t + M > snapshot are excluded ... never labelled false"."""
    d = lambda day: date(2026, 3, day)  # noqa: E731
    got = _labels([("a", d(8)), ("a", d(9)), ("a", d(10))], [("a", d(11))], 2, 0, d(10))
    assert got == [(False, False), (None, True), (None, True)]
    # With a lag the maturity decides: t + W + lag = end is mature (its events are
    # before the end), one day later is not.
    assert _labels([("a", d(8)), ("a", d(9))], [], 2, 1, d(10)) == [(False, False), (None, True)]


def test_window_label_of_a_null_entity_is_unknown_not_false() -> None:
    """A base row with no entity has no "same entity" to look events up for: its label is
    NULL (train and evaluate drop it), never a false negative."""
    d = lambda day: date(2026, 3, day)  # noqa: E731
    got = _labels([(None, d(1)), ("a", d(1))], [(None, d(2)), ("b", d(2))], 2, 0, d(10))
    assert got == [(None, False), (False, False)]


def _sums(values: list[float | None], grouped: bool) -> list[tuple]:
    con = connect()
    con.execute("CREATE TABLE src AS SELECT 'k' AS k, TIMESTAMP '2026-03-01' + INTERVAL (i) "
                "HOUR AS at, v FROM (SELECT unnest(range(?)) AS i, unnest(?) AS v)",
                [len(values), values])
    con.execute("CREATE TABLE spine AS SELECT 0 AS __row_id, 'k' AS k, "
                "TIMESTAMP '2026-03-02' AS t")
    aggs = (F.Aggregate("s", "sum", "v", DAY_US), F.Aggregate("m", "mean", "v", DAY_US),
            F.Aggregate("n", "count", None, DAY_US))
    view = F.ViewSpec("v", "k", "at", "t", 0, aggs, ())
    bounds = F.sum_bounds(con, view, "src")
    view = F.ViewSpec(view.name, view.key, view.time, view.spine_time, view.lag_us, aggs, (),
                      F.inexact_sums(con, view, "src", bounds), F.exact_scales(bounds))
    return con.execute(F.aggregates_sql("spine", "src", view, grouped)).fetchall()


def test_sums_beyond_the_exact_decimal_do_not_fail() -> None:
    """An infinity, or values whose sum overflows DECIMAL(38, 9), stopped the stage; such
    a column is summed as DOUBLE (the others stay exact)."""
    inf = float("inf")
    for grouped in (False, True):
        assert _sums([1.0, inf, 2.0], grouped) == [(0, inf, inf, 3)]
        assert _sums([9e28, 9e28, None], grouped) == [(0, 1.8e29, 9e28, 3)]
        assert _sums([1.5, 2.5], grouped) == [(0, 4.0, 2.0, 2)]


def test_small_values_are_not_rounded_away() -> None:
    """Exact sums kept 9 decimal places: a column of 4e-10 and 2e-10 summed to 0."""
    for grouped in (False, True):
        ((_, total, mean, count),) = _sums([4e-10, 2e-10], grouped)
        assert count == 2 and math.isclose(total, 6e-10, rel_tol=1e-9)
        assert math.isclose(mean, 3e-10, rel_tol=1e-9)
        ((_, total, _, _),) = _sums([1e-10, 3e-10, 0.1234567894], grouped)
        assert math.isclose(total, 0.1234567898, rel_tol=1e-12)


def test_sub_second_lag_and_window_are_kept() -> None:
    """`lag 1500ms` was cut to 1 s, so a row was seen half a second before it is visible."""
    view = F.ViewSpec.from_stage({"name": "v", "entity": "k", "time": "at", "lag_s": 1.5,
                                  "aggregates": [{"name": "n", "agg": "count",
                                                  "window_s": 0.25}]}, {"time": "t"})
    assert view.lag_us == 1_500_000 and view.aggregates[0].window_us == 250_000


def test_mean_of_finite_values_near_the_double_limit_is_finite() -> None:
    """The mean of 1e308 and 1.7e308 was inf (their DOUBLE sum overflows), which then
    stopped the train stage; the sum of the two is inf, honestly."""
    inf = float("inf")
    for grouped in (False, True):
        assert _sums([1e308, 1.7e308], grouped) == [(0, inf, 1.35e308, 2)]
        assert _sums([-1e308, -1.7e308, None], grouped) == [(0, -inf, -1.35e308, 3)]
        assert _sums([1.0, inf, 2.0], grouped) == [(0, inf, inf, 3)]


def test_range_of_a_date_column_against_a_timestamp_keeps_the_time_of_day() -> None:
    """`range d >= 2026-01-02T12:00:00Z`: d = 2026-01-02 means 00:00 UTC, before the bound.
    DuckDB cast the bare string to DATE and passed it."""
    con = connect()
    con.execute("CREATE TABLE t AS SELECT DATE '2026-01-02' AS d, "
                "TIMESTAMP '2026-01-02 13:00' AS at")
    ctx = CheckContext("t", None, [], [], "block", lambda s, c: (False, None),
                       lambda s, c, v: None)
    checks = [
        {"kind": "range", "column": "d", "op": ">=", "value": "2026-01-02T12:00:00Z"},
        {"kind": "range", "column": "d", "op": "<", "value": "2026-01-02T12:00:00Z"},
        {"kind": "range", "column": "at", "op": ">", "value": "2026-01-02T12:00:00Z"},
        {"kind": "range", "column": "d", "in": ["2026-01-01", "2026-01-02"]},
    ]
    assert [e["passed"] for e in run_checks(con, checks, ctx)] == [False, True, True, True]


def test_a_column_label_of_a_base_without_time_is_never_censored() -> None:
    """A static base (`predicts iid`, no `time`) with a `column` label: the labels are
    read as they are (this crashed on the missing time column)."""
    con = connect()
    con.execute("CREATE TABLE spine AS SELECT * FROM (VALUES (0, TRUE), (1, FALSE), "
                "(2, NULL)) AS t(__row_id, y)")
    label = {"mode": "column", "column": "y", "maturity_s": 0}
    L.build_labels(con, label, {"entity": "id", "time": None}, "spine", None, 0, "labels")
    rows = con.execute("SELECT __row_id, label, censored FROM labels ORDER BY 1").fetchall()
    assert rows == [(0, True, False), (1, False, False), (2, None, False)]
