"""LEAK012: a source timed by a `date` with less than a day of `lag`, read point-in-time
for a base timed by a `timestamp`. The runtime reads a date as 00:00 of its day, so an
example at 10:00 on D sees the row dated D, which may record that day's later events.
A windowed label reads dates the same way: the last training examples count the whole
day that holds `train before` + window. The first tests show both on the runtime itself;
the others check the rule and that its hint, followed, leaves the file clean."""

from __future__ import annotations

import duckdb
import pytest
from pipec.check import compile
from pipec.stdlib.runtime.features import ViewSpec, build_features, feature_column
from pipec.stdlib.runtime.labels import build_labels
from support.programs import edited

from .conftest import FIXTURES

DATED = (FIXTURES / "LEAK012.pipe").read_text("utf-8")
CLEAN = (FIXTURES / "LEAK012.ok.pipe").read_text("utf-8")
DAY = 86_400
# The fixture's label fix: `lag 1d` on `disputes`, and the 31d gap it then needs.
FIX_DISPUTES = (("    time day  # LEAK012\n    schema { customer: string, day: date }",
                 "    time day\n    lag 1d\n    schema { customer: string, day: date }"),
                ("    gap 30d", "    gap 31d"))


def found(text: str) -> list[tuple[str, int]]:
    return [(d.code, d.span.line) for d in compile(text).diagnostics]


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def leak012(text: str) -> list[str]:
    return [f"{d.message} | {d.help}" for d in compile(text).diagnostics
            if d.code == "LEAK012"]


def _as_of_balance(lag_s: int) -> list[float | None]:
    """The `columns [balance]` value the runtime gives orders at 10:00 on 2026-03-10 and
    at 00:00:01 on 2026-03-11, from daily balances dated 2026-03-09 and 2026-03-10."""
    con = duckdb.connect()
    con.execute("CREATE TABLE base AS SELECT * FROM (VALUES "
                "(0, 'c1', TIMESTAMP '2026-03-10 10:00:00'), "
                "(1, 'c1', TIMESTAMP '2026-03-11 00:00:01')) t(__row_id, customer, placed_at)")
    con.execute("CREATE TABLE bal AS SELECT * FROM (VALUES "
                "('c1', DATE '2026-03-09', 100.0), ('c1', DATE '2026-03-10', 999.0)) "
                "t(customer, day, balance)")
    stage = {"name": "bal", "entity": "customer", "time": "day", "lag_s": lag_s,
             "aggregates": [], "columns": ["balance"]}
    build_features(con, ViewSpec.from_stage(stage, {"time": "placed_at"}), "base", "bal", "out")
    column = feature_column("bal", "balance")
    return [row[0] for row in con.execute(f"SELECT {column} FROM out ORDER BY __row_id").fetchall()]


def test_the_runtime_reads_a_row_dated_d_for_an_example_during_d() -> None:
    """Without a lag, the order at 10:00 on 2026-03-10 gets the balance of 2026-03-10
    (999), a value closed at the end of that day; with `lag 1d` it gets the day before's,
    and the row dated 2026-03-10 from the next day on. If the runtime ever reads a date
    as the end of its day, this fails, and LEAK012 has nothing left to report."""
    assert _as_of_balance(0) == [999.0, 999.0]
    assert _as_of_balance(DAY) == [100.0, 999.0]


def _disputed(placed_at: str, disputed_on: str) -> bool | None:
    """The runtime's `window 30d` label, no lag, for one order and one dated dispute."""
    con = duckdb.connect()
    con.execute("CREATE TABLE base AS SELECT 0 AS __row_id, 'c1' AS customer, "
                f"TIMESTAMP '{placed_at}' AS placed_at")
    con.execute(f"CREATE TABLE ev AS SELECT 'c1' AS customer, DATE '{disputed_on}' AS day")
    label = {"mode": "window", "window_s": 30 * DAY, "maturity_s": 30 * DAY}
    build_labels(con, label, {"entity": "customer", "time": "placed_at"}, "base",
                 ("ev", {"entity": "customer", "time": "day"}), 10**18, "out")
    return con.execute("SELECT label FROM out").fetchone()[0]


def test_the_runtime_counts_the_whole_day_that_holds_t_plus_the_window() -> None:
    """An order at 11:00 on 2026-03-01, the last hour before a noon `train before`, is
    labelled by a dispute dated 2026-03-31, which may have been opened up to 13h after
    the window, and 12h after a test period starting at noon + 30d. With a 00:00 `train
    before` the last order (23:59:59 the day before) counts the rows up to 2026-03-30,
    whose day ends exactly at the 30d test start: no leak there."""
    assert _disputed("2026-03-01 11:00:00", "2026-03-31") is True
    assert _disputed("2026-03-01 11:00:00", "2026-04-01") is False
    assert _disputed("2026-02-28 23:59:59", "2026-03-30") is True
    assert _disputed("2026-02-28 23:59:59", "2026-03-31") is False


def test_each_dated_source_is_reported_once_at_its_time_line() -> None:
    """`balances` feeds two views: one warning, naming both; `scores` has `lag 1d`."""
    assert found(DATED) == [("LEAK012", line_of(DATED, "time day  # LEAK012")),
                            ("LEAK012", line_of(DATED, "time set_on  # LEAK012")),
                            ("LEAK012", _disputes_time_line(DATED))]
    balances, limits, _disputes = leak012(DATED)
    assert "feature views `balance`, `balance_trend`" in balances
    assert "has no `lag`" in balances and "up to 1d of the future" in balances
    assert balances.endswith("| add `lag 1d` to source `balances`, so a row dated D is "
                             "seen only once D is over")
    assert "has `lag 6h`" in limits and "up to 18h of the future" in limits
    assert "raise `lag 6h` to `lag 1d` on source `limits`" in limits


@pytest.mark.parametrize("lag, fires", [("23h59m59s", True), ("24h", False), ("2d", False)])
def test_a_day_of_lag_is_enough(lag: str, fires: bool) -> None:
    text = edited(CLEAN, ("    time set_on\n    lag 1d", f"    time set_on\n    lag {lag}"))
    assert found(text) == ([("LEAK012", line_of(text, "time set_on"))] if fires else [])


def test_following_the_hint_is_clean() -> None:
    text = edited(DATED, *FIX_DISPUTES,
                  ("    time day  # LEAK012", "    time day\n    lag 1d"),
                  ("    time set_on  # LEAK012\n    lag 6h", "    time set_on\n    lag 1d"))
    assert found(text) == []


def test_a_base_timed_by_a_date_is_not_reported() -> None:
    """An example dated D sees rows dated D only from D + 1 on (visibility is strict):
    no later hour of its own day."""
    text = edited(DATED, ("placed_at: timestamp", "placed_at: date"))
    assert [code for code, _ in found(text)] == []


def test_a_view_without_point_in_time_is_leak003_alone() -> None:
    text = edited(DATED, ("    from limits\n    entity customer\n    point_in_time\n",
                          "    from limits\n    entity customer\n"))
    assert [code for code, _ in found(text)] == ["LEAK012", "LEAK012", "LEAK003"]


def test_a_views_own_date_column_is_reported_at_the_view() -> None:
    """A view placing a timestamp-timed source's rows by a date column of its own: the
    warning points at the view's `time` line, and the source's `lag` is still the fix."""
    text = edited(CLEAN, ("placed_at: timestamp, amount: float",
                          "placed_at: timestamp, order_day: date, amount: float"),
                  ("    from orders\n    entity customer\n",
                   "    from orders\n    entity customer\n    time order_day\n"))
    assert found(text) == [("LEAK012", line_of(text, "time order_day"))]
    (message,) = leak012(text)
    assert "source `orders` is timed by `order_day`" in message
    assert "add `lag 1d` to source `orders`" in message
    fixed = edited(text, ("    time placed_at\n", "    time placed_at\n    lag 1d\n"))
    assert found(fixed) == []


def test_the_hint_widens_a_window_the_lag_would_empty() -> None:
    """`lag 1d` makes `over 1d` always empty (FEAT001): the hint says to widen it, and
    following all of it is clean."""
    text = edited(DATED, ("max(balance) over 7d", "max(balance) over 1d"))
    (message,) = leak012(text)[:1]
    assert "widen `balance.balance_max_7d` to `over 2d`" in message
    half = edited(text, *FIX_DISPUTES,
                  ("    time day  # LEAK012", "    time day\n    lag 1d"),
                  ("    time set_on  # LEAK012\n    lag 6h", "    time set_on\n    lag 1d"))
    assert [code for code, _ in found(half)] == ["FEAT001"]
    assert found(edited(half, ("over 1d", "over 2d"))) == []


HISTORY = """  features dispute_history version 1 {
    from disputes
    entity customer
    point_in_time
    feature disputes_90d = count() over 90d
  }

  train m {"""


def _read_by_a_view(gap: str, window: str = "30d") -> str:
    """The clean fixture with `disputes` back to no lag, read by a feature view too."""
    return edited(CLEAN, ("    time day\n    lag 1d\n    schema { customer: string, day: date }",
                          "    time day\n    schema { customer: string, day: date }"),
                  ("  train m {", HISTORY), ("    gap 31d", f"    gap {gap}"),
                  ("    window 30d", f"    window {window}"))


def _with_a_day_of_lag(text: str) -> str:
    return edited(text, ("    time day\n    schema { customer: string, day: date }",
                         "    time day\n    lag 1d\n    schema { customer: string, day: date }"))


def test_the_hint_names_the_longer_label_maturity() -> None:
    """A feature view reads the dated label source, whose windowed label matures a day
    later with `lag 1d` (window + lag): the split's gap must then cover it (LEAK002). The
    label's own day does not run into the test period with a 31d gap."""
    text = _read_by_a_view("31d")
    assert found(text) == [("LEAK012", _disputes_time_line(text))]
    (message,) = leak012(text)
    assert "feature view `dispute_history`" in message
    assert message.endswith("label `disputed` reads it too: its maturity grows to 31d, "
                            "which the split's `gap` must cover")
    assert found(_with_a_day_of_lag(text)) == []  # the 31d gap covers the 31d maturity
    # A 31d window: the gap must now cover 32d; the hint says so, and LEAK002 agrees.
    longer = _read_by_a_view("31d", window="31d")
    assert leak012(longer)[0].endswith("its maturity grows to 32d, which the split's `gap` "
                                       "must cover; set `gap 32d` in the split")
    assert [code for code, _ in found(_with_a_day_of_lag(longer))] == ["LEAK002"]
    assert found(edited(_with_a_day_of_lag(longer), ("gap 31d", "gap 32d"))) == []


def test_a_source_both_sides_read_is_reported_once() -> None:
    """With a 30d gap the label's last day also runs into the test period; the view's
    warning already asks for `lag 1d` and the gap that needs, so it is the only one."""
    text = _read_by_a_view("30d")
    assert found(text) == [("LEAK012", _disputes_time_line(text))]
    (message,) = leak012(text)
    assert "feature view `dispute_history`" in message
    assert message.endswith("set `gap 31d` in the split")
    assert found(edited(_with_a_day_of_lag(text), ("gap 30d", "gap 31d"))) == []


def test_the_label_warning_names_the_day_past_the_test_start() -> None:
    (message,) = [m for m in leak012(DATED) if "label `disputed`" in m]
    assert message.startswith(
        "source `disputes` is timed by `day`, a `date`, and has no `lag`: label `disputed` "
        "places a row dated D at 00:00 of D, so the last training examples (before "
        "2026-03-01T12:00:00Z) count the rows dated up to 2026-03-31, which may record "
        "events until 2026-04-01, 12h after the test start 2026-03-31T12:00:00Z")
    assert message.endswith("| add `lag 1d` to source `disputes`, so a row dated D counts "
                            "as known once D is over, and the label maturity (window + lag) "
                            "grows to 31d; set `gap 31d` in the split")


@pytest.mark.parametrize("split", [
    # A 00:00 `train before` and a whole-day window: the last day ends at the test start.
    "train before 2026-03-01\n    gap 30d",
    # A `test from` date is a 00:00: at or after the end of the last counted day.
    "train before 2026-03-01T12:00:00Z\n    test from 2026-04-01",
    # 12h of lag: LEAK002's 30d12h gap reaches the 00:00.
    "train before 2026-03-01T12:00:00Z\n    gap 30d12h",
])
def test_a_label_day_ending_by_the_test_start_is_not_reported(split: str) -> None:
    text = edited(CLEAN, ("    time day\n    lag 1d\n    schema { customer: string, day: date }",
                          "    time day\n    lag 12h\n    schema { customer: string, day: date }"
                          if "30d12h" in split else
                          "    time day\n    schema { customer: string, day: date }"),
                  ("train before 2026-03-01T12:00:00Z\n    gap 31d", split))
    assert found(text) == []


@pytest.mark.parametrize("split, past", [
    # A sub-day window from a 00:00 `train before`: the day of 2026-03-02 runs 12h on.
    ("train before 2026-03-01\n    gap 36h", "12h after the test start 2026-03-02T12:00:00Z"),
    # Relative to the snapshot, the time of day is still known: 2026-06-01 is a 00:00.
    ("train before snapshot - 100d12h\n    gap 30d",
     "12h after the test start 2026-03-22T12:00:00Z"),
])
def test_a_label_day_past_the_test_start_is_reported(split: str, past: str) -> None:
    window = "36h" if "36h" in split else "30d"
    text = edited(CLEAN, ("    time day\n    lag 1d\n    schema { customer: string, day: date }",
                          "    time day\n    schema { customer: string, day: date }"),
                  ("train before 2026-03-01T12:00:00Z\n    gap 31d", split),
                  ("    window 30d", f"    window {window}"))
    assert found(text) == [("LEAK012", _disputes_time_line(text))]
    (message,) = leak012(text)
    assert past in message


def test_a_split_off_the_event_time_is_leak011s() -> None:
    text = edited(DATED, ("amount: float }", "amount: float, booked_at: timestamp }"),
                  ("split by time on placed_at", "split by time on booked_at"))
    assert _disputes_time_line(text) not in [line for code, line in found(text)
                                             if code == "LEAK012"]
    assert "LEAK011" in {code for code, _ in found(text)}


def _disputes_time_line(text: str) -> int:
    start = line_of(text, "source disputes")
    return next(i for i, line in enumerate(text.splitlines(), 1)
                if i > start and line.split("#")[0].strip() == "time day")


def test_a_reason_suppresses_it() -> None:
    text = edited(DATED, ("    time day  # LEAK012",
                          "    # pipec: ignore[LEAK012] dated by the day they are published\n"
                          "    time day"))
    assert found(text) == [("LEAK012", line_of(text, "time set_on  # LEAK012")),
                           ("LEAK012", _disputes_time_line(text))]
