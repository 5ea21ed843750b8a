"""How the train and evaluate stages hand feature columns to the model (`modeling.frame`):
times and dates as seconds since the epoch whatever arrow unit they arrive in, booleans
as numbers whatever their missing values, so a feature's kind never depends on the unit
or on one null in a test set."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from pipec.stdlib.runtime.evaluation import feature_compatibility
from pipec.stdlib.runtime.modeling import frame

UTC = dt.UTC
# 2026-01-01 00:00:01.5 UTC
INSTANT = dt.datetime(2026, 1, 1, 0, 0, 1, 500_000, tzinfo=UTC)
MIDNIGHT_S = 1_767_225_600


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("tz", [None, "UTC"])
def test_a_time_feature_is_whole_seconds_since_the_epoch_in_every_unit(
        unit: str, tz: str | None) -> None:
    """The runtime's tables hold microseconds: pandas keeps that unit, and the old
    `// 10**9` (right only for nanoseconds) made a time feature thousands of seconds."""
    value = INSTANT if tz else INSTANT.replace(tzinfo=None)
    table = pa.table({"at": pa.array([value, None], pa.timestamp(unit, tz=tz))})
    at = frame(table, ["at"])["at"]
    assert at[0] == MIDNIGHT_S + 1  # 1.5 s floors to 1 (arrow truncates it in unit "s")
    assert np.isnan(at[1])


def test_a_time_before_1970_floors_to_the_earlier_second() -> None:
    table = pa.table({"at": pa.array([-1_500_000], pa.timestamp("us"))})  # -1.5 s
    assert frame(table, ["at"])["at"][0] == -2.0


def test_a_nanosecond_time_past_2_to_the_53_keeps_every_second() -> None:
    """A float64 holds nanoseconds exactly only to 2**53 (about 104 days past 1970)."""
    nanos = 2**62 + 999_999_999
    table = pa.table({"at": pa.array([nanos], pa.timestamp("ns"))})
    assert frame(table, ["at"])["at"][0] == float(nanos // 10**9)


@pytest.mark.parametrize("kind", [pa.date32(), pa.date64()])
def test_a_date_feature_is_its_midnight_utc_in_seconds_not_a_category(
        kind: pa.DataType) -> None:
    """As a category, every date of a time split's test period was one the model never
    saw; now a date is a number on the same scale as a timestamp feature."""
    table = pa.table({
        "day": pa.array([dt.date(2026, 1, 1), None, dt.date(1969, 12, 31)], kind),
        "at": pa.array([dt.datetime(2026, 1, 1), None, None], pa.timestamp("us"))})
    data = frame(table, ["day", "at"])
    assert str(data["day"].dtype) == "float64"
    assert data["day"][0] == data["at"][0] == MIDNIGHT_S
    assert np.isnan(data["day"][1]) and data["day"][2] == -86_400


def test_a_boolean_feature_stays_numeric_when_a_value_is_missing() -> None:
    """pandas makes a boolean column with a null an object column, which became a
    category: one null in the test set failed `features compatible` ("trained as
    numeric, test set has categorical")."""
    train = frame(pa.table({"flag": [True, False, True]}), ["flag"])
    test = frame(pa.table({"flag": [True, None, False]}), ["flag"])
    assert test["flag"].tolist()[0::2] == [1.0, 0.0] and np.isnan(test["flag"][1])
    spec = {"feature_kinds": {"flag": "numeric"}}
    assert feature_compatibility(spec, train, None)["compatible"]
    assert feature_compatibility(spec, test, None)["compatible"]


def test_columns_keep_the_order_the_train_stage_lists() -> None:
    """Times are converted apart from the rest; the model still sees the listed order."""
    table = pa.table({"a": [1.0], "at": pa.array([0], pa.timestamp("s")), "c": ["x"]})
    assert list(frame(table, ["c", "at", "a"]).columns) == ["c", "at", "a"]
