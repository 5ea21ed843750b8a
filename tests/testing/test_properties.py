"""The split properties hold for the runtime, and catch deliberately broken splits."""

from __future__ import annotations

import pytest
from conftest import EXAMPLES
from pipec.testing.api import load_split
from pipec.testing.properties import (
    Options,
    SplitPropertyFailure,
    check_split,
    properties_for,
)
from pipec.testing.report import plain_failure

from testing import broken
from testing.programs import SPLITS, spec_for

FAST = Options(max_examples=15, max_rows=12)


@pytest.mark.parametrize("kind", sorted(SPLITS))
def test_runtime_splits_have_every_property(kind: str) -> None:
    spec = spec_for(kind)
    for prop in properties_for(spec, cross_process=False):
        prop(spec, None, FAST)


@pytest.mark.parametrize("example", ["flights/flights.pipe", "fraud/fraud.pipe"])
def test_examples_have_every_property(example: str) -> None:
    check_split(load_split(EXAMPLES / example), None, FAST)


def failure_of(spec, impl, name: str) -> SplitPropertyFailure:  # noqa: ANN001
    prop = next(p for p in properties_for(spec) if p.func.__name__ == name)
    with pytest.raises(SplitPropertyFailure) as caught:
        prop(spec, impl, FAST)
    return caught.value


def test_row_order_entity_split_is_caught() -> None:
    failure = failure_of(spec_for("entity"), broken.row_order_entity_split,
                         "order_independent")
    text = plain_failure(failure)
    assert "when the same rows are split again in another order" in text
    assert "counterexample (shrunk)" in text and "side reordered" in text
    assert 1 < len(failure.rows) <= 8  # shrunk to a handful of rows


def test_gapless_time_split_is_caught() -> None:
    failure = failure_of(spec_for("time"), broken.gapless_time_split, "time_bounds_hold")
    assert "is on `test` but belongs on dropped" in failure.message
    assert any(row["side"] == "test" and row["expected"] is None for row in failure.rows)
    assert len(failure.rows) <= 4


def test_gapless_fraud_split_is_caught() -> None:
    spec = load_split(EXAMPLES / "fraud/fraud.pipe")
    failure = failure_of(spec, broken.gapless_time_split, "time_bounds_hold")
    assert "belongs on dropped" in failure.message


def test_salted_hash_is_caught_in_process() -> None:
    failure = failure_of(spec_for("entity"), broken.salted_hash_entity_split,
                         "order_independent")
    assert len(failure.rows) == 1  # one row whose side changes between two calls


def test_builtin_hash_is_caught_across_processes() -> None:
    spec = spec_for("entity")
    for prop in properties_for(spec, cross_process=False):  # passes in one process
        prop(spec, broken.builtin_hash_entity_split, FAST)
    failure = failure_of(spec, broken.builtin_hash_entity_split,
                         "reproducible_across_processes")
    assert "PYTHONHASHSEED" in failure.message
    assert "side in other process" in plain_failure(failure)


def test_runtime_is_reproducible_across_processes() -> None:
    spec = spec_for("random")
    prop = next(p for p in properties_for(spec) if "process" in p.name)
    prop(spec, None, FAST)


def test_leaky_declared_dates_are_caught() -> None:
    spec = spec_for("split by time { train before 2025-06-01; gap 1d } "
                    "# pipec: ignore[LEAK002] testing the property, not the rule")
    failure = failure_of(spec, None, "labels_mature")
    assert "shorter than the label maturity" in failure.message


def test_a_split_that_raises_is_a_counterexample() -> None:
    def explode(table, split, snapshot, **kwargs):  # noqa: ANN001, ANN003, ANN202
        raise ValueError("boom")

    failure = failure_of(spec_for("group"), explode, "partition")
    assert "raised ValueError: boom" in failure.message


def test_a_lopsided_share_is_caught() -> None:
    def lopsided(table, split, snapshot, **kwargs):  # noqa: ANN001, ANN003, ANN202
        from pipec.stdlib.runtime.splits import assign_sides

        return assign_sides(table, {**split, "test": 0.3}, snapshot, **kwargs)

    failure = failure_of(spec_for("entity"), lopsided, "shares")
    assert "entities are on `test`, but `test` is 25.0%" in failure.message


def test_a_random_split_where_production_predicts_the_future_is_caught() -> None:
    """With LEAK001 suppressed, `pipec test` passed a random split on a `predicts future`
    pipeline, though a suppressed LEAK002 still fails `labels mature`."""
    from dataclasses import replace

    future = replace(spec_for("random"), predicts="future")
    failure = failure_of(future, None, "tested_after_trained")
    assert "the model would learn from rows after the ones it is tested on" in failure.message
    assert {row["side"] for row in failure.rows} >= {"test"}
    names = [p.func.__name__ for p in properties_for(spec_for("random"), cross_process=False)]
    assert "tested_after_trained" not in names  # `predicts iid`: row order is not time
