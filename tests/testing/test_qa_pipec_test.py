"""`pipec test` as a demanding user runs it (QA pass): a source that declares no schema,
market holdouts a column cannot hold as written (1.5 in an int column, a timestamp in a
date column), a split whose dates count from `snapshot latest`, a counterexample value
that looks like rich markup, and `--max-examples` on the `shares` property.

A source without `schema` checks clean, and the runtime's split stage hashed a row by
its declared columns: none, so every row landed on one side (`test 20%` gave 200 train
rows, 0 test). It now hashes every column such a source's rows have, as its docstring
says ("the base source's columns"), and `pipec test` draws rows the same way. `pipec
test` once stopped there with an internal error (StopIteration)."""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pytest
from pipec.cli import main
from pipec.testing.properties import (
    Options,
    SplitPropertyFailure,
    holdout_is_test,
    labels_mature,
    shares,
)
from pipec.testing.spec import SplitSpec

from testing.programs import program_text, spec_for

FAST = Options(max_examples=5, max_rows=10, share_keys=400, share_examples=2)

SCHEMALESS = """team ml {{ contact "#ml"; role ml }}
pipeline p {{
  owner ml
  on_failure block
  predicts {predicts}
  source events {{
    from csv "events.csv"
    snapshot 2026-01-01
    {keys}
  }}
  validate events {{ require churn }}
  label churned {{ column churn }}
  {split}
}}
"""


def _schemaless(tmp_path: Path, split: str, *, keys: str = "",
                predicts: str = "iid") -> Path:
    path = tmp_path / "model.pipe"
    path.write_text(SCHEMALESS.format(split=split, keys=keys, predicts=predicts),
                    encoding="utf-8")
    return path


def test_a_random_split_of_a_schemaless_source_holds_its_shares(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No declared column: the rows hash by the columns they have, not by none."""
    path = _schemaless(tmp_path, "split by random { test 20%; seed 3 }")
    assert main(["test", str(path), "--max-examples", "3", "--no-cross-process"]) == 0
    assert "FAIL" not in capsys.readouterr().out


def test_the_runtime_splits_a_schemaless_source_by_its_shares(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The split stage itself: 1,000 rows and `test 20%` put 176 rows on test (this seed),
    where every row went to train."""
    path = _schemaless(tmp_path, "split by random { test 20%; seed 3 }")
    rng = random.Random(1)
    rows = "".join(f"u{i},{rng.random():.4f},{rng.randint(0, 1)}\n" for i in range(1000))
    (tmp_path / "events.csv").write_text("user,amount,churn\n" + rows, encoding="utf-8")
    assert main(["run", str(path), "--until", "split"]) == 0
    found = re.search(r"split: train (\d+), valid 0, test (\d+), dropped 0",
                      capsys.readouterr().out)
    assert found is not None
    train, test = map(int, found.groups())
    assert train + test == 1000 and 150 <= test <= 250


@pytest.mark.parametrize("split", ["split by random { test 20%; seed 3 }",
                                   "split by time { train before 2025-06-01; valid 10%; "
                                   "seed 2 }"])
def test_a_schemaless_spec_hashes_the_columns_its_rows_have(tmp_path: Path,
                                                           split: str) -> None:
    """The rows `pipec test` draws for a schemaless source hold its entity and time
    columns, and hash by them, as the runtime hashes such a source's rows by every
    column they have: the shares hold."""
    from pipec.testing.spec import split_spec

    predicts = "iid" if "random" in split else "future"
    spec = split_spec(_schemaless(tmp_path, split, keys="entity user; time at",
                                  predicts=predicts))
    assert spec is not None and spec.identity == ("at", "user")
    shares(spec, None, FAST)


def test_a_fractional_holdout_on_an_int_column_holds_out_no_int() -> None:
    """`holdout [1.5]` on an int column: the runtime compares numbers, so no row is held
    out. The oracle once truncated 1.5 to 1 and reported rows with 1 as wrongly trained.
    The checker now refuses the line (T003); a spec given to the API still agrees."""
    spec = _with_holdout(spec_for("split by market on n { holdout [2] }",
                                  snapshot="2026-01-01"), [1.5])
    holdout_is_test(spec, None, Options(max_examples=15))


def _with_holdout(spec: SplitSpec, values: list[object]) -> SplitSpec:
    return dataclasses.replace(spec, split={**spec.split, "holdout": values})


@pytest.mark.parametrize(("split", "refused"), [
    ("split by market on n { holdout [2, 1.5] }", "holds out `1.5`, a number, but `n` is an int"),
    ("split by market on d { holdout [2025-01-01T05:00:00Z] }",
     "holds out `2025-01-01T05:00:00Z`, a timestamp, but `d` is a date")])
def test_pipec_test_refuses_a_holdout_no_row_can_hold(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], split: str, refused: str) -> None:
    """Held out, such a value matches no row and the test set is empty: T003, as for a
    value of another kind."""
    path = tmp_path / "model.pipe"
    path.write_text(program_text(split, snapshot="2026-01-01", predicts="future"), "utf-8")
    assert main(["test", str(path), "--max-examples", "3", "--no-cross-process"]) == 1
    captured = capsys.readouterr()
    assert refused in captured.out + captured.err


def test_a_failure_at_a_drawn_snapshot_names_that_snapshot() -> None:
    """`train before snapshot - 10d; test from 2025-06-01` overlaps once the snapshot is
    late enough; the dates of the message are resolved ones, so it says which snapshot
    the strategies drew for `snapshot latest`."""
    split = "split by time { train before snapshot - 10d; test from 2025-06-01 }"
    spec = spec_for(split, snapshot="latest",
                    suppress=" # pipec: ignore[LEAK002] the split must fail at drawn snapshots")
    with pytest.raises(SplitPropertyFailure) as caught:
        labels_mature(spec, None, Options(max_examples=25))
    assert "with `snapshot latest` resolved to " in caught.value.message



def test_a_counterexample_value_is_not_rich_markup() -> None:
    """On a terminal the counterexample is a rich table: a value such as `[/b]` (a key
    drawn by hypothesis, or a holdout written in the file) is printed as written, where
    it once raised MarkupError and ended `pipec test` with an internal error."""
    from pipec.testing.report import print_failure
    from rich.console import Console

    failure = SplitPropertyFailure("holdout_is_test", "the test side is the holdout",
                                   "row 0 is on `train`",
                                   [{"row": 0, "market": "[/b]", "side": "train"},
                                    {"row": 1, "market": "[bold]FR", "side": "test"}])
    console = Console(width=100, record=True)
    print_failure(console, failure)
    shown = console.export_text()
    assert "'[/b]'" in shown and "'[bold]FR'" in shown


def test_max_examples_also_bounds_the_shares_property() -> None:
    """`--max-examples N` is "examples per property": `shares` ran its 4 large inputs
    whatever N was, so `--max-examples 1` was no quicker there."""
    calls: list[int] = []
    options = Options(max_examples=1, share_keys=400, tick=lambda: calls.append(1))
    shares(spec_for("random"), None, options)
    assert len(calls) == 1


def test_a_timestamp_holdout_on_a_date_column_draws_rows() -> None:
    """A timestamp was put as text into the drawn date column, and `pipec test` stopped
    with an internal error (ArrowTypeError). A timestamp no date equals holds out
    nothing, as in the runtime (the checker now refuses it, T003; a spec given to the
    API still agrees)."""
    spec = _with_holdout(spec_for("split by market on d { holdout [2025-01-01] }",
                                  snapshot="2026-01-01"), ["2025-01-01T05:00:00Z"])
    holdout_is_test(spec, None, Options(max_examples=10))


def test_a_midnight_timestamp_holdout_is_that_day() -> None:
    """A date means 00:00 UTC of that day, so `2025-01-01T00:00:00Z` holds out the date
    2025-01-01."""
    from datetime import UTC, date, datetime

    from pipec.testing.spec import Column
    from pipec.testing.strategies import coerce

    day = Column("d", "date")
    assert coerce(day, "2025-01-01T00:00:00Z") == date(2025, 1, 1)
    assert coerce(day, "2025-01-01T05:00:00Z") == datetime(2025, 1, 1, 5, tzinfo=UTC)
    assert coerce(day, "2025-01-01") == date(2025, 1, 1)


@pytest.mark.parametrize("instant", ["2025-01-01T00:00:00Z", "2025-01-01T01:00:00+01:00"])
def test_the_runtime_holds_out_the_day_of_a_midnight_timestamp(instant: str) -> None:
    """The runtime compared a timestamp with a date column's text (`2025-01-01`), so it
    held out no row, and `pipec test` found a row of 2025-01-01 on train."""
    spec = spec_for(f"split by market on d {{ holdout [{instant}] }}", snapshot="2026-01-01")
    holdout_is_test(spec, None, Options(max_examples=30))
