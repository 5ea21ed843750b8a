"""Split invariants: determinism under shuffles, disjointness, stability under new rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pyarrow as pa
import pytest
from hypothesis import given, settings
from pipec.stdlib.runtime.splits import SIDE, assign_sides, stable_fraction

SETTINGS = settings(max_examples=40, deadline=None)
SNAPSHOT = date(2026, 6, 1)

row = st.tuples(
    st.integers(0, 50), st.sampled_from(["US", "FR", "DE", "IT"]), st.integers(-200, 10)
)
tables = st.lists(row, min_size=1, max_size=40, unique_by=lambda r: r[0])
specs = st.sampled_from(
    [
        {"by": "random", "test": 0.3, "valid": 0.1, "seed": 7},
        {"by": "entity", "on": "user", "test": 0.25, "seed": 1},
        {"by": "group", "on": "country", "test": 0.5, "valid": 0.2, "seed": 3},
        {"by": "market", "on": "country", "holdout": ["FR"], "valid": 0.2},
        {
            "by": "time",
            "on": "at",
            "train_before": {"snapshot_minus_s": 100 * 86_400},
            "gap_s": 30 * 86_400,
            "test_from": None,
            "test_until": {"date": "2026-05-20"},
        },
    ]
)


def make(rows: list[tuple[int, str, int]]) -> pa.Table:
    at = [datetime(2026, 6, 1, tzinfo=UTC) + timedelta(days=d) for _, _, d in rows]
    return pa.table(
        {
            "user": [f"u{u}" for u, _, _ in rows],
            "country": [c for _, c, _ in rows],
            "at": pa.array(at, pa.timestamp("us", tz="UTC")),
        }
    )


def sides(table: pa.Table, spec: dict[str, Any]) -> dict[tuple, str | None]:
    out = assign_sides(table, spec, SNAPSHOT, identity=["user", "country", "at"]).to_pylist()
    return {(r["user"], r["country"], r["at"]): r[SIDE] for r in out}


@SETTINGS
@given(tables, specs, st.randoms())
def test_assignment_ignores_row_order(rows: list, spec: dict, rnd: Any) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert sides(make(rows), spec) == sides(make(shuffled), spec)


@SETTINGS
@given(tables, tables, specs)
def test_assignment_ignores_other_rows(rows: list, extra: list, spec: dict) -> None:
    alone = sides(make(rows), spec)
    together = sides(make(rows + extra), spec)
    assert all(together[k] == v for k, v in alone.items())


@SETTINGS
@given(tables, specs)
def test_sides_are_disjoint_and_keys_do_not_straddle(rows: list, spec: dict) -> None:
    out = assign_sides(make(rows), spec, SNAPSHOT).to_pylist()
    assert all(r[SIDE] in {"train", "valid", "test", None} for r in out)
    if spec["by"] in ("entity", "group"):
        by_key: dict[str, set] = {}
        for r in out:
            by_key.setdefault(r[spec["on"]], set()).add(r[SIDE])
        assert all(len(s) == 1 for s in by_key.values())


def test_time_split_boundaries_are_midnight_utc() -> None:
    spec = {
        "by": "time",
        "on": "at",
        "train_before": {"date": "2026-03-01"},
        "gap_s": 86_400,
        "test_from": None,
        "test_until": {"date": "2026-03-03"},
    }
    at = [
        datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 2, tzinfo=UTC),
        datetime(2026, 3, 2, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 3, tzinfo=UTC),
    ]
    table = pa.table({"at": pa.array(at, pa.timestamp("us", tz="UTC"))})
    got = assign_sides(table, spec, None).column(SIDE).to_pylist()
    assert got == ["train", None, "test", "test", None]


def test_relative_dates_count_from_base_snapshot() -> None:
    spec = {
        "by": "time",
        "on": "at",
        "train_before": {"snapshot_minus_s": 86_400},
        "test_from": {"snapshot_minus_s": 0},
    }
    at = [
        datetime(2026, 5, 30, 23, tzinfo=UTC),
        datetime(2026, 5, 31, tzinfo=UTC),
        datetime(2026, 6, 1, 1, tzinfo=UTC),
    ]
    table = pa.table({"at": pa.array(at, pa.timestamp("us", tz="UTC"))})
    assert assign_sides(table, spec, SNAPSHOT).column(SIDE).to_pylist() == ["train", None, "test"]


def test_hash_is_the_documented_md5_fraction() -> None:
    table = pa.table({"user": ["alice", "bob", "carol"]})
    spec = {"by": "entity", "on": "user", "test": 0.5, "seed": 42}
    got = assign_sides(table, spec, None).column(SIDE).to_pylist()
    want = ["test" if stable_fraction(42, u) < 0.5 else "train" for u in ["alice", "bob", "carol"]]
    assert got == want


def test_market_holdout_is_test() -> None:
    table = pa.table({"country": ["US", "FR", "DE", None]})
    spec = {"by": "market", "on": "country", "holdout": ["FR", "DE"]}
    assert assign_sides(table, spec, None).column(SIDE).to_pylist() == [
        "train",
        "test",
        "test",
        "train",
    ]


def test_a_numeric_holdout_on_a_text_column_is_its_text() -> None:
    """`holdout [1]` on a text column holds out "1" only (QA: "01", "1.0", " 1" and
    "1e0" went to test too); on a numeric column it matches the number 1 and 1.0."""
    shops = ["1", "01", "1.0", " 1", "1e0", "2.5", "2"]
    spec = {"by": "market", "on": "shop", "holdout": [1, 2.5]}
    sides = assign_sides(pa.table({"shop": shops}), spec, None).column(SIDE).to_pylist()
    assert [s for s, side in zip(shops, sides, strict=True) if side == "test"] == ["1", "2.5"]
    numbers = pa.table({"shop": pa.array([1.0, 1.5, 2.5, 3.0])})
    sides = assign_sides(numbers, spec, None).column(SIDE).to_pylist()
    assert sides == ["test", "train", "test", "train"]


def _gap_check(split: dict, maturity_s: int, snapshot: str) -> None:
    """`_check_gap` of a time split over a base source `b` at `snapshot latest`,
    resolved to `snapshot`, labelled by a label maturing `maturity_s` later."""
    from pipec.stdlib.runtime.context import StageContext
    from pipec.stdlib.runtime.data_stages import _check_gap

    stages = [{"id": "source.b", "kind": "source", "snapshot": "latest"},
              {"id": "label.y", "kind": "label", "maturity_s": maturity_s},
              {"id": "split", "kind": "split", "by": "time"} | split]
    ctx = StageContext({"stages": stages}, Path("."), stages[2], "run", None, None)
    ctx.source_meta = lambda _source: {"snapshot": snapshot}  # type: ignore[method-assign]
    _check_gap(ctx, {"label": "label.y", "base": "b"}, date.fromisoformat(snapshot))


def test_leak002_is_checked_again_on_the_resolved_snapshot() -> None:
    """`snapshot latest` + `test from snapshot - 40d`: only the run knows the dates."""
    from pipec.stdlib.runtime.errors import RunStopped

    split = {"train_before": {"date": "2024-03-01"},
             "test_from": {"snapshot_minus_s": 40 * 86_400}}
    with pytest.raises(RunStopped, match="LEAK002 on the resolved dates"):
        _gap_check(split, 86_400, "2024-04-09")  # test from 2024-02-29, before training ends
    _gap_check(split, 86_400, "2024-04-12")  # test from 2024-03-03: a day to spare
    with pytest.raises(RunStopped):
        _gap_check(split, 3 * 86_400, "2024-04-12")  # labels mature 3 days later


def test_leak007_is_checked_again_on_the_resolved_snapshot() -> None:
    """`snapshot latest`: only the run knows that a test period starting 2024-03-25
    holds no example whose 12-day label has matured by a snapshot of 2024-04-01."""
    from pipec.stdlib.runtime.errors import RunStopped

    split = {"train_before": {"date": "2024-03-01"}, "gap_s": 24 * 86_400}
    with pytest.raises(RunStopped, match="LEAK007 on the resolved dates"):
        _gap_check(split, 12 * 86_400, "2024-04-01")  # labelled before 2024-03-21 only
    _gap_check(split, 12 * 86_400, "2024-04-30")  # test examples until 2024-04-19 labelled


def test_a_sub_second_gap_is_kept() -> None:
    """`gap 1500ms` was cut to 1 s: train ended half a second too late."""
    from pipec.stdlib.runtime.splits import time_bounds

    before, start, _ = time_bounds({"train_before": {"date": "2026-01-01"}, "gap_s": 1.5}, None)
    assert start - before == timedelta(milliseconds=1500)
