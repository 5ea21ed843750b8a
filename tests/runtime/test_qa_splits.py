"""Split runtime edge cases found by a QA pass: equal float keys spelled apart, and
split dates whose arithmetic runs past the end of the calendar."""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from pipec.stdlib.runtime.db import connect
from pipec.stdlib.runtime.splits import SIDE, assign_sides, time_bounds

# A NaN with its sign bit set: what x86 computes for `0 * inf`; DuckDB spells it `-nan`.
NEGATIVE_NAN = struct.unpack("<d", struct.pack("<Q", 0xFFF8_0000_0000_0000))[0]
PAIRS = [(0.0, -0.0), (math.nan, NEGATIVE_NAN)]


def _sides(table: pa.Table, split: dict) -> list[str | None]:
    return assign_sides(table, split, None).column(SIDE).to_pylist()


@pytest.mark.parametrize("by", ["group", "entity"])
@pytest.mark.parametrize("pair", PAIRS, ids=["zero", "nan"])
def test_equal_float_keys_share_a_side(by: str, pair: tuple[float, float]) -> None:
    """0.0 and -0.0 are one key (as NaN and -NaN are to SQL's grouping); hashing the
    key's text as DuckDB spells it put them on different sides for most seeds."""
    table = pa.table({"x": pa.array(list(pair), pa.float64())})
    for seed in range(20):
        first, second = _sides(table, {"by": by, "on": "x", "test": 0.5, "seed": seed})
        assert first == second, f"seed {seed}: {pair} on {first} and {second}"


def test_equal_rows_spelled_apart_share_a_random_side() -> None:
    table = pa.table({"x": pa.array([0.0, -0.0], pa.float64()), "k": ["a", "a"]})
    for seed in range(20):
        first, second = _sides(table, {"by": "random", "test": 0.5, "seed": seed})
        assert first == second, f"seed {seed}: one row on {first} and {second}"


def test_a_test_period_past_the_calendar_is_empty_not_an_error() -> None:
    """`train before 9999-12-01; gap 365d` starts the test period after year 9999: no
    row is tested, and the run goes on to say so instead of an OverflowError."""
    split = {"by": "time", "on": "at", "train_before": {"date": "9999-12-01"},
             "gap_s": 365 * 86_400}
    before, start, until = time_bounds(split, None)
    assert (before.year, start, until) == (9999, datetime.max.replace(tzinfo=UTC), None)
    at = [datetime(2025, 1, 1, tzinfo=UTC), datetime(9999, 12, 2, tzinfo=UTC)]
    table = pa.table({"at": pa.array(at, pa.timestamp("us", tz="UTC"))})
    assert _sides(table, split) == ["train", None]


def test_train_end_before_the_calendar_is_no_train_period() -> None:
    split = {"by": "time", "on": "at", "test_from": {"date": "0001-01-02"},
             "gap_s": 5 * 86_400}
    before, start, _until = time_bounds(split, None)
    assert before == datetime.min.replace(tzinfo=UTC) and start.day == 2
    table = pa.table({"at": pa.array([datetime(1, 1, 3, tzinfo=UTC)], pa.timestamp("us"))})
    assert _sides(table, split) == ["test"]


def test_splitting_small_tables_reuses_one_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening an in-memory database took most of a small split's time, and `pipec test`
    splits hundreds of small tables while it shrinks a counterexample."""
    from pipec.stdlib.runtime import splits

    opened = []
    monkeypatch.setattr(splits, "_DATABASE", {})
    monkeypatch.setattr(splits, "connect", lambda: opened.append(1) or connect())
    table = pa.table({"user": ["a", "b", "c"]})
    for seed in range(5):
        _sides(table, {"by": "entity", "on": "user", "test": 0.5, "seed": seed})
    assert len(opened) == 1


def test_a_train_end_at_the_end_of_the_calendar_is_leak002_not_an_overflow(
        tmp_path) -> None:
    """`train before 9999-12-31` with labels that mature a day later: the run's LEAK002
    check on the resolved dates computed 9999-12-31 + 1d and failed with OverflowError.
    (The checker reports it too; the runtime must still say it when run anyway.)"""
    from model.project import write_project
    from pipec import compile
    from pipec.manifest import build_manifest
    from pipec.stdlib.runtime import run_pipeline

    path = write_project(tmp_path)
    text = path.read_text("utf-8")
    for old, new in (("train before 2026-03-01", "train before 9999-12-31"),
                     ("test from 2026-03-03", "test from 9999-12-31"), ("gap 2d", "gap 0d")):
        text = text.replace(old, new)
    path.write_text(text, "utf-8")
    result = run_pipeline(build_manifest(compile(path)), tmp_path, tmp_path)
    assert result.status == "blocked", result.report
    assert "LEAK002 on the resolved dates" in str(result.report)
