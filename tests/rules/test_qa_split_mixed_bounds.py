"""LEAK002 on a time split whose bounds mix frames: one relative to the snapshot, the
other a fixed date. Under `snapshot latest` the checker used to compare only bounds of
one frame, so `train before snapshot - 10d; test from 2000-01-01` checked clean while
training ends after the test start for every snapshot after 2000-01-11, which is every
run on newer data (`pipec test` found it at almost every drawn snapshot). The fixed-
snapshot case resolves both bounds to dates and stays exact; the reverse mix (a fixed
`train before`, a relative `test from`) only overlaps for snapshots before some date,
which the run checks again on the resolved date."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.check import compile
from pipec.testing.api import assert_split_properties
from support.programs import edited

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

PROGRAM = """team ml {{ contact "#ml"; role ml }}

pipeline p {{
  owner ml
  on_failure block
  predicts future

  source events {{
    from csv "events.csv"
    snapshot {snapshot}
    time at
    schema {{ id: string, at: timestamp, amount: float, late: bool }}
  }}

  validate events {{
    require id
  }}

  label late {{
    column late{maturity}
  }}

  split by time on at {{
    train before {before}
    test from {start}
  }}

  train m {{
    model "sklearn.linear_model.LogisticRegression"
    seed 1
  }}

  evaluate m {{
    primary roc_auc >= 0.7
    calibration ece <= 0.05
  }}
}}
"""


def program(before: str, start: str, *, snapshot: str = "latest", known_after: str = "") -> str:
    maturity = f"\n    known_after {known_after}" if known_after else ""
    return PROGRAM.format(snapshot=snapshot, before=before, start=start, maturity=maturity)


def found(text: str) -> list[tuple[str, int, str, str]]:
    return [(d.code, d.span.line, d.message, d.help or "") for d in compile(text).diagnostics]


def test_a_relative_train_end_beside_a_fixed_test_start_is_leak002() -> None:
    """The reported split: clean before, though it overlaps for every snapshot after
    2000-01-11. An error (LEAK002's severity): the overlap is certain for every snapshot
    past that date, and `latest` only moves forward."""
    text = program("snapshot - 10d", "2000-01-01")
    [(code, line, message, hint)] = found(text)
    test_from = next(i for i, row in enumerate(text.splitlines(), 1) if "test from" in row)
    assert (code, line) == ("LEAK002", test_from)
    assert "for every snapshot after 2000-01-11, training ends after the test start" \
        in message
    assert message.endswith("make both bounds relative to the snapshot: "
                            "`test from snapshot - 10d`")
    assert hint == ("or make both dates: `train before 2000-01-01` "
                    "(where `test from` starts)")
    assert [d.severity for d in compile(text).diagnostics] == ["error"]


@pytest.mark.parametrize(("before", "start"), [("snapshot - 10d", "snapshot - 10d"),
                                               ("2000-01-01", "2000-01-01")])
def test_either_hint_followed_checks_clean_and_holds_the_split_properties(
        before: str, start: str) -> None:
    """Both bounds relative, or both dates: the checker and `pipec test` then agree."""
    checked = compile(program(before, start))
    assert checked.diagnostics == []
    assert_split_properties(checked, max_examples=10, cross_process=False)


@pytest.mark.parametrize(("before", "after", "relative_fix"), [
    # A test start one maturity after `snapshot - 10d` is no `snapshot - DUR`, and one
    # after `snapshot - 50d` has no matured label (LEAK007): the hint moves both.
    ("snapshot - 10d", "1999-12-12", "`train before snapshot - 60d` and "
                                     "`test from snapshot - 30d`"),
    ("snapshot - 50d", "2000-01-21", "`train before snapshot - 60d` and "
                                     "`test from snapshot - 30d`"),
    ("snapshot - 100d", "2000-03-11", "`test from snapshot - 70d`"),
])
def test_with_a_label_maturity_the_threshold_and_hints_count_it(
        before: str, after: str, relative_fix: str) -> None:
    """Labels maturing after 30d: training overlaps the test once `snapshot - K + 30d`
    passes 2000-01-01, i.e. for snapshots after 2000-01-01 + K - 30d."""
    text = program(before, "2000-01-01", known_after="30d")
    [(code, _line, message, hint)] = found(text)
    assert code == "LEAK002"
    assert f"for every snapshot after {after}, the last training labels (maturing after " \
        "30d) are seen after the test start" in message
    assert message.endswith(f"relative to the snapshot: {relative_fix}")
    assert hint == ("or make both dates: `train before 1999-12-02` "
                    "(one label maturity before `test from`)")
    fixes = [program(*_bounds(relative_fix, before), known_after="30d"),
             program("1999-12-02", "2000-01-01", known_after="30d")]
    for fixed in fixes:
        assert found(fixed) == []


def _bounds(relative_fix: str, before: str) -> tuple[str, str]:
    """(`train before`, `test from`) as the hint's relative fix sets them."""
    quoted = relative_fix.split("`")[1::2]
    values = {stmt.split(" ", 2)[0]: stmt.split(" ", 2)[2] for stmt in quoted}
    return values.get("train", before), values["test"]


@pytest.mark.parametrize(("snapshot", "expected"), [
    ("2026-03-31", [("LEAK002", "train ends 2026-03-21, after the test start 2000-01-01")]),
    ("2000-01-12", [("LEAK002", "train ends 2000-01-02, after the test start 2000-01-01")]),
    ("2000-01-11", []),  # training ends on 2000-01-01, where the test starts
])
def test_a_fixed_snapshot_resolves_the_mix_exactly(snapshot: str, expected: list) -> None:
    got = [(code, message.split(":")[0])
           for code, _line, message, _hint in found(program("snapshot - 10d", "2000-01-01",
                                                            snapshot=snapshot))]
    assert got == expected


@pytest.mark.parametrize(("snapshot", "expected"), [
    # Training on a fixed period, testing on the last 30 days: under `latest` it only
    # overlaps while the data ends before 2026-01-31, which `pipec run` checks again.
    ("latest", []),
    ("2026-01-15", [("LEAK002", "train ends 2026-01-01, after the test start 2025-12-16")]),
    ("2026-03-31", []),
])
def test_the_reverse_mix_overlaps_only_for_an_early_snapshot(snapshot: str,
                                                             expected: list) -> None:
    got = [(code, message.split(":")[0])
           for code, _line, message, _hint in found(program("2026-01-01", "snapshot - 30d",
                                                            snapshot=snapshot))]
    assert got == expected


def test_the_reference_program_with_a_fixed_test_start() -> None:
    """The fraud example (32d maturity, a label from another `latest` source) with its
    `test from` pinned to a date: reported, and the relative hint is the example's own
    line back."""
    fraud = EXAMPLES / "fraud"
    # The teams inline, so that the edited text is one self-contained program.
    text = (fraud / "fraud.pipe").read_text("utf-8").replace(
        'import "teams.pipe"', (fraud / "teams.pipe").read_text("utf-8"), 1)
    assert compile(text).diagnostics == []
    pinned = edited(text, ("test from snapshot - 68d", "test from 2026-01-01"))
    [diagnostic] = compile(pinned).diagnostics
    assert diagnostic.code == "LEAK002"
    assert "for every snapshot after 2026-03-10" in diagnostic.message
    assert diagnostic.message.endswith("`test from snapshot - 68d`")
    assert diagnostic.help == ("or make both dates: `train before 2025-11-30` "
                               "(one label maturity before `test from`)")
    both_dates = edited(pinned, ("train before snapshot - 100d", "train before 2025-11-30"))
    assert compile(both_dates).diagnostics == []


@pytest.mark.parametrize("name", ["fraud/fraud.pipe", "flights/flights.pipe"])
def test_the_examples_stay_clean(name: str) -> None:
    assert compile(EXAMPLES / name).diagnostics == []


def test_a_threshold_before_year_one_names_no_date() -> None:
    """`test from 0001-01-01` with 30d labels: every snapshot overlaps, and no date can end
    training a maturity before it, so neither is offered (`0001-01-01 - 30d` is no date)."""
    [(code, _line, message, hint)] = found(program("snapshot - 10d", "0001-01-01",
                                                   known_after="30d"))
    assert code == "LEAK002"
    assert "does not: for every snapshot, the last training labels" in message
    assert "0001-01-01 -" not in message + hint
    assert hint == "training must end one label maturity before the test period starts"


def test_a_threshold_past_year_9999_is_no_snapshot() -> None:
    """Training ends 300 days before a snapshot that would have to come after 9999-12-31."""
    assert found(program("snapshot - 300d", "9999-12-31")) == []
