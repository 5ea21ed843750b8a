"""GATE007 and a market split: the test set of `split by market on region { holdout
[apac] }` holds one region, so a slice gate on `region` is the overall gate again, and
GATE007 asked for exactly that when `region` was the only category column."""

from __future__ import annotations

import pytest
from pipec import compile

PROGRAM = """team ml {{ contact "#ml"; role ml }}
pipeline p {{
  owner ml
  on_failure block
  predicts iid
  source events {{
    from csv "events.csv"
    snapshot 2026-06-01
    schema {{ id: string, amount: float, region: category{more}, late: bool }}
  }}
  validate events {{ require id }}
  label late {{ column late }}
  split by market on region {{ holdout [{held}] }}
  train m {{ model "sklearn.linear_model.LogisticRegression"; seed 1 }}
  evaluate m {{
    primary roc_auc >= 0.7
    calibration ece <= 0.05
  }}
}}
"""


def _gate007(more: str, held: str) -> list[str]:
    program = compile(PROGRAM.format(more=more, held=held))
    return [d.message for d in program.diagnostics if d.code == "GATE007"]


def test_the_column_of_one_held_out_market_asks_for_no_slice_gate() -> None:
    assert _gate007("", "apac") == []


def test_other_category_columns_are_still_asked_for() -> None:
    [found] = _gate007(", channel: category", "apac")
    assert "`channel`" in found and "`region`" not in found


@pytest.mark.parametrize("held", ["apac, emea", "apac, emea, latam"])
def test_several_held_out_markets_are_slices_worth_gating(held: str) -> None:
    [found] = _gate007("", held)
    assert "`region`" in found
