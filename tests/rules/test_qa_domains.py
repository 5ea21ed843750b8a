"""Realistic pipelines from six domains, written the way a team would: subscriber churn
(entity split), store demand (time split, lagged rolling features, regression), loan
default (`risk high`, group split), ad clicks (point-in-time features from several
sources), delivery ETA (regression on an `after_event` column) and ticket routing
(multiclass). Each checks clean; each planted mistake is reported with its code, at the
line that holds it, and with nothing else beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pipec.check import compile
from pipec.diagnostics import Diagnostic
from support.programs import edited

FIXTURES = Path(__file__).parent / "fixtures_qa_domains"
DOMAINS = ["churn", "demand", "credit", "ctr", "eta", "tickets"]

Edit = tuple[str, str]
# (code, a text on the line the diagnostic points at, a fragment of its message)
Expected = tuple[str, str, str]


def checked(tmp_path: Path, domain: str, *edits: Edit) -> tuple[str, list[Diagnostic]]:
    """The domain's pipeline with `edits` applied, checked next to its teams file."""
    text = edited((FIXTURES / f"{domain}.pipe").read_text("utf-8"), *edits)
    shutil.copy(FIXTURES / "teams.pipe", tmp_path / "teams.pipe")
    path = tmp_path / f"{domain}.pipe"
    path.write_text(text, "utf-8")
    return text, compile(path).diagnostics


def line_of(text: str, anchor: str) -> int:
    """The first line holding `anchor`; `BLOCK >> TEXT`: the first holding TEXT after the
    first holding BLOCK (a statement several blocks repeat)."""
    start, _, wanted = anchor.rpartition(" >> ")
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if start in line) if start else 0
    return next(i for i, line in enumerate(lines[first:], first + 1) if wanted in line)


def assert_found(text: str, found: list[Diagnostic], expected: list[Expected]) -> None:
    assert sorted((d.code, d.span.line) for d in found) == \
        sorted((code, line_of(text, anchor)) for code, anchor, _ in expected), \
        [(d.code, d.span.line, d.message) for d in found]
    for code, anchor, fragment in expected:
        line = line_of(text, anchor)
        assert any(d.code == code and d.span.line == line and fragment in d.message
                   for d in found), (code, fragment, [d.message for d in found])


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_domain_pipeline_checks_clean(domain: str, tmp_path: Path) -> None:
    assert checked(tmp_path, domain)[1] == []


RANDOM_SPLIT = "split by random {\n    test 20%\n    seed 7\n  }"
ENTITY_SPLIT = "split by entity on customer_id {\n    test 20%\n    valid 10%\n    seed 7\n  }"
CHURN_EVALUATE = """  evaluate churn_lr {
    owners ml_growth, growth_product
    use binary_classifier
    primary pr_auc >= 0.40
    guardrail recall >= 0.5
    slice region min 300: pr_auc >= 0.30
    slice plan: pr_auc >= 0.30
    calibration ece <= 0.05
    compare champion pr_auc >= -0.02
  }
"""
DEMAND_GAP = ("    gap 7d\n    test from snapshot - 83d",
              "    gap 3d\n    test from snapshot - 87d")
TARGET_HISTORY = ("  features store version 1 {", """  features target_history version 1 {
    from forecasts
    entity store_item
    time forecast_date
    point_in_time
    feature target_mean_28d = mean(units_next_7d) over 28d
  }

  features store version 1 {""")
CREDIT_TIME_SPLIT = ("split by time {\n    train before 2023-06-01\n    gap 400d\n"
                     "    test from 2024-07-05\n  }")
GROUP_SPLIT = "split by group on ssn {\n    test 0.2\n    seed 2026\n  }"
DELINQUENCIES_SNAPSHOT = '    from parquet "data/delinquencies.parquet"\n    snapshot 2026-06-30'
PAST_DELINQUENCIES = ("  # By time: loans", """  features past_delinquencies version 1 {
    from delinquencies  # the applicant's earlier delinquencies
    entity applicant_id
    feature dq_count_365d = count() over 365d
  }

  # By time: loans""")
OWNED_BY_DEFAULT = ["validate subscribers", "validate cancellations", "validate usage",
                    "features engagement", "split by entity", "train churn_lr"]

PLANTED: dict[str, tuple[str, list[Edit], list[Expected]]] = {
    # churn: a new-entities pipeline
    "churn-random-split": ("churn", [(ENTITY_SPLIT, RANDOM_SPLIT)],
                           [("LEAK001", "split by random", "has a time column `reviewed_at`"),
                            ("LEAK005", "split by random", "`predicts new_entities`")]),
    "churn-label-as-feature": ("churn", [("features [plan,", "features [churned, plan,")],
                               [("LEAK004", "features [churned", "is the label `churned`")]),
    "churn-pii-feature": ("churn", [("features [plan,", "features [email, plan,")],
                          [("PII001", "features [email", "`email` is marked `pii`")]),
    "churn-no-point-in-time": ("churn", [("    time session_at\n    point_in_time\n",
                                          "    time session_at\n")],
                               [("LEAK003", "features engagement", "without `point_in_time`")]),
    "churn-split-without-seed": ("churn", [("    valid 10%\n    seed 7\n", "    valid 10%\n")],
                                 [("REPRO003", "split by entity", "has no seed")]),
    "churn-image-by-tag": ("churn", [("churn@sha256:" + "0123456789abcdef" * 4, "churn:v1.4")],
                           [("REPRO002", "churn:v1.4", "not pinned")]),
    "churn-no-owner": ("churn", [("  owner ml_growth\n  risk", "  risk")],
                       [("OWN001", anchor, "no owner") for anchor in OWNED_BY_DEFAULT]),
    "churn-register-unevaluated": ("churn", [(CHURN_EVALUATE, "")],
                                   [("GATE001", "register churn_lr", "no evaluate stage"),
                                    ("GATE006", "deploy churn_lr", "no latency gate")]),
    "churn-validation-warns": ("churn", [("  validate usage {\n",
                                          "  validate usage {\n    on_failure warn\n")],
                               [("VAL001", "on_failure warn", "whose policy is warn")]),
    "churn-self-approval": ("churn", [("    compare champion pr_auc >= -0.02\n",
                                       "    compare champion pr_auc >= -0.02\n"
                                       "    approval by ml_growth\n")],
                            [("GATE009", "approval by ml_growth", "cannot approve its own")]),
    # demand: a time split, rolling features, a regression
    "demand-random-split": ("demand", [("split by time on forecast_date {\n    owner ml_supply\n"
                                        "    train before snapshot - 90d\n    gap 7d\n"
                                        "    test from snapshot - 83d\n  }",
                                        "split by random {\n    owner ml_supply\n    test 20%\n"
                                        "    seed 3\n  }")],
                            [("LEAK001", "split by random", "`predicts future`")]),
    "demand-gap-shorter-than-maturity": ("demand", [DEMAND_GAP],
                                         [("LEAK002", "gap 3d", "labels mature after 7d"),
                                          ("LEAK002", "test from", "after the test start")]),
    "demand-rolling-mean-of-the-target": ("demand", [TARGET_HISTORY],
                                          [("LEAK004", "mean(units_next_7d)",
                                            "rows become visible after 0s")]),
    "demand-test-until-past-maturity": ("demand", [("    test from snapshot - 83d",
                                                    "    test from snapshot - 83d "
                                                    "until snapshot - 1d")],
                                        [("LEAK007", "test from", "77 of its 82 days")]),
    # credit: risk high, delinquencies a year after origination
    "credit-no-approval": ("credit", [("    approval by credit_risk\n", "")],
                           [("GATE004", "evaluate default_lr", "without human approval")]),
    "credit-no-risk-co-owner": ("credit", [("owners ml_growth, growth_product, credit_risk",
                                            "owners ml_growth, growth_product")],
                                [("OWN003", "owners ml_growth", "lack the role risk")]),
    "credit-after-event-feature": ("credit", [("features [amount,",
                                               "features [approved_by_officer, amount,")],
                                   [("LEAK008", "features [approved_by_officer",
                                     "marked `after_event`")]),
    # (as a group split: `predicts new_entities` keeps LEAK005 and LEAK010 out of it)
    "credit-pii-split-key": ("credit", [("predicts future", "predicts new_entities"),
                                        (CREDIT_TIME_SPLIT, GROUP_SPLIT)],
                             [("PII001", "split by group on ssn", "keyed on `ssn`")]),
    "credit-label-source-as-feature": ("credit", [PAST_DELINQUENCIES],
                                       [("LEAK004", "earlier delinquencies",
                                         "the source of label `defaulted`")]),
    # ctr: several point-in-time sources
    "ctr-gap-shorter-than-maturity": ("ctr", [("gap 1h", "gap 30m")],
                                      [("LEAK002", "gap 30m", "labels mature after 45m")]),
    "ctr-no-serving-gates": ("ctr", [("    use binary_classifier\n", ""),
                                     ("    latency p99 <= 5ms\n", "")],
                             [("GATE006", "evaluate ctr_gbm", "no latency gate"),
                              ("GATE008", "evaluate ctr_gbm", "features it was trained on")]),
    "ctr-retrain-faster-than-data": ("ctr", [('"0 */6 * * *"', '"*/15 * * * *"')],
                                     [("RETRAIN004", "retrain scheduled", "every 15m")]),
    "ctr-view-key-of-another-type": ("ctr", [("      ad_id: string\n      day: date",
                                              "      ad_id: int\n      day: date")],
                                     [("LEAK006", "features ad_history >> entity ad_id",
                                       "an int in `ad_daily`")]),
    # eta and tickets
    "eta-after-event-feature": ("eta", [("    seed 5\n  }", "    seed 5\n    features [zone, "
                                         "distance_km, delivered_at, restaurant_load.*]\n  }")],
                                [("LEAK008", "delivered_at, restaurant_load", "`delivered_at`")]),
    "tickets-regression-metric": ("tickets", [("guardrail log_loss <= 1.2",
                                                "guardrail rmse <= 1.2")],
                                  [("T005", "guardrail rmse", "the task is multiclass")]),
    "tickets-binary-task-on-classes": ("tickets", [("task multiclass", "task binary")],
                                       [("T003", "task binary", "a category column")]),
    "tickets-target-as-feature": ("tickets", [("features [channel,",
                                                "features [resolved_queue, channel,")],
                                  [("LEAK004", "features [resolved_queue", "label `queue` reads"),
                                   ("LEAK008", "features [resolved_queue", "after_event")]),
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_a_planted_mistake_is_reported_where_it_is(case: str, tmp_path: Path) -> None:
    domain, edits, expected = PLANTED[case]
    text, found = checked(tmp_path, domain, *edits)
    assert_found(text, found, expected)


# Defects found by this audit, each with the case that failed before its fix.

def test_a_label_listed_as_a_feature_is_target_leakage_not_an_unknown_column(
        tmp_path: Path) -> None:
    """The label's name is a column of the examples table: a T002 "not in the schema"
    beside LEAK004 sent the user looking for a misspelling."""
    text, found = checked(tmp_path, "churn", ("features [plan,", "features [churned, plan,"))
    assert [d.code for d in found] == ["LEAK004"]


@pytest.mark.parametrize("domain, model, kind, task", [
    ("eta", "sklearn.linear_model.LogisticRegression", "classifier", "regression"),
    ("demand", "sklearn.ensemble.HistGradientBoostingClassifier", "classifier", "regression"),
    ("credit", "sklearn.linear_model.LinearRegression", "regressor", "binary"),
    ("tickets", "sklearn.ensemble.RandomForestRegressor", "regressor", "multiclass"),
])
def test_a_model_of_the_wrong_kind_for_the_task_is_t005(domain: str, model: str, kind: str,
                                                        task: str, tmp_path: Path) -> None:
    """A regressor has no class probabilities for the gates; a classifier fitted on a
    numeric target treats every value as a class: the run failed after training."""
    original = {"eta": "sklearn.ensemble.HistGradientBoostingRegressor",
                "demand": "sklearn.ensemble.HistGradientBoostingRegressor",
                "credit": "sklearn.linear_model.LogisticRegression",
                "tickets": "sklearn.ensemble.RandomForestClassifier"}[domain]
    text, found = checked(tmp_path, domain, (f'"{original}"', f'"{model}"'))
    assert_found(text, found, [("T005", model, f"is a {kind}, but the task")])
    assert f"is {task}" in found[0].message


def test_the_fix_for_a_regressor_names_the_classifier() -> None:
    from pipec.rules.t005_metric_task import _estimator_fix

    assert _estimator_fix("xgboost.XGBRegressor", "regressor") == "use `xgboost.XGBClassifier`"


@pytest.mark.parametrize("model", ["sklearn.pipeline.Pipeline",
                                   "sklearn.neighbors.KNeighborsClassifier"])
def test_a_model_whose_name_says_nothing_or_fits_is_not_reported(model: str,
                                                                 tmp_path: Path) -> None:
    edit = ('"sklearn.linear_model.LogisticRegression"', f'"{model}"')
    assert checked(tmp_path, "credit", edit)[1] == []


def test_an_after_event_label_without_known_after_is_leak002(tmp_path: Path) -> None:
    """`delivery_minutes` is known hours after checkout; with no `known_after` its maturity
    was 0, so a time split with no gap passed."""
    text, found = checked(tmp_path, "eta", ("    known_after 4h\n", ""),
                          ("    gap 4h\n    test from snapshot - 14d",
                           "    test from snapshot - 15d"))
    assert_found(text, found, [("LEAK002", "label delivery_minutes",
                                "marked `after_event`, but declares no `known_after`")])


def test_an_after_event_label_without_known_after_needs_a_time_split(tmp_path: Path) -> None:
    text, found = checked(tmp_path, "eta", ("    known_after 4h\n", ""),
                          ("predicts future", "predicts iid"),
                          ("split by time on checkout_at {\n    train before snapshot - 15d\n"
                           "    gap 4h\n    test from snapshot - 14d\n  }",
                           "split by random {\n    test 20%\n    seed 1\n  }"))
    assert found == []


def test_leak007_names_the_label_source_whose_snapshot_ends_the_labels(
        tmp_path: Path) -> None:
    """The base source's snapshot is 2026-06-30; the labels end with their own source's,
    a year earlier. "the snapshot's rows end before 2025-07-01" named neither."""
    text, found = checked(tmp_path, "credit",
                          (DELINQUENCIES_SNAPSHOT, DELINQUENCIES_SNAPSHOT.replace(
                              "2026-06-30", "2025-06-30")))
    assert_found(text, found, [("LEAK007", "test from 2024-07-05",
                                "the rows of the label's source `delinquencies` (its "
                                "snapshot) end before 2025-07-01")])


@pytest.mark.parametrize("domain, old, new, fix", [
    ("ctr", "primary log_loss <= 0.35", "primary log_loss >= 0.35",
     "write `primary log_loss <= 0.35`"),
    ("ctr", "compare champion log_loss <= 0.005", "compare champion log_loss >= -0.005",
     "write `compare champion log_loss <= 0.005`"),
    ("demand", "compare champion mae <= 0.2", "compare champion mae >= -0.2",
     "write `compare champion mae <= 0.2`"),
    ("tickets", "primary accuracy >= 0.70", "primary accuracy <= 0.70",
     "write `primary accuracy >= 0.70`"),
])
def test_a_promotion_gate_pointing_the_wrong_way_warns(domain: str, old: str, new: str,
                                                       fix: str, tmp_path: Path) -> None:
    """It blesses the worse model: `log_loss >= 0.35` passes only bad models."""
    text, found = checked(tmp_path, domain, (old, new))
    assert_found(text, found, [("GATE010", new, "points the wrong way")])
    assert found[0].severity.value == "warning" and found[0].help == fix


def test_a_guardrail_may_bound_a_score_from_above(tmp_path: Path) -> None:
    """A "too good to be true" guardrail is deliberate, not backwards."""
    edit = ("guardrail roc_auc >= 0.72", "guardrail roc_auc >= 0.72\n    guardrail roc_auc <= 0.99")
    assert checked(tmp_path, "ctr", edit)[1] == []


@pytest.mark.parametrize("domain, after, task", [
    ("eta", "    primary mae <= 6.5\n", "regression"),
    ("tickets", "    primary accuracy >= 0.70\n", "multiclass"),
])
def test_a_threshold_on_a_model_without_one_probability_is_t005(domain: str, after: str,
                                                                task: str,
                                                                tmp_path: Path) -> None:
    """The runtime cuts only a binary classifier's probability at `threshold`: on a
    regressor or a multiclass model (argmax) the line was silently ignored."""
    text, found = checked(tmp_path, domain, (after, f"{after}    threshold 0.3\n"))
    assert_found(text, found, [("T005", "threshold 0.3", f"`threshold` on a {task} model")])


def test_a_threshold_on_a_binary_classifier_is_clean(tmp_path: Path) -> None:
    edit = ("    primary log_loss <= 0.35\n", "    primary log_loss <= 0.35\n    threshold 0.3\n")
    assert checked(tmp_path, "ctr", edit)[1] == []


CREDIT_MODEL = '"sklearn.linear_model.LogisticRegression"'
CREDIT_PARAMS = '    params { C: 1.0, max_iter: 1000, class_weight: "balanced" }\n'


@pytest.mark.parametrize("model, params, fix", [
    ("sklearn.svm.LinearSVC", "", "use a classifier with probabilities"),
    ("sklearn.svm.SVC", "    params { C: 1.0 }\n", "add `probability: true` to its `params`"),
    ("sklearn.linear_model.SGDClassifier", "", 'add `loss: "log_loss"` to its `params`'),
])
def test_a_classifier_without_probabilities_is_t005(model: str, params: str, fix: str,
                                                    tmp_path: Path) -> None:
    """Scoring a classifier calls `predict_proba`: the run failed at evaluate, after
    training, with an AttributeError."""
    text, found = checked(tmp_path, "credit", (CREDIT_MODEL, f'"{model}"'),
                          (CREDIT_PARAMS, params))
    assert_found(text, found, [("T005", model, "no class probabilities (`predict_proba`)")])
    assert found[0].help.startswith(fix)


@pytest.mark.parametrize("model, params", [
    ("sklearn.svm.SVC", "    params { C: 1.0, probability: true }\n"),
    ("sklearn.linear_model.SGDClassifier", '    params { loss: "log_loss" }\n'),
])
def test_a_classifier_with_probabilities_enabled_is_clean(model: str, params: str,
                                                         tmp_path: Path) -> None:
    found = checked(tmp_path, "credit", (CREDIT_MODEL, f'"{model}"'), (CREDIT_PARAMS, params))[1]
    assert found == []


def test_a_classifier_without_probabilities_that_nothing_scores_is_not_t005(
        tmp_path: Path) -> None:
    """Only an evaluate stage asks for probabilities (its removal is GATE001's matter)."""
    text = (FIXTURES / "credit.pipe").read_text("utf-8")
    evaluate = text[text.index("  evaluate default_lr {"):text.index("  register default_lr {")]
    found = checked(tmp_path, "credit", (CREDIT_MODEL, '"sklearn.svm.LinearSVC"'),
                    (evaluate, ""))[1]
    assert "T005" not in {d.code for d in found} and "GATE001" in {d.code for d in found}


def test_a_short_gap_between_dates_far_enough_apart_says_what_the_dates_leave(
        tmp_path: Path) -> None:
    """Train ends 90 days before the snapshot and the test starts 80 days before it: the
    last training labels (7d) are known 3 days before the test starts. The message said
    they were seen "4d into the test period"."""
    text, found = checked(tmp_path, "demand", ("    gap 7d\n    test from snapshot - 83d",
                                               "    gap 3d\n    test from snapshot - 80d"))
    assert_found(text, found, [("LEAK002", "gap 3d", "the split's dates leave 10d between "
                                "training and test")])
    assert "into the test period" not in found[0].message



@pytest.mark.parametrize("domain, base", [("ctr", "impressions"), ("eta", "orders")])
def test_no_base_source_names_the_one_the_time_split_is_on(domain: str, base: str,
                                                           tmp_path: Path) -> None:
    """language.md makes this T007 (every non-label source feeds a feature view, so none
    is left), but the split says which source the examples are: the help names it."""
    text, found = checked(tmp_path, domain, (f"  examples from {base}\n", ""))
    assert_found(text, found, [("T007", "pipeline", "no source can be the base")])
    assert found[0].help == (f"add `examples from {base}` to the pipeline (the time split "
                             "is on its `time` column)")


def test_a_classifier_on_a_numeric_label_suggests_declaring_classes(tmp_path: Path) -> None:
    """A numeric label column is a regression unless `task` says otherwise: a team with
    0/1 or coded classes in an int column needs `task`, not another model."""
    found = checked(tmp_path, "eta", ('"sklearn.ensemble.HistGradientBoostingRegressor"',
                                      '"sklearn.ensemble.HistGradientBoostingClassifier"'))[1]
    assert [d.code for d in found] == ["T005"]
    assert found[0].help == (
        "if the label's values are classes, add `task binary` (0/1) or `task multiclass`; "
        "otherwise use `sklearn.ensemble.HistGradientBoostingRegressor`")
