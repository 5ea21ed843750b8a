"""Cron expressions: what every target accepts (P001 otherwise), and the smallest
interval between firings that RETRAIN004 compares with the sources' freshness."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pipec import compile, cron

PROGRAM = """pipeline p {{
  retrain scheduled "{cron}"
  owner ghost
}}
"""


@pytest.mark.parametrize("expression, seconds", [
    ("0 3 * * *", 86_400), ("*/15 9-17 * * 1-5", 900), ("0 0,12 * * *", 43_200),
    ("@hourly", 3_600), ("@weekly", 7 * 86_400), ("30 2 * * MON-FRI", 86_400),
    # Friday 02:30 to Monday 02:30
    ("30 2 1 * *", 28 * 86_400), ("0 0 29 2 *", 4 * 365 * 86_400 + 86_400),
    # both day fields restricted: the 1st of the month or any Sunday
    ("0 0 1 * 0", 86_400), ("5/20 * * * *", 1_200),
])
def test_smallest_interval(expression: str, seconds: int) -> None:
    assert cron.smallest_interval(cron.parse(expression)) == seconds


@pytest.mark.parametrize("expression, words", [
    ("61 3 * * *", "outside the minute field"), ("0 3 * *", "5 fields"),
    ("0 3 * * 7", "Sunday is 0"), ("0 0 L * *", "`L`"), ("0 */0 * * *", "positive"),
    ("5-1 * * * *", "backwards"), ("0 ? * * *", "only allowed in the day fields"),
    ("0 0 * * * 2026", "5 fields"), ("@every 1h", "5 fields"), ("@Daily", "5 fields"),
    ("\u0661 3 * * *", "not a value of the minute field"), ("0 0 * JANUARY *", "month"),
    # a stepped star beside a restricted day field: Airflow and classic cron differ
    ("0 3 */2 * 1", "write `1-31/2`"), ("0 3 1 * */2", "write `0-6/2`"),
    ("0 3 */1 * MON", "read two ways"),
])
def test_refused_expressions_say_why(expression: str, words: str) -> None:
    with pytest.raises(cron.CronError, match=words):
        cron.parse(expression)


def test_a_bad_schedule_is_p001_at_the_string_and_the_rest_is_still_checked() -> None:
    program = compile(PROGRAM.format(cron="61 3 * * *"))
    (p001,) = [d for d in program.diagnostics if d.code == "P001"]
    assert "61 is outside the minute field" in p001.message
    assert (p001.span.line, p001.span.col) == (2, 21)
    assert any(d.code == "OWN002" for d in program.diagnostics)  # `owner ghost`


@pytest.mark.parametrize(("written", "meant"), [
    ("daily", '"@daily"'), ("@Hourly", '"@hourly"'), (" weekly ", '"@weekly"')])
def test_a_preset_without_its_at_sign_is_named(written: str, meant: str) -> None:
    """`daily` is no cron expression (targets read only `@daily`): the help says which
    preset was meant, where it used to ask for five fields."""
    program = compile(PROGRAM.format(cron=written))
    [found] = [d for d in program.diagnostics if d.code == "P001"]
    assert found.help is not None and found.help.startswith(f"did you mean {meant}?")


def test_a_schedule_that_never_fires_is_p001() -> None:
    program = compile(PROGRAM.format(cron="0 0 30 2 *"))
    assert any(d.code == "P001" and "never fires" in d.message for d in program.diagnostics)


def _firings(schedule: cron.Schedule, days: int) -> list[dt.datetime]:
    """Every firing, day by day and time by time (no gap arithmetic)."""
    start = dt.datetime(2026, 1, 1)
    times = sorted(dt.timedelta(hours=h, minutes=m)
                   for h in schedule.hours for m in schedule.minutes)
    return [start + dt.timedelta(days=d) + t for d in range(days)
            if schedule.fires_on((start + dt.timedelta(days=d)).date()) for t in times]


def _field(low: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just("*"), st.integers(low, 5).map(str),
        st.tuples(st.integers(low, 3), st.integers(4, 6)).map(lambda t: f"{t[0]}-{t[1]}"),
        st.integers(1, 4).map(lambda n: f"*/{n}"))


@settings(max_examples=60, deadline=None)
@given(st.tuples(st.sampled_from(["0", "*/20", "5,45"]), st.sampled_from(["3", "*/8", "1-2"]),
                 _field(1), st.just("*"), _field(0)))
def test_smallest_interval_matches_brute_force(fields: tuple[str, ...]) -> None:
    """Against the closest pair of a year's firings listed one by one."""
    expression = " ".join(fields)
    try:
        schedule = cron.parse(expression)
    except cron.CronError:  # `*/n` beside a restricted day field: refused, read two ways
        assume(False)
    times = _firings(schedule, 400)
    if len(times) < 2:
        return
    brute = min((b - a).total_seconds() for a, b in zip(times, times[1:], strict=False))
    assert cron.smallest_interval(schedule) == brute, expression
