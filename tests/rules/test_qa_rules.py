"""Rule defects found by a QA audit of the VAL, REPRO, RETRAIN, GATE, OWN ... families:
each case edits one clean two-model, `risk high` program and names what must (or must
not) be reported."""

from __future__ import annotations

import pytest
from pipec import cron
from pipec.check import compile
from pipec.rules.retrain004_schedule_freshness import EXAMPLES
from support.programs import SMALL_PIPELINE, edited

TWO_MODELS = """\
team data { contact "#data"; role data }
team product { contact "#product"; role product }
team ml { contact "#ml"; role ml }
team risk { contact "#risk"; role risk }
pipeline fraud {
  owner ml; risk high; predicts future; on_failure block; code_commit auto
  image "r.example.com/t@sha256:4b1c0f9e2d7a8c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d"
  retrain scheduled "0 3 * * *"
  source tx { owner data; from parquet "t.parquet"; snapshot latest; entity id; time at
    freshness 1d; schema { id: string, at: timestamp, amount: float, country: category } }
  source cb { owner data; from parquet "c.parquet"; snapshot latest; entity id; time at
    lag 2d; freshness 1d; schema { id: string, at: timestamp } }
  validate tx { owner data; require id; unique id, at }
  validate cb { owner data; require id }
  label fraud { owner product; from cb; window 30d }
  split by time on at { train before snapshot - 100d; gap 32d; test from snapshot - 68d }
  train gbm { model "sklearn.ensemble.HistGradientBoostingClassifier"; seed 42 }
  train lr { model "sklearn.linear_model.LogisticRegression"; seed 7 }
  evaluate gbm { owners ml, product, risk; primary roc_auc >= 0.85; calibration ece <= 0.05
    slice country: roc_auc >= 0.8; latency p99 <= 20ms; size <= 50MB; features compatible
    approval by risk }
  evaluate lr { owners ml, product, risk; primary roc_auc >= 0.80; calibration ece <= 0.05
    slice country: roc_auc >= 0.8; latency p99 <= 20ms; size <= 50MB; features compatible
    approval by risk }
  register gbm { registry local "registry/"; rollback previous }
  register lr { registry local "registry/"; rollback 3 }
  deploy gbm { canary 5% for 1h }
  deploy lr { canary 10% for 2h }
}
"""

SCHEDULED = 'retrain scheduled "0 3 * * *"'
LR_APPROVAL = ("size <= 50MB; features compatible\n    approval by risk }\n  register",
               "size <= 50MB; features compatible }\n  register")


def edit(*pairs: tuple[str, str]) -> str:
    return edited(TWO_MODELS, *pairs)


def found(text: str) -> list[tuple[str, int, str, str]]:
    return [(d.code, d.span.line, d.message, d.help or "") for d in compile(text).diagnostics]


def test_base_is_clean() -> None:
    assert found(TWO_MODELS) == []


@pytest.mark.parametrize("retrain", ["retrain triggered on new_snapshot",
                                     "retrain triggered on drift(amount) > 0.2",
                                     "retrain continuous"])
def test_retrain003_one_model_without_approval(retrain: str) -> None:
    """One model's approval does not hold back the other's retrained model."""
    codes = found(edit((SCHEDULED, retrain), LR_APPROVAL))
    [hit] = [d for d in codes if d[0] == "RETRAIN003"]
    assert hit[1] == 8 and "`evaluate.lr` promotes" in hit[2]
    assert hit[3] == "add `approval by TEAM` (a team with the risk role) to `evaluate.lr`"


def test_retrain003_every_model_approved_is_clean() -> None:
    assert found(edit((SCHEDULED, "retrain continuous"))) == []


def test_retrain001_names_the_validate_stage_to_make_blocking() -> None:
    """A non-blocking validate stage exists: the fix is its policy, not a new stage."""
    codes = found(edit((SCHEDULED, "retrain triggered on new_snapshot"),
                       ("validate cb { owner data;", "validate cb { owner data; on_failure warn;"),
                       ("  validate tx { owner data; require id; unique id, at }\n", "")))
    [hit] = [d for d in codes if d[0] == "RETRAIN001"]
    assert hit[1] == 8 and "sources `tx`, `cb` have no blocking validate stage" in hit[2]
    assert hit[3] == ("add `validate tx { ...; on_failure block }` and set `on_failure block` "
                      "on `validate.cb`, or retrain `scheduled`/`manual`")


def test_retrain001_names_each_missing_validate_stage() -> None:
    codes = found(edit((SCHEDULED, "retrain continuous"),
                       ("  validate tx { owner data; require id; unique id, at }\n", ""),
                       ("  validate cb { owner data; require id }\n", "")))
    [hit] = [d for d in codes if d[0] == "RETRAIN001"]
    assert hit[3] == ("add `validate tx { ...; on_failure block }` for each of `tx`, `cb`, or "
                      "retrain `scheduled`/`manual`")


@pytest.mark.parametrize(("freshness", "example"), [
    ("1d", "(e.g. `0 3 * * *` for daily data)"),
    ("7d", "(e.g. `0 3 * * 1` for weekly data)"),
    ("3d", "(e.g. `0 3 * * 1`, weekly)"),
    ("2h", "(e.g. `0 3 * * *`, daily)"),
    ("30d", "(e.g. `0 3 1 1 *`, yearly)"),
])
def test_retrain004_suggests_a_schedule_that_does_not_warn(freshness: str, example: str) -> None:
    """The fix used to suggest a daily schedule for any cadence: for weekly data it warned
    again."""
    text = edit((SCHEDULED, 'retrain scheduled "*/15 * * * *"'),
                ("freshness 1d; schema { id: string, at: timestamp, amount",
                 f"freshness {freshness}; schema {{ id: string, at: timestamp, amount"),
                ("freshness 1d; schema { id: string, at: timestamp }",
                 f"freshness {freshness}; schema {{ id: string, at: timestamp }}"))
    [hit] = [d for d in found(text) if d[0] == "RETRAIN004"]
    assert hit[3].endswith(example)
    suggested = example.split("`")[1]
    fixed = text.replace('"*/15 * * * *"', f'"{suggested}"')
    assert "RETRAIN004" not in {d[0] for d in found(fixed)}


def test_retrain004_examples_are_as_far_apart_as_they_claim() -> None:
    for interval, expression, _ in EXAMPLES:
        assert cron.smallest_interval(cron.parse(expression)) == interval


def test_retrain002_a_canary_of_all_traffic_is_no_canary() -> None:
    codes = found(edit((SCHEDULED, "retrain continuous"),
                       ("canary 10% for 2h", "canary 100% for 2h")))
    [hit] = [d for d in codes if d[0] == "RETRAIN002"]
    assert hit[2].endswith("there is no canary smaller than all traffic on deploy `lr`")
    assert hit[3] == "add a share below 100% (`canary 5% for 1h`) on deploy `lr`"


def test_retrain002_rollback_to_a_pinned_version_is_a_rollback() -> None:
    assert found(edit((SCHEDULED, "retrain continuous"))) == []


NO_SLICE = ("; slice kind: roc_auc >= 0.6 }", " }")
ENTITY_CATEGORY = ("id: string", "id: category")


def test_gate007_does_not_ask_for_a_slice_per_entity() -> None:
    """An id typed `category` is the entity, not a segment: no slice gate is wanted."""
    text = SMALL_PIPELINE.replace(*ENTITY_CATEGORY).replace(*NO_SLICE) \
        .replace("kind: category", "kind: string")
    assert [d.code for d in compile(text).diagnostics] == []


def test_gate007_names_the_other_category_columns() -> None:
    text = SMALL_PIPELINE.replace(*ENTITY_CATEGORY).replace(*NO_SLICE)
    [hit] = compile(text).diagnostics
    assert hit.code == "GATE007" and hit.span.line == 11
    assert hit.message.endswith("has the category column `kind`")
    assert hit.help == "add `slice kind min 100: METRIC op VALUE`"
