"""Edge cases of `pipec test` and `pipec.testing` found by an audit: key columns of
every type, `test from` without `train before`, a split that raises in a child process,
bad flags, and relative paths in `load_split`."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pipec.check import compile
from pipec.cli import main
from pipec.testing.properties import (
    Options,
    SplitPropertyFailure,
    labels_mature,
    shares,
    time_bounds_hold,
)
from pipec.testing.spec import Column, time_bounds
from pipec.testing.strategies import coerce

from testing import broken
from testing.programs import program_text, spec_for

FAST = Options(max_examples=8, max_rows=10, share_keys=400, share_examples=2)


@pytest.mark.parametrize("column", ["d", "at", "ok"])
def test_group_on_a_date_timestamp_or_bool_column(column: str) -> None:
    # The bulk tables of `shares` once filled these key columns with text.
    spec = spec_for(f"split by group on {column} {{ test 0.3; seed 3 }}", snapshot="2026-01-01")
    shares(spec, None, FAST)


def test_market_holdout_on_a_timestamp_column_is_an_instant() -> None:
    # A text holdout in a timestamp column made every drawn table fail to build. (The
    # checker refuses such a split, T003; a manifest written by hand can still hold one.)
    column = Column("at", "timestamp")
    assert coerce(column, "2025-01-01") == datetime(2025, 1, 1, tzinfo=UTC)


def test_test_from_alone_trains_up_to_the_gap() -> None:
    spec = spec_for("split by time { test from 2025-06-01; gap 5d }", snapshot="2026-01-01")
    bounds = time_bounds(spec, spec.snapshot)
    assert bounds.before == datetime(2025, 5, 27, tzinfo=UTC)
    time_bounds_hold(spec, None, FAST)
    labels_mature(spec, None, FAST)


def test_test_from_alone_without_a_gap_leaks_labels() -> None:
    split = "split by time { test from 2025-06-01 }"
    program = compile(program_text(split, snapshot="2026-01-01", predicts="future"))
    assert [d.code for d in program.diagnostics if str(d.severity) == "error"] == ["LEAK002"]
    # The property finds the same leak in the split the checker was told to let through.
    spec = spec_for(f"# pipec: ignore[LEAK002] testing the property\n  {split}",
                    snapshot="2026-01-01")
    with pytest.raises(SplitPropertyFailure) as caught:
        labels_mature(spec, None, FAST)
    assert "train ends 2025-06-01" in caught.value.message


def test_a_split_raising_in_a_child_process_is_a_property_failure() -> None:
    from pipec.testing.crossproc import reproducible_across_processes

    with pytest.raises(SplitPropertyFailure) as caught:
        reproducible_across_processes(spec_for("entity"), broken.raising_split, FAST)
    assert "boom" in caught.value.message


@pytest.mark.parametrize("count", ["0", "-3"])
def test_max_examples_below_one_is_a_usage_error(count: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "model.pipe"
    path.write_text(program_text("split by entity { test 0.25; seed 9 }",
                                 predicts="new_entities"), encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["test", str(path), "--max-examples", count])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "must be at least 1" in err and "internal error" not in err


def test_load_split_resolves_beside_its_caller(tmp_path: Path) -> None:
    (tmp_path / "model.pipe").write_text(
        program_text("split by entity { test 0.25; seed 9 }", predicts="new_entities"),
        encoding="utf-8")
    caller = tmp_path / "caller.py"
    caller.write_text("from pipec.testing import load_split\n\n\n"
                      "def load():\n    return load_split('model.pipe')\n", encoding="utf-8")
    spec_ = importlib.util.spec_from_file_location("audit_caller", caller)
    assert spec_ is not None and spec_.loader is not None
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    assert module.load().kind == "entity"
