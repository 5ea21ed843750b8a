"""Market holdouts compare as the value's own type. The split properties found that the
runtime once compared `CAST(col AS VARCHAR)` with Python's `str()` of each value:
`holdout [true]` ('True' vs DuckDB's 'true') and `holdout [2]` on a float column ('2'
vs '2.0') sent held-out rows to train. These keep that fixed."""

from __future__ import annotations

from pipec.testing.properties import Options, holdout_is_test

from testing.programs import spec_for


def test_market_holdout_on_a_bool_column() -> None:
    holdout_is_test(spec_for("split by market on ok { holdout [true] }"), None,
                    Options(max_examples=15))


def test_market_holdout_int_on_a_float_column() -> None:
    holdout_is_test(spec_for("split by market on x { holdout [2] }"), None,
                    Options(max_examples=15))


def test_market_holdout_on_strings_and_ints_holds() -> None:
    options = Options(max_examples=15)
    holdout_is_test(spec_for("split by market on country { holdout [FR, 3] }"), None, options)
    holdout_is_test(spec_for("split by market on n { holdout [3, 7] }"), None, options)
