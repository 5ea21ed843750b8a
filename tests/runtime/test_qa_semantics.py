"""The runtime against plain-Python readings of language.md, on the edges `test_oracle`
does not reach: window labels over dates and non-UTC time zones, `when` labels with
NULLs and every operator, and the validate checks (NULL keys, shares at the threshold,
infinities, freshness at exactly D, a zero drift baseline), plus the report's count of
a check declared twice."""

from __future__ import annotations

import math
import operator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import hypothesis.strategies as st
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from pipec.commands.run_report import report_lines
from pipec.stdlib.runtime import labels as L
from pipec.stdlib.runtime.dates import snapshot_end, to_us
from pipec.stdlib.runtime.db import connect, query_arrow
from pipec.stdlib.runtime.validation import CheckContext, run_checks

from . import oracle
from .manifests import col
from .oracle import Row

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
HOUR_US = 3_600 * 1_000_000
DAY_US = 24 * HOUR_US


# Window labels over other time types ----------------------------------------------------
# (arrow type of the base's time, of the events' time, microseconds per grid unit)
TIME_TYPES = {
    "dates": (pa.date32(), pa.date32(), DAY_US),
    "date base, naive events": (pa.date32(), pa.timestamp("us"), DAY_US),
    "new york base, kolkata events": (pa.timestamp("us", tz="America/New_York"),
                                      pa.timestamp("us", tz="Asia/Kolkata"), HOUR_US),
}

keys = st.sampled_from(["a", "b", None])
units = st.integers(min_value=0, max_value=10)


@st.composite
def window_cases(draw: Any) -> dict[str, Any]:
    return {
        "base": draw(st.lists(st.builds(Row, keys, units), min_size=1, max_size=10)),
        "events": draw(st.lists(st.builds(Row, keys, units), max_size=12)),
        "window": draw(st.integers(0, 4)),
        "lag": draw(st.integers(0, 2)),
        "end": draw(st.integers(1, 14)),
    }


def _instants(values: list[int], unit_us: int, type_: pa.DataType) -> pa.Array:
    if pa.types.is_date(type_):
        return pa.array([EPOCH.date() + timedelta(microseconds=v * unit_us) for v in values],
                        type_)
    return pa.array([EPOCH + timedelta(microseconds=v * unit_us) for v in values],
                    pa.timestamp("us", tz="UTC")).cast(type_)


def _duck_window(case: dict[str, Any], types: tuple) -> list[tuple]:
    base_type, event_type, unit = types
    con = connect()
    base, events = case["base"], case["events"]
    con.register("b", pa.table({
        "__row_id": pa.array(range(len(base)), pa.int64()),
        "k": pa.array([r.key for r in base], pa.string()),
        "t": _instants([r.t for r in base], unit, base_type),
    }))
    con.register("e", pa.table({
        "k": pa.array([r.key for r in events], pa.string()),
        "t": _instants([r.t for r in events], unit, event_type),
    }))
    spec = L.WindowSpec("k", "t", "k", "t", case["window"] * unit,
                        (case["window"] + case["lag"]) * unit,
                        to_us(EPOCH) + case["end"] * unit)
    rows = query_arrow(con, L.window_label_sql("b", "e", spec) + " ORDER BY __row_id")
    return [(r["label"], r["censored"]) for r in rows.to_pylist()]


def _ref_window(case: dict[str, Any]) -> list[tuple]:
    maturity = case["window"] + case["lag"]
    labels = oracle.window_label(case["base"], case["events"], case["window"])
    cens = oracle.censored(case["base"], maturity, case["end"], case["window"])
    return [(None if c else lab, c) for lab, c in zip(labels, cens, strict=True)]


@pytest.mark.parametrize("types", list(TIME_TYPES), ids=list(TIME_TYPES))
def test_window_labels_over_dates_and_zones_match_oracle(types: str) -> None:
    """A date is 00:00 UTC of its day and a zoned time its instant, whatever the zone:
    an event exactly at t is not in (t, t + W], one exactly at t + W is."""

    @SETTINGS
    @given(window_cases())
    def check(case: dict[str, Any]) -> None:
        assert _duck_window(case, TIME_TYPES[types]) == _ref_window(case)

    check()


# `when` and `column` labels ------------------------------------------------------------
OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
       "==": operator.eq, "!=": operator.ne}


def _base_labels(values: pa.Array, label: dict[str, Any], times: list[datetime] | None = None,
                 snapshot: date = date(2026, 3, 10)) -> list[tuple]:
    con = connect()
    n = len(values)
    times = times or [datetime(2026, 3, 1, tzinfo=UTC)] * n
    con.register("b", pa.table({
        "__row_id": pa.array(range(n), pa.int64()),
        "k": ["a"] * n,
        "t": pa.array(times, pa.timestamp("us", tz="UTC")),
        "c": values,
    }))
    L.build_labels(con, {"maturity_s": 0} | label, {"entity": "k", "time": "t"}, "b", None,
                   to_us(snapshot_end(snapshot)), "out")
    rows = query_arrow(con, "SELECT * FROM out ORDER BY __row_id").to_pylist()
    return [(r["label"], r["censored"]) for r in rows]


@SETTINGS
@given(st.lists(st.one_of(st.none(), st.integers(-2, 2)), min_size=1, max_size=8),
       st.sampled_from(sorted(OPS)), st.integers(-2, 2))
def test_when_labels_are_unknown_for_null_and_match_python(
        values: list[int | None], op: str, value: int) -> None:
    """`when COL op V`: the comparison, NULL (unknown, never false) where COL is NULL."""
    got = _base_labels(pa.array(values, pa.int64()),
                       {"mode": "when", "column": "c", "op": op, "value": value})
    assert got == [(None if v is None else OPS[op](v, value), False) for v in values]


@pytest.mark.parametrize(("values", "op", "value", "want"), [
    (["x", None, "y"], "==", "x", [True, None, False]),
    (["x", None, "y"], "!=", "x", [False, None, True]),
    (["o'k", "ok"], "==", "o'k", [True, False]),
    ([True, None, False], "==", True, [True, None, False]),
    ([True, None, False], "!=", False, [True, None, False]),
])
def test_when_labels_of_strings_and_booleans(values: list, op: str, value: Any,
                                             want: list) -> None:
    got = _base_labels(pa.array(values), {"mode": "when", "column": "c", "op": op,
                                          "value": value})
    assert got == [(w, False) for w in want]


@pytest.mark.parametrize("values", [
    pa.array([True, None, False]),
    pa.array(["x", None, "y"]).dictionary_encode(),
    pa.array([1.5, None, -0.25]),
], ids=["bool", "category", "float"])
def test_column_labels_keep_their_values_and_nulls(values: pa.Array) -> None:
    got = _base_labels(values, {"mode": "column", "column": "c"})
    assert got == [(v, False) for v in values.to_pylist()]


def test_known_after_censors_past_the_snapshot_end_only() -> None:
    """`known_after 1d`, snapshot 03-10 (rows before 03-11 00:00): t + 1d = the end is
    mature; a microsecond later is excluded, never labelled false."""
    end_minus_m = datetime(2026, 3, 10, tzinfo=UTC)
    times = [end_minus_m, end_minus_m + timedelta(microseconds=1)]
    got = _base_labels(pa.array([False, False]), {"mode": "column", "column": "c",
                                                  "maturity_s": 86_400}, times)
    assert got == [(False, False), (None, True)]


# Validation ------------------------------------------------------------------------------
def _check(table: pa.Table, checks: list[dict[str, Any]], snapshot: date = date(2026, 3, 5),
           baseline: tuple = (False, None)) -> list[dict[str, Any]]:
    con = connect()
    con.register("t_in", table)
    con.execute("CREATE TABLE t AS SELECT * FROM t_in")
    ctx = CheckContext("t", snapshot, [], [], "block", lambda s, c: baseline,
                       lambda s, c, v: None)
    return run_checks(con, checks, ctx)


def _ref_unique(a: list, b: list) -> int:
    """Rows whose (a, b) occurs more than once, NULL equal to NULL (as GROUP BY)."""
    pairs = list(zip(a, b, strict=True))
    return sum(1 for p in pairs if pairs.count(p) > 1)


def _ref_range(xs: list[float | None], ok: Any) -> int:
    """Rows failing a range rule: NULLs are completeness's business, not range's."""
    return sum(1 for x in xs if x is not None and not ok(x))


values_with_edges = st.one_of(st.none(), st.sampled_from([-math.inf, -1.0, 0.0, 0.5, 10.0,
                                                           math.inf]))


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["a", "b", None]), st.sampled_from([1, 2, None]),
                          values_with_edges), min_size=1, max_size=10),
       st.integers(0, 10))
def test_checks_match_python(rows: list[tuple], tenths: int) -> None:
    a, b, x = (list(c) for c in zip(*rows, strict=True))
    share = tenths / 10
    table = pa.table({"a": pa.array(a, pa.string()), "b": pa.array(b, pa.int64()),
                      "x": pa.array(x, pa.float64())})
    unique, complete, at_least, between = _check(table, [
        {"kind": "unique", "columns": ["a", "b"]},
        {"kind": "completeness", "column": "x", "op": ">=", "value": share},
        {"kind": "range", "column": "x", "op": ">=", "value": 0},
        {"kind": "range", "column": "x", "in": [0, 1]},
    ])
    dup = _ref_unique(a, b)
    assert (unique["passed"], unique["rows_failing"]) == (dup == 0, dup)
    present = sum(v is not None for v in x)
    assert complete["passed"] == (present / len(x) >= share)  # at the threshold: passes
    bad = _ref_range(x, lambda v: v >= 0)
    assert (at_least["passed"], at_least["rows_failing"]) == (bad == 0, bad)
    bad = _ref_range(x, lambda v: 0 <= v <= 1)
    assert (between["passed"], between["rows_failing"]) == (bad == 0, bad)


@pytest.mark.parametrize(("newest", "passed"), [
    (datetime(2026, 3, 5, tzinfo=UTC), True),  # exactly 1d before the end (03-06 00:00)
    (datetime(2026, 3, 5, tzinfo=UTC) - timedelta(microseconds=1), False),
])
def test_freshness_at_exactly_d(newest: datetime, passed: bool) -> None:
    table = pa.table({"at": pa.array([newest - timedelta(days=3), newest],
                                     pa.timestamp("us", tz="UTC"))})
    (entry,) = _check(table, [{"kind": "freshness", "column": "at", "within_s": 86_400}])
    assert entry["passed"] is passed


@pytest.mark.parametrize(("values", "baseline", "passed"), [
    ([0.0, 0.0], 0.0, True),  # equal
    ([1.0], 0.0, False),  # no ratio reaches a zero baseline
    ([None], 1.0, False),  # no value now is no value within a factor
])
def test_drift_against_a_zero_or_missing_value(values: list, baseline: float,
                                               passed: bool) -> None:
    table = pa.table({"x": pa.array(values, pa.float64())})
    (entry,) = _check(table, [{"kind": "drift", "stat": "mean", "column": "x", "factor": 2}],
                      baseline=(True, baseline))
    assert entry["passed"] is passed


# A check declared twice is one check ------------------------------------------------------
AMOUNTS = pa.table({"amount": pa.array([1.0, -1.0, -3.0, None])})
SCHEMA = {"kind": "schema", "columns": [col("amount", "float", {"op": ">=", "value": 0})],
          "severity": "block"}


def _range_rule(severity: str) -> dict[str, Any]:
    return {"kind": "range", "column": "amount", "op": ">=", "value": 0, "severity": severity}


def test_a_range_rule_repeating_a_schema_constraint_is_one_check() -> None:
    """`amount: float >= 0` in the schema and `range amount >= 0` in the validate stage
    are the same rule over the same rows: the report lists it once and counts one
    failure, not "✗ range amount >= 0" twice and "2 failed"."""
    entries = _check(AMOUNTS, [SCHEMA, _range_rule("block")])
    ranges = [e for e in entries if e["kind"] == "range"]
    assert len(ranges) == 1
    assert (ranges[0]["check"], ranges[0]["rows_failing"]) == ("range amount >= 0", 2)
    report = {"validation": {"validate.t": {"rows": 4, "checks": entries, "policy": "block"}}}
    lines = report_lines("blocked", report, {})
    assert "validate.t: 3 checks on 4 rows, 1 failed" in lines
    assert sum("✗ range amount >= 0" in line for line in lines) == 1


def test_a_repeated_check_blocks_if_any_declaration_does() -> None:
    """The schema's constraint blocks; the same rule marked `warn` does not soften it."""
    entries = _check(AMOUNTS, [SCHEMA, _range_rule("warn")])
    assert [e["severity"] for e in entries if e["kind"] == "range"] == ["block"]
    (alone,) = _check(AMOUNTS, [_range_rule("warn")])
    assert alone["severity"] == "warn"


def test_samples_of_a_composite_key_show_where_each_key_ends() -> None:
    """Joined by commas, `NULL, 1, NULL, 1` read as four values; each key is one sample."""
    table = pa.table({"a": pa.array([None, None, "x", "x"], pa.string()), "b": [1, 1, 2, 2]})
    (entry,) = _check(table, [{"kind": "unique", "columns": ["a", "b"]}])
    assert entry["values"] == ["(NULL, 1)", "(x, 2)"]
    (single,) = _check(table, [{"kind": "unique", "columns": ["b"]}])
    assert single["values"] == ["1", "2"]


def test_the_stop_message_names_only_the_checks_that_block() -> None:
    """A failed `warn` check did not stop the run: the message named it as blocking too,
    and joined names with commas that a composite key's name also holds."""
    from pipec.stdlib.runtime.errors import ValidationBlocked

    report = {"checks": [
        {"check": "range amount >= 0", "passed": False, "severity": "block"},
        {"check": "unique account_id, decision_at", "passed": False, "severity": "warn"},
        {"check": "require account_id", "passed": False, "severity": "block"},
        {"check": "range amount >= 0", "passed": False, "severity": "block"},
    ]}
    assert str(ValidationBlocked("validate.t", report)) == (
        "validate.t: blocking validation failed: range amount >= 0; require account_id")
