"""Three silent mistakes a QA pass found: a feature window no longer than its source's
`lag` (FEAT001), a `predicts future` pipeline split by key rather than time (LEAK010),
and a time split on a column other than the event time (LEAK011, which LEAK002 and
LEAK007 then leave alone). Each case edits a clean per-rule fixture."""

from __future__ import annotations

import pytest
from pipec.check import compile
from support.programs import edited

from .conftest import FIXTURES

WINDOWS = (FIXTURES / "FEAT001.ok.pipe").read_text("utf-8")
KEYED = (FIXTURES / "LEAK010.ok.pipe").read_text("utf-8")
TIMED = (FIXTURES / "LEAK011.ok.pipe").read_text("utf-8")


def codes(text: str) -> list[tuple[str, int]]:
    return [(d.code, d.span.line) for d in compile(text).diagnostics]


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def messages(text: str, code: str) -> list[str]:
    return [f"{d.message} | {d.help}" for d in compile(text).diagnostics if d.code == code]


# ------------------------------------------------------------------------- FEAT001

@pytest.mark.parametrize("window, fires", [
    ("1d", True),      # equal to the lag: `[t - 1d, t - 1d)` is empty
    ("23h", True),
    ("1d1s", False),   # one second of visible rows
    ("2d", False),
])
def test_a_window_no_longer_than_the_lag_is_always_empty(window: str, fires: bool) -> None:
    text = edited(WINDOWS, ("count() over 2d", f"count() over {window}"))
    expected = [("FEAT001", line_of(text, "txn_count_1d"))] if fires else []
    assert codes(text) == expected


def test_the_lag_is_the_views_own_source_not_the_base() -> None:
    """A view `from` a lagged source (weather published an hour late) is measured
    against that source's lag; the base's own lag does not matter to it."""
    weather = ('  source weather {\n    from csv "weather.csv"\n    snapshot 2026-06-01\n'
               "    entity id\n    time at\n    lag 1h\n"
               "    schema { id: string, at: timestamp, precip: float }\n  }\n\n"
               "  validate weather {\n    require id\n  }\n\n"
               "  features rain version 1 {\n    from weather\n    entity id\n    time at\n"
               "    point_in_time\n    feature precip_1h = sum(precip) over 1h\n"
               "    feature precip_2h = sum(precip) over 2h\n  }\n\n  train m {")
    text = edited(WINDOWS, ("  train m {", weather), ("lag 1d  #", "lag 1m  #"),
                  ("over 1d12h", "over 12h"), ("predicts future", "predicts future\n"
                                                "  examples from events"))
    assert codes(text) == [("FEAT001", line_of(text, "precip_1h"))]
    (message,) = messages(text, "FEAT001")
    assert "source `weather` has `lag 1h`" in message
    assert "always missing (NULL)" in message
    assert "use `over 2h`" in message


def test_a_count_is_said_to_be_zero_and_the_fix_keeps_the_span() -> None:
    text = edited(WINDOWS, ("count() over 2d", "count() over 1d"))
    (message,) = messages(text, "FEAT001")
    assert "always 0" in message
    assert "use `over 2d` to aggregate the last 1d of rows that are visible" in message


def test_as_of_columns_are_not_windows() -> None:
    text = edited(WINDOWS, ("    feature txn_count_1d", "    columns [amount]\n"
                                                       "    feature txn_count_1d"))
    assert codes(text) == []


def test_rows_without_a_time_are_p001_alone() -> None:
    """With no `time` no window can be placed (P001); the lag adds nothing to that."""
    text = edited((FIXTURES / "FEAT001.pipe").read_text("utf-8"),
                  ("    time at\n    lag 1d", "    lag 1d"),
                  ("    time at\n    point_in_time\n", "    point_in_time\n"))
    assert {code for code, _line in codes(text)} == {"P001"}


# ------------------------------------------------------------------------- LEAK010

ENTITY = "split by entity on id {"


@pytest.mark.parametrize("split", [
    "split by entity on id {\n    test 20%\n    seed 1\n  }",
    "split by group on id {\n    test 20%\n    seed 1\n  }",
])
def test_predicting_the_future_with_a_split_by_key_warns(split: str) -> None:
    text = edited(KEYED, ("predicts new_entities", "predicts future"),
                  ("split by entity on id {\n    test 20%\n    seed 1\n  }", split))
    found = compile(text).diagnostics
    assert [(d.code, d.severity.value, d.span.line) for d in found] == \
        [("LEAK010", "warning", line_of(text, "split by"))]
    assert "split by time on at {" in found[0].help
    assert "`predicts new_entities`" in found[0].help


def test_a_market_split_is_not_told_to_predict_new_entities() -> None:
    """LEAK005 refuses `predicts new_entities` with a market split: the hint must not
    trade this warning for that error."""
    text = edited(KEYED, ("predicts new_entities", "predicts future"),
                  ("schema { id: string,", "schema { id: string, country: category,"),
                  ("split by entity on id {\n    test 20%\n    seed 1\n  }",
                   "split by market on country {\n    holdout [fr, de]\n  }"))
    # (GATE007 asks the market split's evaluate stage for a slice gate per market)
    assert [c for c in codes(text) if c[0].startswith("LEAK")] == \
        [("LEAK010", line_of(text, "split by market"))]
    (message,) = messages(text, "LEAK010")
    assert "new_entities" not in message
    assert "`predicts iid`" in message


@pytest.mark.parametrize("predicts", ["predicts new_entities", "predicts iid", ""])
def test_a_split_by_key_is_fine_when_the_pipeline_does_not_predict_the_future(
        predicts: str) -> None:
    text = edited(KEYED, ("predicts new_entities", predicts))
    assert "LEAK010" not in {code for code, _line in codes(text)}


# ------------------------------------------------------------------------- LEAK011

SHORT_GAP = (("gap 30d", "gap 1d"), ("test from 2026-03-31", "test from 2026-03-02"))


def test_a_time_split_on_another_column_is_leak011_not_leak002() -> None:
    """The dates bound `opened_at`; labels mature from `at`. LEAK002 said "the last
    training labels are seen on 2026-03-31", which is false for such a split (a row
    opened in February may be decided in May), and was silent with a 30d gap."""
    for pairs in ((), SHORT_GAP):
        text = edited(TIMED, ("split by time on at {", "split by time on opened_at {"),
                      *pairs)
        assert codes(text) == [("LEAK011", line_of(text, "split by time on opened_at"))]
    (message,) = messages(text, "LEAK011")
    assert "timed by `at`" in message
    assert "write `split by time on at`" in message


def test_leak007_leaves_a_split_on_another_column_to_leak011() -> None:
    """With the test period past the last matured label, LEAK007 said no test example
    had a label, measured on `at`, which the split's dates do not bound."""
    late = ("test from 2026-03-31", "test from 2026-05-20")
    assert ("LEAK007", line_of(TIMED, "test from")) in codes(edited(TIMED, late))
    text = edited(TIMED, ("split by time on at {", "split by time on opened_at {"), late)
    assert codes(text) == [("LEAK011", line_of(text, "split by time on opened_at"))]


def test_leak002_still_reports_an_after_event_label_on_such_a_split() -> None:
    text = edited(TIMED, ("split by time on at {", "split by time on opened_at {"),
                  ("late: bool", "late: bool after_event"), ("    known_after 30d\n", ""))
    assert sorted(codes(text)) == sorted([("LEAK011", line_of(text, "on opened_at")),
                                          ("LEAK002", line_of(text, "label late"))])


@pytest.mark.parametrize("split", ["split by time on at {", "split by time {"])
def test_a_split_on_the_event_time_is_not_leak011(split: str) -> None:
    assert codes(edited(TIMED, ("split by time on at {", split))) == []


def test_an_unknown_split_column_is_t002_alone() -> None:
    text = edited(TIMED, ("split by time on at {", "split by time on opend_at {"))
    assert {code for code, _line in codes(text)} == {"T002"}
