"""`pipec test` QA pass: a split that puts one entity on train and test where the
pipeline predicts new entities (LEAK005 suppressed) passed every property, and a time
split's counterexample kept rows it did not need (the one row per period that every
drawn table starts with, which hypothesis cannot delete)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.cli import main
from pipec.testing.properties import (
    Options,
    SplitPropertyFailure,
    entities_unseen,
    properties_for,
    time_bounds_hold,
)

from testing import broken
from testing.programs import program_text, spec_for

SEEN = " # pipec: ignore[LEAK005] the property test must catch it"
FAST = Options(max_examples=10)


def test_pipec_test_fails_a_time_split_of_entities_it_must_not_have_seen(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`predicts new_entities` and a time split: a user trained on before `train before`
    is tested on after `test from`. All properties held and `pipec test` exited 0."""
    path = tmp_path / "model.pipe"
    path.write_text(program_text("split by time { train before 2025-06-01; gap 3d }",
                                 snapshot="2026-01-01", suppress=SEEN), encoding="utf-8")
    assert main(["test", str(path), "--max-examples", "10", "--no-cross-process"]) == 1
    out = capsys.readouterr().out
    assert "FAIL entities unseen" in out
    assert "the model is tested on one it was trained on" in out


@pytest.mark.parametrize("split", [
    "split by random { test 20%; seed 3 }",
    "split by market on country { holdout [FR, DE] }"])
def test_a_row_or_market_split_of_new_entities_is_caught(split: str) -> None:
    """The counterexample is the two rows of one entity, one on each side."""
    # A random split of a timed source is also LEAK001's: suppressed too.
    spec = spec_for(split + SEEN.replace("LEAK005", "LEAK005, LEAK001"),
                    predicts="new_entities")
    with pytest.raises(SplitPropertyFailure) as caught:
        entities_unseen(spec, None, FAST)
    rows = caught.value.rows
    assert len(rows) == 2 and {row["side"] for row in rows} == {"train", "test"}
    assert rows[0]["user"] == rows[1]["user"]


@pytest.mark.parametrize(("split", "predicts"), [
    ("entity", "new_entities"), ("group", "new_entities"),
    ("time", "future"), ("split by random { test 20%; seed 3 }", "iid")])
def test_entities_unseen_runs_only_where_leak005_would_fire(split: str,
                                                            predicts: str) -> None:
    names = [p.func.__name__ for p in properties_for(spec_for(split, predicts=predicts),
                                                     cross_process=False)]
    assert "entities_unseen" not in names


@pytest.mark.parametrize("name", ["time", "time_until"])
def test_a_time_counterexample_keeps_only_the_rows_it_needs(name: str) -> None:
    """A split that ignores its gap fails on one row in the gap. The counterexample also
    showed a row in each other period (train, test, after `until`): 3 or 4 rows."""
    with pytest.raises(SplitPropertyFailure) as caught:
        time_bounds_hold(spec_for(name), broken.gapless_time_split, FAST)
    rows = caught.value.rows
    assert len(rows) == 1
    assert rows[0]["side"] == "test" and rows[0]["expected"] is None


@pytest.mark.parametrize("seed", [[], ["--seed", "7"]])
def test_a_failure_says_how_to_replay_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         seed: list[str]) -> None:
    """The output named no seed and no command: a user could not tell whether running it
    again shows the same counterexample. The replay line, run, prints the same output."""
    path = tmp_path / "model.pipe"
    path.write_text(program_text("split by time { train before 2025-06-01; gap 3d }",
                                 snapshot="2026-01-01", suppress=SEEN), encoding="utf-8")
    assert main(["test", str(path), "--max-examples", "5", "--no-cross-process", *seed]) == 1
    first = capsys.readouterr().out
    replay = first.strip().splitlines()[-1]
    assert replay.startswith("replay with the same examples (")
    assert ("seed 7" in replay) == bool(seed)
    command = replay.split("): ", 1)[1].split()
    assert command[:3] == ["pipec", "test", str(path)]
    assert main(command[1:]) == 1
    assert capsys.readouterr().out == first
