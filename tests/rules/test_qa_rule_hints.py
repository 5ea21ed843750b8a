"""Rule defects found by a QA audit of the leakage and ownership rules, on variations of
the fraud example (the reference program) and of a small flights pipeline: a diagnostic
that echoes another one, a hint whose fix another rule rejects or that breaks other
features, an allowed input reported. Where a hint is at issue, the case follows it and
checks again."""

from __future__ import annotations

from pathlib import Path

from pipec.check import compile
from support.programs import edited

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud"
# The example with its teams inline, so that each case is one self-contained text.
FRAUD = (EXAMPLE / "fraud.pipe").read_text().replace(
    'import "teams.pipe"', (EXAMPLE / "teams.pipe").read_text(), 1)


def found(text: str) -> list[tuple[str, int, str, str]]:
    return [(d.code, d.span.line, d.message, d.help or "") for d in compile(text).diagnostics]


def codes(text: str) -> list[str]:
    return [code for code, *_ in found(text)]


def test_the_example_is_clean() -> None:
    assert found(FRAUD) == []


def test_a_misspelt_owner_of_a_high_risk_gate_is_own002_alone() -> None:
    """The misspelt team's roles are unknown: OWN003 saying the owners lack the ml role
    (and to add an ML team) would send the user after a team they already named."""
    text = edited(FRAUD, ("owners ml_fraud, fraud_product, risk",
                          "owners ml_fruad, fraud_product, risk"))
    assert codes(text) == ["OWN002"]
    fixed = edited(text, ("ml_fruad", "ml_fraud"))
    assert found(fixed) == []


def test_declared_owners_lacking_a_role_are_still_own003() -> None:
    text = edited(FRAUD, ("owners ml_fraud, fraud_product, risk",
                          "owners ml_fraud, fraud_product, ml_platform"))
    assert [(code, message) for code, _line, message, _help in found(text)
            if code == "OWN003"] == [
        ("OWN003", "`evaluate.fraud_gbm` gates a `risk high` model but its owners "
         "(`ml_fraud`, `fraud_product`, `ml_platform`) lack the role risk")]


# Fixed snapshots a month apart: the chargebacks (whose snapshot censors the labels) end
# before 2026-04-02, so only examples before 2026-03-01 have a matured 32-day label.
FIXED_DATES = (("snapshot latest", "snapshot 2026-06-01"),
               ("snapshot latest", "snapshot 2026-04-01"),
               ('retrain scheduled "0 3 * * *"', "retrain manual"))


def test_leak002_does_not_send_test_from_where_no_label_has_matured() -> None:
    """Moving `test from` to when the training labels are all seen (2026-03-25) would
    leave the test period with no matured label (LEAK007): only `train before` can move,
    and moving it as told checks clean."""
    text = edited(FRAUD, *FIXED_DATES, ("test from snapshot - 68d", "test from 2026-02-28"))
    [(code, line, message, _help)] = found(text)
    assert code == "LEAK002"
    assert line == text.splitlines().index("    train before snapshot - 100d") + 1
    assert message.endswith("a later test start cannot fix it, as only examples before "
                            "2026-03-01 have a matured label: move `train before` to "
                            "2026-01-27 or earlier")
    assert found(edited(text, ("train before snapshot - 100d", "train before 2026-01-27"))) \
        == []
    # The advice that was given before: LEAK007 then rejects it.
    assert codes(edited(text, ("test from 2026-02-28", "test from 2026-03-25"))) == ["LEAK007"]


def test_leak002_and_leak007_agree_when_both_ends_must_move() -> None:
    """A 72-day label: training's labels reach past the test start, and the test start is
    past the last matured label. Both messages say to move both ends, and doing so as
    told checks clean."""
    text = edited(FRAUD, ("window 30d", "window 70d"))
    overlap, leak007 = [(message, help_) for code, _line, message, help_ in found(text)
                        if code == "LEAK007" or "gap is" not in message]
    assert overlap[0].endswith("move `train before` before snapshot - 143d (and `test from` "
                               "before snapshot - 71d)")
    assert leak007[1] == ("move `test from` before snapshot - 71d, and `train before` before "
                          "snapshot - 143d (training ends one label maturity before the test "
                          "starts)")
    fixed = edited(text, ("train before snapshot - 100d", "train before snapshot - 144d"),
                   ("gap 32d", "gap 72d"), ("test from snapshot - 68d", "test from snapshot - 72d"))
    assert found(fixed) == []


def test_leak002_gap_hint_without_test_from_keeps_the_test_period_labelled() -> None:
    """The gap places the test start: `gap 32d` alone would start it at snapshot - 18d,
    where no 32-day label has matured (LEAK007). The hint moves training too, and
    following it checks clean."""
    text = edited(FRAUD, ("    train before snapshot - 100d\n    gap 32d\n"
                          "    test from snapshot - 68d\n",
                          "    train before snapshot - 50d\n    gap 10d\n"))
    [(code, _line, message, _help)] = found(text)
    assert code == "LEAK002"
    assert message.endswith("set `gap 32d` or more, and move `train before` before snapshot - "
                            "63d: a test period starting at or after snapshot - 31d has no "
                            "matured label")
    assert codes(edited(text, ("gap 10d", "gap 32d"))) == ["LEAK007"]
    assert found(edited(text, ("gap 10d", "gap 32d"), ("snapshot - 50d", "snapshot - 64d"))) \
        == []
    # `train before` alone: the same gap, of none.
    [(_code, _line, alone, _help)] = found(edited(text, ("    gap 10d\n", "")))
    assert alone.endswith("set `gap 32d` or more, and move `train before` before snapshot - "
                          "63d: a test period starting at or after snapshot - 31d has no "
                          "matured label")


def test_leak002_still_moves_test_from_when_labels_remain() -> None:
    text = edited(FRAUD, ("    gap 32d\n", ""), ("snapshot - 68d", "snapshot - 69d"))
    [(code, _line, message, help_)] = found(text)
    assert code == "LEAK002"
    assert message.endswith("move `test from` to snapshot - 68d or later")
    assert help_ == "or move `train before` to snapshot - 101d or earlier"


# A flights-like source: the actual departure delay is known only after departure.
FLIGHTS = """\
team ml { contact "#ml"; role ml }
pipeline delays {
  owner ml; on_failure block; predicts future
  source flights { from csv "flights.csv"; snapshot 2013-12-31; entity tailnum; time dep_at
    lag 6h
    schema { tailnum: string, dep_at: timestamp, distance: int, dep_delay: int after_event,
             late: bool after_event } }
  validate flights { require tailnum, dep_at }
  label late { column late; known_after 1d }
  features previous_flight version 1 { from flights; entity tailnum; point_in_time
    columns [dep_delay] }
  split by time on dep_at { train before 2013-10-01; gap 2d; test from 2013-10-03 }
  train m { model "sklearn.ensemble.HistGradientBoostingClassifier"; seed 1
    features [distance, previous_flight.dep_delay] }
  evaluate m { primary roc_auc >= 0.6; calibration ece <= 0.05 }
}
"""


def test_a_point_in_time_copy_of_an_earlier_events_after_event_value_is_allowed() -> None:
    """The view copies the latest row visible before each example (`dep_at + 6h` before
    it): the aircraft's previous flight, whose delay was known by then, as a
    point-in-time aggregate of earlier delays is allowed to read it."""
    assert found(FLIGHTS) == []


def test_a_copy_of_an_after_event_value_that_is_not_an_earlier_events_is_leak008() -> None:
    """Without `point_in_time`, or as of another column than the events' own time, the
    row copied may be the example's own: reported, with the fix that makes it an earlier
    event's (the clean program above)."""
    without_pit = edited(FLIGHTS, ("entity tailnum; point_in_time\n", "entity tailnum\n"))
    assert [(code, help_) for code, _line, _message, help_ in found(without_pit)] == [
        ("LEAK003", "add `point_in_time` to the view"),
        ("LEAK008", "add `point_in_time` so the view copies an earlier event's value, or "
         "drop `dep_delay` from `columns`")]
    other_time = edited(FLIGHTS,
                        ("dep_at: timestamp,", "dep_at: timestamp, booked_at: timestamp,"),
                        ("point_in_time", "time booked_at; point_in_time"))
    assert [(code, help_) for code, _line, _message, help_ in found(other_time)] == [
        ("LEAK008", "remove `time booked_at` so the view copies the latest earlier event as "
         "of `dep_at`, or drop `dep_delay` from `columns`")]
    assert found(edited(other_time, ("time booked_at; ", ""))) == []


def test_a_copy_from_untimed_rows_is_not_told_to_aggregate_earlier_events() -> None:
    """An untimed source has no earlier events: a point-in-time aggregate of them cannot
    be written there, so the hint says only to drop the column."""
    text = edited(FLIGHTS, ("predicts future", "predicts future; examples from flights"),
                  ("  validate flights", """\
  source planes { from csv "planes.csv"; snapshot 2013-12-31; entity tailnum
    schema { tailnum: string, seats: int, last_check: category after_event } }
  validate planes { require tailnum }
  features planes version 1 { from planes; entity tailnum; columns [seats, last_check] }
  validate flights"""))
    assert [(code, help_) for code, _line, _message, help_ in found(text)] == [
        ("LEAK008", "drop `last_check` from `columns`")]


def test_leak004_does_not_offer_a_lag_that_would_empty_the_other_features() -> None:
    """A fraud rate over earlier transactions reads a label known 30 days after each
    one. `lag 30d` on `transactions` would hide every row of the 7- and 30-day windows
    of the same view, so the hint does not offer it; with no such window it still does."""
    text = edited(
        FRAUD,
        ("      merchant_id: string\n", "      merchant_id: string\n"
         "      fraud_confirmed: bool after_event\n"),
        ("    from chargebacks\n", "    column fraud_confirmed\n"),
        ("    window 30d\n", "    known_after 30d\n"),
        ("  retrain scheduled", "  examples from transactions\n  retrain scheduled"),
        ("feature amount_mean_30d = mean(amount) over 30d",
         "feature amount_mean_30d = mean(amount) over 30d\n"
         "    feature fraud_rate_90d = mean(fraud_confirmed) over 90d"))
    [(code, _line, _message, help_)] = found(text)
    assert code == "LEAK004"
    assert help_ == ("drop the feature: `lag 30d` on `transactions` would leave "
                     "`account_risk.txn_count_7d`, `account_risk.amount_mean_30d` with no row "
                     "to aggregate (a window no longer than the lag sees none)")
    longer_windows = edited(text, ("count() over 7d", "count() over 60d"),
                            ("mean(amount) over 30d", "mean(amount) over 60d"))
    assert [h for _c, _l, _m, h in found(longer_windows)] == [
        "set `lag 30d` on the source, or drop the feature"]
    assert found(edited(longer_windows, ("    time decision_at\n    freshness 1d",
                                         "    time decision_at\n    lag 30d\n    freshness 1d"))) \
        == []


def test_t002_on_an_inferred_base_names_the_source_that_has_the_column() -> None:
    """The label moved from chargeback events to a column of `transactions`: the
    chargebacks now feed no label or view, so they become the inferred base, and every
    base column the program names is missing there. The help says which source has the
    column and how to make it the base; doing so leaves only the finding that matters."""
    text = edited(
        FRAUD,
        ("      merchant_id: string\n", "      merchant_id: string\n"
         "      fraud_confirmed: bool after_event\n"),
        ("    from chargebacks\n", "    column fraud_confirmed\n"),
        ("    window 30d\n", "    known_after 30d\n"))
    reported = found(text)
    assert [code for code, *_ in reported] == ["T002", "T002", "T002"]
    assert all(help_.endswith(
        "is a column of `transactions`: if its rows are the examples, add `examples from "
        "transactions` to the pipeline (the base `chargebacks` was inferred: it feeds no label "
        "or feature view)") for _code, _line, _message, help_ in reported)
    assert found(edited(text, ("  retrain scheduled",
                               "  examples from transactions\n  retrain scheduled"))) == []


def test_t002_with_an_explicit_base_lists_its_columns_only() -> None:
    text = edited(FRAUD, ("  retrain scheduled", "  examples from transactions\n  retrain "
                          "scheduled"), ("slice country", "slice disputed_amount"))
    assert [(code, help_) for code, _line, _message, help_ in found(text) if code == "T002"] \
        == [("T002", "the columns there are: account_id, amount, country, decision_at, "
             "merchant_id")]
