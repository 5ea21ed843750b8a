"""`pipec test` QA pass: a failure found through the Python API (and so the pytest
plugin) said nothing of the seed that found it, where `pipec test` ends with the command
that replays it; a time split's messages spelled instants as Python's `str()` does
(`2025-06-01 00:00:00+00:00`) beside tables that spell them `2025-06-01T00:00:00Z`; and
no property ever split an input of no rows, so a split that raises on one passed; and
a hypothesis profile loaded by the user's conftest changed what the API found; and
`--seed -1` drew the examples of `--seed 1`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import Phase, settings
from pipec.cli import main
from pipec.stdlib.runtime.splits import assign_sides
from pipec.testing import assert_split_properties
from pipec.testing.properties import (
    Options,
    SplitPropertyFailure,
    labels_mature,
    partition,
    time_bounds_hold,
)
from pipec.testing.report import cell

from testing import broken
from testing.programs import program_text, spec_for

# Training ends after the test starts at almost every drawn `snapshot latest`: the
# message names the drawn snapshot, so which one is shown depends on the seed.
DRAWN = program_text("split by time { train before snapshot - 10d; test from 2000-01-01 }",
                     predicts="future",
                     suppress=" # pipec: ignore[LEAK002] the split must fail at drawn snapshots")
REPLAY = "replay with the same examples ("


def _failure(**kwargs: object) -> SplitPropertyFailure:
    with pytest.raises(SplitPropertyFailure) as caught:
        assert_split_properties("model.pipe", cross_process=False, **kwargs)
    return caught.value


def _replay_line(failure: SplitPropertyFailure) -> str:
    lines = [line for line in str(failure).splitlines() if line.startswith(REPLAY)]
    assert len(lines) == 1, str(failure)
    return lines[0]


@pytest.mark.parametrize("seed", [None, 7, -1])
def test_an_api_failure_says_how_to_replay_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], seed: int | None) -> None:
    """The message named no seed and no command. It now ends as `pipec test` does, and
    that command, run, finds the same failure."""
    monkeypatch.chdir(tmp_path)
    Path("model.pipe").write_text(DRAWN, encoding="utf-8")
    failure = _failure(max_examples=3, seed=seed)
    line = _replay_line(failure)
    which = "the fixed default seed" if seed is None else f"seed {seed}"
    assert line.startswith(f"{REPLAY}{which}): pipec test model.pipe --max-examples 3")
    command = line.split("): ", 1)[1].split()
    assert ("--seed" in command) == (seed is not None)
    assert main(command[1:]) == 1
    out = capsys.readouterr().out
    assert f"split property `{failure.prop}` does not hold: {failure.message}\n" in out
    assert out.strip().splitlines()[-1] == line


def test_an_api_failure_of_another_split_replays_through_the_api(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pipec test` runs the runtime's split: for a split of the user's own, and options
    the command has no flag for, the line is the call to make again, and making it finds
    the same failure."""
    monkeypatch.chdir(tmp_path)
    Path("model.pipe").write_text(program_text(
        "split by time { train before snapshot - 30d; gap 3d }", predicts="future"),
        encoding="utf-8")
    impl = broken.gapless_time_split
    failure = _failure(impl=impl, max_examples=8, seed=11, max_rows=6)
    assert _replay_line(failure) == (
        f"{REPLAY}seed 11): assert_split_properties('model.pipe', "
        "impl=testing.broken.gapless_time_split, max_examples=8, seed=11, "
        "cross_process=False, max_rows=6)")
    again = _failure(impl=impl, max_examples=8, seed=11, max_rows=6)
    assert str(again) == str(failure)


def test_a_spec_failure_names_its_seed() -> None:
    """A spec has no file to name: the line is still the call, with its seed."""
    with pytest.raises(SplitPropertyFailure) as caught:
        assert_split_properties(spec_for("time"), impl=broken.gapless_time_split,
                                max_examples=5, seed=3, cross_process=False)
    assert _replay_line(caught.value) == (
        f"{REPLAY}seed 3): assert_split_properties(<the same SplitSpec>, "
        "impl=testing.broken.gapless_time_split, max_examples=5, seed=3, "
        "cross_process=False)")


def test_a_property_called_alone_has_no_replay_line() -> None:
    """`pipec test` prints its own replay line after every failure: the properties it
    calls must not add one each."""
    with pytest.raises(SplitPropertyFailure) as caught:
        time_bounds_hold(spec_for("time"), broken.gapless_time_split, Options(max_examples=5))
    assert REPLAY not in str(caught.value)


def _gapless_failure() -> tuple[SplitPropertyFailure, int]:
    """The failure of a split that ignores its gap, and how many examples found it."""
    calls: list[int] = []
    options = Options(max_examples=10, tick=lambda: calls.append(1))
    with pytest.raises(SplitPropertyFailure) as caught:
        time_bounds_hold(spec_for("time"), broken.gapless_time_split, options)
    return caught.value, len(calls)


def test_a_users_hypothesis_profile_changes_nothing() -> None:
    """A conftest that loads a profile (here, one that skips shrinking to save CI time)
    changed the API's counterexample: unshrunk, and not the one its replay line, or
    `pipec test` where no profile applies, shows."""
    expected, work = _gapless_failure()
    previous = settings.get_current_profile_name()
    settings.register_profile("qa-no-shrink", phases=[Phase.explicit, Phase.generate])
    settings.load_profile("qa-no-shrink")
    try:
        found, found_work = _gapless_failure()
    finally:
        settings.load_profile(previous)
    assert str(found) == str(expected)
    assert found_work == work


@pytest.mark.parametrize("seed", [None, 5])
def test_the_counterexample_shown_is_the_shrunk_one(seed: int | None) -> None:
    """After shrinking, hypothesis's `explain` phase ran variants of the minimal input,
    and the one shown was the last to fail: a snapshot of 2000-01-30 (2000-09-22 with
    seed 5) where the shrunk one is the first a `snapshot latest` can be, 2000-01-01."""
    with pytest.raises(SplitPropertyFailure) as caught:
        time_bounds_hold(spec_for("time"), broken.gapless_time_split, Options(seed=seed))
    assert caught.value.message.endswith("(with `snapshot latest` resolved to 2000-01-01)")


def _drawn(seed: int) -> list[list[dict[str, Any]]]:
    """Every table `partition` splits with this seed."""
    tables: list[list[dict[str, Any]]] = []

    def recording_split(table: pa.Table, *args: Any, **kwargs: Any) -> pa.Table:
        tables.append(table.to_pylist())
        return assign_sides(table, *args, **kwargs)

    partition(spec_for("entity"), recording_split, Options(max_examples=5, seed=seed))
    return tables


def test_a_negative_seed_draws_examples_of_its_own() -> None:
    """Python's `Random` seeds with an int's absolute value: `--seed -1` explored nothing
    that `--seed 1` had not."""
    assert _drawn(-1) != _drawn(1)
    assert _drawn(-1) == _drawn(-1)


# ------------------------------------------------------------------ instants


def test_a_time_failure_spells_its_instants_as_the_tables_do() -> None:
    """The bounds and the row's time in the message, in the tables' ISO form."""
    with pytest.raises(SplitPropertyFailure) as caught:
        time_bounds_hold(spec_for("time_until"), broken.gapless_time_split,
                         Options(max_examples=10))
    message = caught.value.message
    assert "train is t < 2025-06-01T00:00:00Z, test is t >= 2025-07-01T00:00:00Z and " \
           "t < 2025-09-01T00:00:00Z" in message
    assert "+00:00" not in str(caught.value)


def test_a_label_maturity_failure_spells_its_instants_as_the_tables_do() -> None:
    spec = spec_for("split by time { train before 2025-06-01; test from 2025-06-02 }"
                    " # pipec: ignore[LEAK002] the property test must catch it",
                    snapshot="2026-01-01")
    with pytest.raises(SplitPropertyFailure) as caught:
        labels_mature(spec, None, Options(max_examples=3))
    assert caught.value.message == (
        "train ends 2025-06-01T00:00:00Z and labels mature after 3d, so the last training "
        "labels are known 2025-06-04T00:00:00Z, after the test start 2025-06-02T00:00:00Z")


def test_an_instant_in_another_zone_is_shown_in_utc() -> None:
    """A drawn column in another zone showed `2025-05-31T20:00:00-04:00` beside bounds in
    UTC; a naive column (UTC by convention) states no zone."""
    new_york = timezone(timedelta(hours=-4))
    assert cell(datetime(2025, 5, 31, 20, tzinfo=new_york)) == "2025-06-01T00:00:00Z"
    assert cell(datetime(2025, 6, 1, 0, 0, 0, 1, tzinfo=UTC)) == "2025-06-01T00:00:00.000001Z"
    assert cell(datetime(2025, 6, 1)) == "2025-06-01T00:00:00"


# ------------------------------------------------------------------ no rows


def first_row_split(table: pa.Table, split: dict[str, Any], snapshot: date | None, *,
                    on: str | None = None, identity: list[str] | None = None) -> pa.Table:
    """The runtime's split, after reading the first row (to learn the time column's
    zone, say): a day with no new data has no first row."""
    table.column(split.get("on") or on or table.column_names[0])[0]
    return assign_sides(table, split, snapshot, on=on, identity=identity)


@pytest.mark.parametrize("name", ["time", "entity", "random"])
def test_partition_splits_an_input_of_no_rows(name: str) -> None:
    """Every drawn table has a row (a time split's, one per period), so this split
    passed: it now fails on the input of no rows, which the runtime's split holds."""
    spec = spec_for(name)
    with pytest.raises(SplitPropertyFailure) as caught:
        partition(spec, first_row_split, Options(max_examples=3))
    assert caught.value.message.startswith("on an input of no rows, the split raised "
                                           "IndexError")
    partition(spec, None, Options(max_examples=3))
