"""The snapshots `pipec test` draws for `snapshot latest`.

They were any date from 2000-01-01, long before the dates a split names: `train before
2026-01-01; test from snapshot - 30d` (clean under `pipec check`, overlapping only for a
snapshot before 2026-01-31, which `pipec run` checks again on the resolved date) failed
`pipec test` at a snapshot of 2000-01-01, data no run of that split has. A `latest`
snapshot is now drawn from the first date a run can resolve it to, while a split that
breaks at every newer snapshot still fails, at the first of them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pipec.cli import main
from pipec.stdlib.runtime.splits import assign_sides
from pipec.testing.properties import (
    Options,
    SplitPropertyFailure,
    check_split,
    labels_mature,
    time_bounds_hold,
)
from pipec.testing.spec import earliest_real_snapshot
from pipec.testing.strategies import default_snapshot

from testing import broken
from testing.programs import program_text, spec_for

# The reported split: a fixed train end, a test start relative to the snapshot. The
# programs' label matures 3d after the event, so runs from 2026-02-03 on hold it.
FIXED_TRAIN_END = "split by time { train before 2026-01-01; test from snapshot - 30d }"
FIRST_REAL = date(2026, 2, 3)
# The reverse mix: training moves past the fixed test start for every snapshot after
# 2026-01-11, every run from then on.
MOVING_TRAIN_END = "split by time { train before snapshot - 10d; test from 2026-01-01 }"
LEAKY = " # pipec: ignore[LEAK002] the property test must catch it"


class Recorder:
    """The runtime's split, counting the snapshots it is asked to split at."""

    def __init__(self) -> None:
        self.snapshots: list[date | None] = []

    def __call__(self, table: pa.Table, split: dict[str, Any], snapshot: date | None,
                 **kwargs: Any) -> pa.Table:
        self.snapshots.append(snapshot)
        return assign_sides(table, split, snapshot, **kwargs)


def test_pipec_test_holds_a_fixed_train_end_with_a_test_start_from_the_snapshot(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`pipec check` is clean and `pipec test` failed `time bounds hold` and `labels
    mature` at a drawn snapshot of 2000-01-01; every property now holds."""
    path = tmp_path / "model.pipe"
    path.write_text(program_text(FIXED_TRAIN_END, predicts="future"), encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert main(["test", str(path), "--max-examples", "25", "--no-cross-process"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and "all 5 split properties hold" in out


@pytest.mark.parametrize("seed", [None, 7])
def test_latest_snapshots_start_at_the_first_a_run_can_have(seed: int | None) -> None:
    """Every drawn snapshot is on or after the first one a run can resolve to, the
    earliest of them is drawn (hypothesis tries the smallest date), and a second run
    with the same seed asks for exactly the same snapshots."""
    spec = spec_for(FIXED_TRAIN_END)
    runs = []
    for _ in range(2):
        recorder = Recorder()
        time_bounds_hold(spec, recorder, Options(max_examples=25, seed=seed))
        runs.append(recorder.snapshots)
    assert runs[0] == runs[1]
    assert min(s for s in runs[0] if s is not None) == FIRST_REAL
    assert len(set(runs[0])) > 5  # still many snapshots, not one


def test_a_split_broken_at_every_newer_snapshot_still_fails_at_the_first() -> None:
    """LEAK002 reports the moving train end; suppressed, `pipec test` must still find it,
    and the counterexample shrinks to the first snapshot that overlaps (training then
    ends 2026-01-02, a day after the test start)."""
    spec = spec_for(MOVING_TRAIN_END, suppress=LEAKY)
    with pytest.raises(SplitPropertyFailure) as caught:
        time_bounds_hold(spec, None, Options(max_examples=25))
    assert caught.value.message == (
        "`train before` 2026-01-02T00:00:00Z is after `test from` 2026-01-01T00:00:00Z "
        "(with `snapshot latest` resolved to 2026-01-12)")
    # Labels 3d old at the train end overlap from 2026-01-09; hypothesis shrinks the
    # snapshot with the rows drawn for it, so it stops near that date, if not on it.
    with pytest.raises(SplitPropertyFailure) as caught:
        labels_mature(spec, None, Options(max_examples=25))
    shown = caught.value.message.rsplit("resolved to ", 1)[1].rstrip(")")
    assert date(2026, 1, 9) <= date.fromisoformat(shown) <= date(2026, 1, 31)


def test_a_wrong_runtime_still_fails_at_the_snapshots_a_run_can_have() -> None:
    """Drawing later snapshots keeps the properties' power over the implementation: a
    split that starts the test period where training ends (not 30d before the
    snapshot) fails on the reported split."""
    spec = spec_for(FIXED_TRAIN_END)
    with pytest.raises(SplitPropertyFailure) as caught:
        check_split(spec, broken.gapless_time_split, Options(max_examples=25))
    assert caught.value.prop == "time_bounds_hold"


@pytest.mark.parametrize(("split", "first"), [
    (FIXED_TRAIN_END, FIRST_REAL),
    # The gap is longer than the 3d maturity: the test start must be 10d after the end.
    ("split by time { train before 2026-01-01; gap 10d; test from snapshot - 30d }",
     date(2026, 2, 10)),
    # An end at noon: the snapshot's midnight less 10d must reach noon + 3d.
    ("split by time { train before 2026-01-01T12:00:00Z; test from snapshot - 10d }",
     date(2026, 1, 15)),
    # A relative `until` after a fixed test start: the test period is not inverted.
    ("split by time { train before 2025-06-01; gap 3d; test from 2025-06-04 "
     "until snapshot - 60d }", date(2025, 8, 3)),
    # The moving train end bounds the snapshot from above only: the fixed date alone.
    (MOVING_TRAIN_END, date(2026, 1, 1)),
    # Only fixed dates: the data reaches the last (the derived test start here).
    ("split by time { train before 2025-06-01; gap 3d }", date(2025, 6, 4)),
    # Only relative dates: nothing fixes a floor.
    ("split by time { train before snapshot - 30d; gap 3d }", None),
    ("split by entity { test 0.25; seed 9 }", None),
])
def test_the_first_snapshot_a_run_can_have(split: str, first: date | None) -> None:
    suppress = LEAKY if split == MOVING_TRAIN_END else ""
    assert earliest_real_snapshot(spec_for(split, suppress=suppress)) == first


def test_an_undrawn_input_is_split_at_a_snapshot_a_run_can_have() -> None:
    """The large inputs (shares, other processes) and the input of no rows are split at
    one snapshot, 2020-01-01 for `latest`; it moves up to the first real one, and stays
    the declared one for a fixed snapshot."""
    assert default_snapshot(spec_for(FIXED_TRAIN_END)) == FIRST_REAL
    assert default_snapshot(spec_for("time")) == date(2020, 1, 1)
    assert default_snapshot(spec_for(FIXED_TRAIN_END, snapshot="2027-03-01")) \
        == date(2027, 3, 1)


def test_a_split_at_the_end_of_the_calendar_draws_the_last_dates() -> None:
    """A floor past what ten more years can hold is held at 9999-12-31, not an
    OverflowError."""
    spec = spec_for("split by time { train before 9999-12-01; test from snapshot - 30d }")
    assert earliest_real_snapshot(spec) == date.max
    recorder = Recorder()
    time_bounds_hold(spec, recorder, Options(max_examples=5))
    assert set(recorder.snapshots) == {date.max}
