"""Checker gaps found by an audit: each case edits one clean base program and names the
diagnostic it must (or must not) produce, with the line it points at."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.check import compile
from support.programs import SMALL_PIPELINE, edited

BASE = SMALL_PIPELINE
SPLIT = "split by time on at { train before 2026-03-01; test from 2026-04-01 }"
VIEW = "features h version 1 { from ev; entity id;"
MATURE_30D = ("label late { column late }", "label late { column late; known_after 30d }")
DIGEST = "@sha256:" + "4b1c0f9e" * 8
REGISTER = ("slice kind: roc_auc >= 0.6 }",
            'slice kind: roc_auc >= 0.6 }\n  register m { registry local "r/"; rollback previous }')


# A windowed label over a second, validated source `cb` (declared on line 6).
CB_SOURCE = ('source cb { from csv "cb.csv"; snapshot 2026-06-01; entity id; time at; '
             "schema { id: string, at: timestamp } }")
WINDOWED = ("validate ev { require id }\n  label late { column late }",
            f"validate ev {{ require id }}; validate cb {{ require id }}; {CB_SOURCE}\n"
            "  label late { from cb; window 20d }")
# A label that does not read the base source's `late` column must not leave it beside
# the label's name (LEAK004: the examples table would hold the label under it).
NO_LATE_COLUMN = ("late: bool, ", "")
VIEW_LINE = ("features h version 1 { from ev; entity id; time at; point_in_time; "
             "feature a7 = mean(amount) over 7d }")


# A second timestamp (a booking before the event) and a view timed by it.
BOOKED = ("at: timestamp,", "at: timestamp, booked: timestamp,")
AS_OF_BOOKED = ("entity id; time at; point_in_time", "entity id; time booked; point_in_time")
LAG_30D = ("entity id; time at\n", "entity id; time at; lag 30d\n")


def image(reference: str) -> tuple[str, str]:
    return "predicts iid", f'predicts iid; image "{reference}"'


def features_list(column: str) -> tuple[str, str]:
    """The train stage reads only `column` (not the label's, by default a feature too)."""
    return ('LogisticRegression"; seed 1 }', f'LogisticRegression"; seed 1; features [{column}] }}')


def edit(*pairs: tuple[str, str]) -> str:
    return edited(BASE, *pairs)


def found(text: str) -> list[tuple[str, int, str]]:
    return [(d.code, d.span.line, d.message) for d in compile(text).diagnostics]


def test_base_is_clean() -> None:
    assert found(BASE) == []


FIRES = [
    # 1: overlapping periods with no label maturity
    ("leak002-overlap", [("train before 2026-03-01", "train before 2026-05-01")],
     "LEAK002", 9, "overlap"),
    # 2: splits that cannot run
    ("time-split-no-dates", [(SPLIT, "split by time on at { gap 30d }")], "P001", 9,
     "needs `train before DATE` or `test from DATE`"),
    ("group-without-on", [(SPLIT, "split by group { test 20%; seed 1 }")], "P001", 9,
     "needs an `on` column"),
    ("market-without-on", [(SPLIT, "split by market { holdout [a] }")], "P001", 9,
     "needs an `on` column"),
    ("random-split-with-a-key", [(SPLIT, "split by random on kind { test 20%; seed 1 }")],
     "P001", 9, "a random split takes no `on` column"),
    ("reserved-column-name", [("kind: category", "kind: category, __side: string")],
     "P001", 5, "column `__side` starts with `__`, which is kept for pipec's own columns"),
    ("reserved-label-name", [("label late { column late }", "label __row_id { column late }")],
     "P001", 7, "label `__row_id` starts with `__`"),
    ("market-without-holdout", [(SPLIT, "split by market on kind { test 20% }")], "P001", 9,
     "empty test set"),
    # lines a split of that kind would ignore, while its reader believes they hold
    ("time-split-with-a-test-share", [(SPLIT, SPLIT.replace(" }", "; test 20% }"))],
     "P001", 9, "a time split takes no `test`: its dates place each row"),
    ("time-split-with-a-holdout", [(SPLIT, SPLIT.replace(" }", "; holdout [a] }"))],
     "P001", 9, "a time split takes no `holdout`"),
    ("random-split-with-a-gap", [(SPLIT, "split by random { test 20%; seed 1; gap 3d }")],
     "P001", 9, "a random split takes no `gap`: a hash of each row's identity places it"),
    ("entity-split-with-dates", [(SPLIT, "split by entity on id { test 20%; seed 1; "
                                         "train before 2026-03-01 }")],
     "P001", 9, "an entity split takes no `train before`"),
    ("market-split-with-a-test-share", [(SPLIT, "split by market on kind { holdout [a]; "
                                                "test 20% }")],
     "P001", 9, "a market split takes no `test`: `holdout` names the test markets"),
    ("until-before-from", [(SPLIT, "split by time on at { test from 2026-04-01 until "
                                   "2026-03-15 }")], "P001", 9, "ends (2026-03-15) before"),
    ("entity-split-no-entity", [("entity id; time at\n", "time at\n"),
                                (VIEW, "features h version 1 { from ev; entity kind;"),
                                (SPLIT, "split by entity { test 20%; seed 1 }")],
     "P001", 9, "declares no `entity`"),
    # 3: feature views
    ("view-without-entity", [(VIEW, "features h version 1 { from ev;")], "P001", 8,
     "has no `entity`"),
    ("view-without-from-unknown-column",
     [(VIEW, "features h version 1 { entity id;"), ("mean(amount)", "mean(nosuch)")],
     "T002", 8, "column `nosuch`"),
    ("view-without-from-type", [(VIEW, "features h version 1 { entity id;"),
                                ("mean(amount)", "mean(kind)")], "T003", 8, "of a category"),
    # 4: a label column copied by `columns`
    ("columns-copies-label", [MATURE_30D, ("train before 2026-03-01", "train before 2026-01-01"),
                              ("over 7d }", "over 7d; columns [late] }")],
     "LEAK004", 8, "`columns` of feature view `h` copies `late`"),
    # 5: labels
    ("label-defines-nothing", [("label late { column late }", 'label late { definition "x" }')],
     "P001", 7, "defines no value"),
    ("label-mixes-forms", [("label late { column late }",
                            "label late { column late; window 30d; known_after 90d }")],
     "P001", 7, "mixes a windowed label"),
    ("label-from-without-window", [("label late { column late }", "label late { from ev }")],
     "P001", 7, "has no `window`"),
    # 8: drift statistics
    ("drift-unknown-stat", [("require id }", "require id; drift foo(amount) within 2x of "
                                             "baseline }")], "T003", 6, "not a drift statistic"),
    ("drift-mean-of-category", [("require id }", "require id; drift mean(kind) within 2x of "
                                                 "baseline }")], "T003", 6, "of a category"),
    # 9: bounds of the wrong kind
    ("number-bound-on-timestamp", [("require id }", "require id; range at >= 5 }")],
     "T003", 6, "bound `5` is not a date"),
    ("date-bound-on-float", [("require id }",
                              "require id; range amount in 2020-01-01..2021-01-01 }")],
     "T003", 6, "is not a number"),
    ("date-bound-in-float-constraint", [("amount: float", "amount: float >= 2020-01-01")],
     "T003", 5, "is not a number"),
    # 10: columns nobody checked
    ("retrain-drift-column", [("predicts iid", "predicts iid; retrain triggered on "
                                               "drift(nosuch) > 0.2")], "T002", 3, "`nosuch`"),
    ("view-time-not-temporal", [("entity id; time at; point_in_time",
                                 "entity id; time amount; point_in_time")], "T003", 8,
     "`time` column `amount`"),
    # 11: duplicates
    ("feature-twice", [("over 7d }", "over 7d; feature a7 = sum(amount) over 7d }")],
     "P003", 8, "feature `a7` is defined twice"),
    ("schema-column-twice", [("amount: float,", "amount: float, amount: string,")],
     "P003", 5, "column `amount` is declared twice"),
    ("primary-twice", [("primary roc_auc >= 0.7;",
                        "primary roc_auc >= 0.7; primary roc_auc >= 0.8;")], "P003", 11,
     "`primary` is given twice"),
    ("approval-twice", [("slice kind: roc_auc >= 0.6 }",
                         "slice kind: roc_auc >= 0.6; approval by ml; approval by ml }")],
     "P003", 11, "`approval by` is given twice"),
    ("pipeline-owner-twice", [("owner ml;", "owner ml; owner ml;")], "P003", 3,
     "`owner` is given twice in the pipeline"),
    # 12: LEAK007 against the end of the snapshot (DATE + 1d)
    ("leak007-day-after", [MATURE_30D, ("train before 2026-03-01", "train before 2026-02-01"),
                           ("test from 2026-04-01", "test from 2026-05-03")], "LEAK007", 9,
     "only examples before 2026-05-03"),
    # 13: a test share of everything
    ("test-100-percent", [(SPLIT, "split by random { test 100%; seed 1 }")], "P001", 9,
     "leaves none to train on"),
    # 15: `label.x` / `source.x` in a feature list
    ("label-in-feature-list", [("seed 1 }", "seed 1; features [late.x] }")], "T004", 10,
     "which is a label, not a feature view"),
    # 17: credentials
    ("redis-password", [('"ev.csv"', '"redis://:s3cretpass@cache:6379/0"')], "SEC001", 4,
     "password in a URI"),
    ("github-pat", [('"#ml"', '"github_pat_11ABCDEFG0123456789abcd_0123456789abcdefghij'
                              'ABCDEFGHIJ0123456789abcdefghijklmnopq"')], "SEC001", 1,
     "GitHub token"),
    # audit 8: an Azure connection string's account key is a cloud access key
    ("azure-account-key", [('"ev.csv"', '"DefaultEndpointsProtocol=https;AccountName=a;'
                                        'AccountKey=' + "Zm9vYmFy" * 11 + '==;"')],
     "SEC001", 4, "an Azure access key"),
    # QA: escapes spell the credential that reaches the manifest; `_` glues a key to a word
    ("password-behind-u-escape", [('"ev.csv"', r'"postgres://admin:hunter2\u0040db.example'
                                               r'.com/ev.csv"')],
     "SEC001", 4, "a password in a URI (written with escapes)"),
    ("password-behind-slash-escapes", [('"ev.csv"', r'"postgres:\/\/admin:hunter2@db/ev.csv"')],
     "SEC001", 4, "a password in a URI (written with escapes)"),
    ("aws-key-after-underscore", [('"ev.csv"', '"s3://b/key_AKIAIOSFODNN7EXAMPLE.csv"')],
     "SEC001", 4, "an AWS access key"),
    ("github-token-after-underscore", [('"#ml"', '"tok_ghp_' + "a1B2" * 9 + '"')],
     "SEC001", 1, "a GitHub token"),
    ("repro002-uppercase-digest", [REGISTER, image("r.example.com/t" + DIGEST.upper()
                                                   .replace("@SHA256:", "@sha256:"))],
     "REPRO002", 3, "digest has uppercase hex digits: registries accept only lowercase"),
    # audit 9: a primary metric that only warns gates nothing
    ("gate002-warn-primary", [("primary roc_auc >= 0.7;", "primary roc_auc >= 0.7 warn;")],
     "GATE002", 11, "ends with `warn`: it never blocks"),
    # 18: a keyword value with extra letters names the whole word
    ("role-prefix", [("role ml }", "role mll }")], "P001", 1, "found `mll`"),
    ("risk-prefix", [("predicts iid", "predicts iid; risk higher")], "P001", 3,
     "found `higher`"),
    # 20: a market split holds out exact values, which a timestamp column never equals
    ("market-on-timestamp", [(SPLIT, "split by market on at { holdout [2026-01-01] }")],
     "T003", 9, "a market split on `at`, a timestamp"),
    # 19: `test from` alone trains up to the test start (minus a gap, none by default)
    ("leak002-test-from-alone", [MATURE_30D, (SPLIT, "split by time on at { test from "
                                                     "2026-04-01 }")],
     "LEAK002", 9, "with `test from` alone"),
    # audit 2: `train before` alone starts the test period at train end (no gap by default)
    ("leak002-train-before-alone", [MATURE_30D, (SPLIT, "split by time on at { train before "
                                                        "2026-03-01 }")],
     "LEAK002", 9, "with `train before` alone"),
    # audit 3: a digest pins only when the whole string is one image reference
    ("repro002-digest-in-a-comment", [REGISTER, image(f"r/t:latest # {DIGEST}")],
     "REPRO002", 3, "not pinned"),
    ("repro002-digest-without-name", [REGISTER, image(DIGEST)], "REPRO002", 3, "not pinned"),
    # audit 4: a slice gate is quoted with its column, as written
    ("gate010-slice-quoted-whole", [("slice kind: roc_auc >= 0.6", "slice kind min 50: "
                                                                    "roc_auc >= 80")],
     "GATE010", 11, "`slice kind min 50: roc_auc >= 80` can never pass"),
    # audit 6: a set's line wrong only for the stage that uses it points at its `use` (the
    # set may be shared, or in a file the user cannot edit or annotate)
    ("t002-check-set-column", [('role ml }', 'role ml }\nchecks s { require nosuch }'),
                               ("require id }", "require id; use s }")],
     "T002", 7, "column `nosuch` is not in the schema of source `ev` (a line of `use s`, at "),
    ("t003-check-set-type", [('role ml }', 'role ml }\nchecks s { range kind >= 0 }'),
                             ("require id }", "require id; use s }")],
     "T003", 7, "`range` on `kind`, a category (a line of `use s`"),
    ("t005-gate-set-metric", [('role ml }', 'role ml }\ngates g { guardrail rmse <= 3 }'),
                              ("slice kind: roc_auc >= 0.6 }", "slice kind: roc_auc >= 0.6; "
                                                               "use g }")],
     "T005", 12, "`rmse` is a regression metric, but the task is binary (a line of `use g`"),
    # a pipeline has one label: the join and train use one target
    ("second-label", [("label late { column late }", "label late { column late }\n"
                                                     "  label big { when amount > 9 }")],
     "P003", 8, "a pipeline has one label; `big` is a second one (first `late`"),
    # a declared task the label column cannot be learned as (the runtime read it as 0/1)
    ("t003-binary-string-label", [("label late { column late }", "label late { column id }"),
                                  ('LogisticRegression"; seed 1', 'LogisticRegression"; seed '
                                                                  '1; task binary')],
     "T003", 10, "`task binary` on the label `late`, a string column `id`"),
    ("t003-regression-category-label", [("label late { column late }",
                                         "label late { column kind }"),
                                        ('LogisticRegression"; seed 1',
                                         'LogisticRegression"; seed 1; task regression')],
     "T003", 10, "`task regression` on the label `late`, a category column `kind`"),
    # audit 2-1: statements a stage needs from its sources (the runtime crashed on None)
    ("windowed-label-events-without-time", [WINDOWED, (CB_SOURCE, CB_SOURCE.replace(
        "; time at", ""))], "P001", 6, "but source `cb` declares no `time`"),
    ("windowed-label-base-without-entity", [WINDOWED, ("entity id; time at\n", "time at\n")],
     "P001", 4, "but the base source `ev` declares no `entity`"),
    ("known-after-base-without-time", [MATURE_30D, ("entity id; time at\n", "entity id\n")],
     "P001", 4, "label `late` is known 30d after each example's time"),
    ("view-as-of-base-without-time", [("entity id; time at\n", "entity id\n")], "P001", 4,
     "feature view `h` is joined as of each example's time"),
    ("aggregate-without-time", [("entity id; time at\n", "entity id\n"),
                                ("time at; point_in_time", "point_in_time")], "P001", 8,
     "aggregates over a window (`a7` over 7d) but its rows have no `time`"),
    # audit 2-2: backfill ranges that backfill nothing
    ("backfill-numbers", [("over 7d }", "over 7d; backfill 1..5 validated }")], "P001", 8,
     "a backfill range is dates or timestamps, not `1..5`"),
    ("backfill-reversed", [("over 7d }", "over 7d; backfill 2026-02-01..2026-01-01 validated }")],
     "P001", 8, "ends (2026-01-01) before it starts (2026-02-01)"),
    # audit 2-3: a view over the label's events, as of another column than their time
    ("leak004-label-events-other-time", [WINDOWED, (CB_SOURCE, CB_SOURCE.replace(
        "at: timestamp }", "at: timestamp, txn_at: timestamp }")), (VIEW_LINE, VIEW_LINE.replace(
            "from ev", "from cb").replace("time at", "time txn_at").replace("mean(amount)",
                                                                            "count()"))],
     "LEAK004", 8, "as of `txn_at`, while the label's events are timed by `at`"),
    # audit 2-4: an aggregate of a pii column is personal data as an input
    ("pii-aggregate", [("amount: float,", "amount: float pii,")], "PII001", 8,
     "feature `h.a7` aggregates it"),
    # audit 2-5: the retraining mode in words
    ("retrain005-triggered", [("predicts iid", "predicts iid; retrain triggered on "
                                               "new_snapshot")],
     "RETRAIN005", 3, "retrains (triggered on new_snapshot)"),
    # audit 3-1: a view records one backfill; a second was silently left out of the manifest
    ("backfill-twice", [("over 7d }", "over 7d; backfill 2026-01-01..2026-01-15 validated; "
                                      "backfill 2026-02-01..2026-02-15 validated }")],
     "P003", 8, "`backfill` is given twice in features `h`"),
    # audit 3-3: continuous retraining with no deploy stage to hold a canary
    ("retrain002-without-deploy", [("predicts iid", "predicts iid; retrain continuous")],
     "RETRAIN002", 3, "no deploy stage, so no canary and no register stage, so no rollback"),
    # audit 3-4: a windowed label joins the base's entity to its events' entity
    ("leak006-windowed-label-key-type", [WINDOWED, (CB_SOURCE, CB_SOURCE.replace(
        "id: string", "id: int"))], "LEAK006", 7,
     "label `late` matches the base source's `id`, a string in `ev`, with the events' `id`, "
     "an int in `cb`"),
    # QA 4: a value compared with a column is of the column's kind (DuckDB failed on it, or
    # the held-out markets matched no row)
    ("t003-when-string-on-float", [("label late { column late }",
                                    'label late { when amount > "big" }')], "T003", 7,
     'label `late` compares `amount`, a float, with `"big"`, a string'),
    ("t003-when-number-on-category", [("label late { column late }",
                                       "label late { when kind > 15 }")], "T003", 7,
     "label `late` compares `kind`, a category, with `15`, a number"),
    ("t003-holdout-string-on-float", [(SPLIT, 'split by market on amount { holdout ["JFK"] }')],
     "T003", 9, 'the market split holds out `"JFK"`, a string, but `amount` is a float'),
    ("t003-holdout-number-on-category", [(SPLIT, "split by market on kind { holdout [a, 1.5] }")],
     "T003", 9, "holds out `1.5`, a number, but `kind` is a category"),
    # QA: a value of the column's kind that no row can hold matched no row (pipec test)
    ("t003-holdout-fraction-on-int", [("amount: float", "amount: int"),
                                      (SPLIT, "split by market on amount { holdout [2, 1.5] }")],
     "T003", 9, "holds out `1.5`, a number, but `amount` is an int"),
    ("t003-holdout-instant-on-date", [("at: timestamp", "at: date"), (SPLIT, (
        "split by market on at { holdout [2026-01-01T00:00:00Z, 2026-01-02T01:00:00+01:00, "
        "2026-01-01T05:00:00Z] }"))],
     "T003", 9, "holds out `2026-01-01T05:00:00Z`, a timestamp, but `at` is a date"),
    # QA 4: a type name takes its article ("an int")
    ("t003-time-column-an-int", [("at: timestamp", "at: int")], "T003", 4,
     "the `time` column `at` is an int, not a date"),
    # QA 4: an `in A..B` that ends before it starts holds no value
    ("empty-range-check", [("require id }", "require id; range amount in 5..1 }")], "P001", 6,
     "the range `5..1` ends (1) before it starts (5)"),
    ("empty-range-constraint", [("amount: float", "amount: float in 1..0")], "P001", 5,
     "the range `1..0` ends (0) before it starts (1)"),
    ("empty-date-range", [("require id }", "require id; range at in 2026-01-01..2025-01-01 }")],
     "P001", 6, "ends (2025-01-01) before it starts (2026-01-01)"),
    ("empty-range-in-check-set", [("role ml }", "role ml }\nchecks s { range amount in 5..1 }"),
                                  ("require id }", "require id; use s }")], "P001", 2,
     "the range `5..1` ends (1) before it starts (5)"),
    # QA 4: a map keeps the last of two equal keys
    ("params-key-twice", [("seed 1 }", "seed 1; params { max_iter: 200, max_iter: 300 } }")],
     "P003", 10, "the key `max_iter` is given twice in `params`"),
    ("params-key-twice-quoted", [("seed 1 }", 'seed 1; params { max_iter: 1, "max_iter": 2 } }')],
     "P003", 10, "the key `max_iter` is given twice in `params`"),
    # QA: a label named like another base column takes its place in the examples table,
    # and a train stage with no `features` list reads it as that column
    # QA: `VIEW__FEATURE` names that meet: the examples table kept one, read twice
    ("p003-feature-columns-meet", [("feature a7 = mean(amount) over 7d }",
                                    "feature _a7 = mean(amount) over 7d }\n  features h_ "
                                    "version 1 { from ev; entity id; time at; point_in_time; "
                                    "feature a7 = count() over 7d }")],
     "P003", 9, "`a7` of feature view `h_` is the examples column `h___a7`"),
    # QA: with no policy anywhere, VAL001 said "whose policy is no policy, not block"
    ("val001-no-policy-anywhere", [("on_failure block; ", "")], "VAL001", 6,
     "through `validate.ev`, which has no `on_failure`, and neither has the pipeline"),
    # QA: a view timed by another column than its source's `time` (a booking date)
    ("leak004-label-column-as-of-another-time",
     [MATURE_30D, LAG_30D, BOOKED, AS_OF_BOOKED, ("over 7d }", "over 7d; columns [late] }")],
     "LEAK004", 8, "copies `late`, the column of label `late`, as of `booked`, while the "
     "label is known 30d after `at`"),
    ("leak008-aggregate-as-of-another-time",
     [("amount: float", "amount: float after_event"), BOOKED, AS_OF_BOOKED],
     "LEAK008", 8, "aggregates `amount`, marked `after_event`, as of `booked` while its "
     "events are timed by `at`"),
    ("leak004-label-shadows-a-default-feature",
     [("label late { column late }", "label amount { column late }")], "LEAK004", 7,
     "label `amount` has the name of the base source's column `amount`"),
]


@pytest.mark.parametrize(("pairs", "code", "line", "message"),
                         [case[1:] for case in FIRES], ids=[case[0] for case in FIRES])
def test_fires(pairs: list[tuple[str, str]], code: str, line: int, message: str) -> None:
    hits = [(ln, msg) for c, ln, msg in found(edit(*pairs)) if c == code]
    assert any(ln == line and message in msg for ln, msg in hits), found(edit(*pairs))


CLEAN = [
    # every line a split kind uses: no "takes no" P001
    ("time-split-every-line", [(SPLIT, "split by time on at { train before 2026-03-01; "
                                       "gap 1d; test from 2026-04-01; valid 10%; seed 1 }")]),
    ("market-split-every-line", [(SPLIT, "split by market on kind { holdout [a]; valid 10%; "
                                         "seed 1 }")]),
    ("binary-bool-label", [('LogisticRegression"; seed 1', 'LogisticRegression"; seed 1; '
                                                          'task binary')]),
    ("binary-when-label", [NO_LATE_COLUMN,
                           ("label late { column late }", 'label late { when kind == "a" }'),
                           ('LogisticRegression"; seed 1', 'LogisticRegression"; seed 1; '
                                                           'task binary')]),
    # 2: `train before` alone is a legal time split: `test from` defaults to before + gap
    ("train-before-alone", [(SPLIT, "split by time on at { train before 2026-03-01 }")]),
    ("gate002-set-warns-stage-blocks", [("role ml }", "role ml }\ngates g { primary roc_auc "
                                                      ">= 0.6 warn }"),
                                        ("primary roc_auc >= 0.7;", "use g; primary roc_auc "
                                                                    ">= 0.7;")]),
    ("repro002-tag-and-digest", [REGISTER, image(f"r.example.com/t:v3{DIGEST}")]),
    ("entity-split-default-on", [(SPLIT, "split by entity { test 20%; seed 1 }")]),
    ("test-from-alone-with-gap", [MATURE_30D, (SPLIT, "split by time on at { test from "
                                                      "2026-04-01; gap 30d }")]),
    ("test-from-alone-no-maturity", [(SPLIT, "split by time on at { test from 2026-04-01 }")]),
    # 8: distinct and null_rate take any column
    ("drift-distinct-category", [("require id }", "require id; drift distinct(kind) within 2x "
                                                  "of baseline; drift null_rate(kind) within "
                                                  "2x of baseline }")]),
    # 9: date bounds parse
    ("date-bounds", [("require id }", "require id; range at >= 2020-01-01 }"),
                     ("at: timestamp", "at: timestamp >= 2020-01-01T00:00:00Z")]),
    # 12: one day before the censoring cut-off still has labels
    # audit 2-3: a view over the label's events as of their own time sees only earlier ones
    ("label-events-as-of-their-time", [NO_LATE_COLUMN, WINDOWED, (VIEW_LINE, VIEW_LINE.replace(
        "from ev", "from cb").replace("mean(amount)", "count()"))]),
    # audit 2-6: a backfill ending where the test period starts does not overlap it
    ("backfill-ends-at-test-start", [("over 7d }", "over 7d; backfill 2026-01-01..2026-04-01 "
                                                   "validated }")]),
    # audit 3-4: the label's events may name their entity column otherwise
    ("windowed-label-key-other-name", [NO_LATE_COLUMN, WINDOWED, ("validate cb { require id }",
                                                  "validate cb { require acct }"),
                                       (CB_SOURCE, CB_SOURCE.replace("entity id", "entity acct")
                                        .replace("id: string", "acct: string"))]),
    # QA: escapes that spell no credential, and a key inside a longer word
    ("escaped-path", [('"ev.csv"', r'"data\/ev\u002ecsv"')]),
    ("key-inside-a-word", [('"ev.csv"', '"s3://b/XAKIAIOSFODNN7EXAMPLE.csv"')]),
    # QA: the same views as of the events' own time (the label matured by the lag)
    # (the 7d window widened past the 30d lag, which would leave it empty: FEAT001)
    ("label-column-as-of-its-time-after-maturity",
     [MATURE_30D, LAG_30D, BOOKED, ("over 7d }", "over 37d; columns [late] }")]),
    ("after-event-aggregate-as-of-its-time",
     [("amount: float", "amount: float after_event"), BOOKED]),
    ("leak007-last-labelled-day", [MATURE_30D, ("train before 2026-03-01",
                                                "train before 2026-02-01"),
                                   ("test from 2026-04-01", "test from 2026-05-02")]),
    # QA: with its own `features` list the train stage reads what it lists
    ("label-named-like-a-column-not-listed", [
        ("label late { column late }", "label amount { column late }"),
        ('LogisticRegression"; seed 1 }', 'LogisticRegression"; seed 1; features [kind] }')]),
    # QA 4: values that fit their column
    ("when-int-on-float", [("label late { column late }", "label late { when amount > 15 }"),
                           features_list("kind")]),
    ("when-date-on-timestamp", [("label late { column late }",
                                 "label late { when at > 2026-01-01 }"), features_list("kind")]),
    ("when-word-on-category", [("label late { column late }", "label late { when kind == a }"),
                               features_list("amount")]),
    ("when-bool-on-bool", [("label late { column late }", "label late { when late == true }"),
                           features_list("kind")]),
    ("holdout-text-on-category", [(SPLIT, 'split by market on kind { holdout [a, "b"] }')]),
    # market codes written as digits compare as text
    ("holdout-digits-on-category", [(SPLIT, "split by market on kind { holdout [75001] }")]),
    ("holdout-int-on-float", [(SPLIT, "split by market on amount { holdout [15, 2.5] }")]),
    ("one-value-ranges", [("require id }", "require id; range amount in 3..3; range at in "
                                           "2026-01-01..2026-01-01T00:00:00Z }"),
                          ("amount: float", "amount: float in 0..0")]),
    ("params-distinct-keys", [("seed 1 }", "seed 1; params { max_iter: 200, tol: 0.001 } }")]),
    # 16: name lists wrap lines
    ("wrapped-lists", [("seed 1 }", "seed 1\n    features [\n      amount,  # spend\n"
                                    "      kind,\n      h.*\n    ]\n  }"),
                       ("over 7d }", "over 7d\n    columns [\n      kind\n    ]\n  }")]),
]


@pytest.mark.parametrize("pairs", [case[1] for case in CLEAN], ids=[case[0] for case in CLEAN])
def test_clean(pairs: list[tuple[str, str]]) -> None:
    assert found(edit(*pairs)) == []


def test_t007_without_any_source() -> None:
    text = 'team ml { contact "#ml"; role ml }\npipeline p {\n  owner ml\n' \
           '  on_failure block\n  train m { model "x"; seed 1 }\n}\n'
    # The train stage has nothing to learn from either: no split, no label (T001), and
    # its model `x` is from no module (SEC002).
    assert sorted((c, ln) for c, ln, _ in found(text)) == [("SEC002", 5), ("T001", 5),
                                                          ("T001", 5), ("T007", 2)]


def test_a_train_stage_without_a_split_or_a_label_is_t001() -> None:
    """Both checked clean and then failed at the train stage of the run."""
    no_split = edit(("  split by time on at { train before 2026-03-01; test from 2026-04-01 }\n",
                     ""))
    (message,) = [m for c, ln, m in found(no_split) if c == "T001" and ln == 9]
    assert message == "train `m` learns from the pipeline's split, and the pipeline has no `split`"
    no_label = edit(NO_LATE_COLUMN, ("  label late { column late }\n", ""))
    assert [(c, ln, m) for c, ln, m in found(no_label)] == [
        ("T001", 9, "train `m` learns a label, and the pipeline declares none")]


def test_t007_names_the_feature_views_not_the_labels() -> None:
    text = ('pipeline p {\n  source a { from csv "a.csv"; schema { id: string } }\n'
            '  source b { from csv "b.csv"; schema { id: string } }\n'
            "  features fa { from a; entity id }\n  features fb { from b; entity id }\n}\n")
    (message,) = [m for c, _, m in found(text) if c == "T007"]
    assert "a feature view reads each of them" in message
    assert "feeds a label" not in message


def test_roles_keyword_with_extra_letters() -> None:
    (diagnostic,) = compile(edit(("role ml }", "roles ml }"))).diagnostics
    assert diagnostic.code == "P001" and "`roles` is not a keyword here" in diagnostic.message
    assert (diagnostic.span.col, diagnostic.span.end_col) == (26, 31)
    assert diagnostic.help == "did you mean `role`?"


def test_misnamed_register_and_deploy_are_t001_alone() -> None:
    """audit 5: a register or deploy that names no train stage is T001; GATE001, GATE003
    and GATE006 would only echo it (GATE006 saying the latency and size gates, which the
    evaluate stage has, are missing)."""
    text = edit(("slice kind: roc_auc >= 0.6 }",
                 "slice kind: roc_auc >= 0.6; latency p99 <= 20ms; size <= 50MB; "
                         "features compatible }\n"
                 '  register mm { registry local "r/"; rollback previous }\n'
                 "  deploy mm { canary 5% for 1h }"),
                image("r/t" + DIGEST))
    assert sorted((c, ln) for c, ln, _ in found(text)) == [("T001", 12), ("T001", 13)]


def test_sec001_scans_imported_files(tmp_path: Path) -> None:
    """audit 7: an imported team's contact is built into the manifest like the file's own
    text, so a credential there is SEC001 when the importing file is checked."""
    (tmp_path / "teams.pipe").write_text(
        'team ml { contact "https://ml:hunter22@hooks.example.com/x"; role ml }\n')
    main = tmp_path / "p.pipe"
    main.write_text(BASE.replace('team ml { contact "#ml"; role ml }', 'import "teams.pipe"'))
    found = [(d.code, Path(d.span.file).name, d.span.line, d.span.col)
             for d in compile(main).diagnostics]
    assert found == [("SEC001", "teams.pipe", 1, 20)]


def test_unknown_set_is_not_missing_lines() -> None:
    """audit 10: an evaluate or validate stage that uses an undeclared set (a typo, or a
    failed import) is T001; what the set would bring is unknown, so GATE002, GATE005,
    GATE007 and VAL003 do not report its lines as missing."""
    text = edit(("require id }", "use std_checks }"),
                ("primary roc_auc >= 0.7; calibration ece <= 0.05; slice kind: roc_auc >= 0.6",
                 "use std_gates"))
    assert sorted((c, ln) for c, ln, _ in found(text)) == [("T001", 6), ("T001", 11)]


def test_label_from_unknown_source_does_not_guess_the_base() -> None:
    """audit 2-7: with a label `from` an undeclared name, either of two sources could be
    the base; a guess (the one no view reads) turned the T001 into column errors."""
    text = edit(WINDOWED, ("from cb; window", "from cbx; window"))
    assert [(c, ln) for c, ln, _ in found(text)] == [("T001", 7)]


def test_backfill_inside_the_test_period_is_told_where_to_go() -> None:
    """audit 2-8: a backfill starting inside the test period cannot `end at` its start."""
    text = edit(("test from 2026-04-01", "test from 2026-04-01 until 2026-05-01"),
                ("over 7d }", "over 7d; backfill 2026-04-10..2026-04-20 validated }"))
    (diagnostic,) = [d for d in compile(text).diagnostics if d.code == "BACKFILL001"]
    assert diagnostic.help == ("backfill only dates before 2026-04-01 or from 2026-05-01 on, "
                               "or move the test period")


def test_leak004_points_at_the_aggregated_label_column() -> None:
    """audit 2-9: the caret is on the label column inside `mean(...)`, not the whole line."""
    text = edit(MATURE_30D, ("train before 2026-03-01", "train before 2026-01-01"),
                ("mean(amount)", "mean(late)"))
    (diagnostic,) = [d for d in compile(text).diagnostics if d.code == "LEAK004"]
    line = text.splitlines()[diagnostic.span.line - 1]
    assert line[diagnostic.span.col - 1:diagnostic.span.end_col - 1] == "late"


MISNAMED_MODEL_STAGES = ("slice kind: roc_auc >= 0.6 }",
                         "slice kind: roc_auc >= 0.6; latency p99 <= 20ms; size <= 50MB; "
                         "features compatible }\n"
                         '  register m { registry local "r/"; rollback previous }\n'
                         "  deploy m { canary 5% for 1h }")


def test_misnamed_evaluate_is_t004_alone() -> None:
    """audit 3-2: an evaluate stage that names a source is T004; GATE001 (no evaluate
    upstream of the register) and GATE006 (no latency and no size gate, which it has)
    would only echo it."""
    text = edit(("evaluate m {", "evaluate ev {"), MISNAMED_MODEL_STAGES,
                image("r/t" + DIGEST))
    assert [(c, ln) for c, ln, _ in found(text)] == [("T004", 11)]


def test_misnamed_register_is_t004_alone() -> None:
    """audit 3-2: likewise GATE003 (no register upstream of the deploy)."""
    text = edit(MISNAMED_MODEL_STAGES, ("register m {", "register ev {"),
                image("r/t" + DIGEST))
    assert [(c, ln) for c, ln, _ in found(text)] == [("T004", 12)]


def test_retrain002_without_deploy_names_the_stage_to_add() -> None:
    """audit 3-3: with no deploy (or register) stage, the fix is not "on the deploy stage"."""
    text = edit(("predicts iid", "predicts iid; retrain continuous"))
    (diagnostic,) = [d for d in compile(text).diagnostics if d.code == "RETRAIN002"]
    assert diagnostic.help == ("add a deploy stage with a canary (`deploy m { canary 5% for "
                               "1h }`) and a register stage with a rollback (`register m { "
                               'registry local "registry/"; rollback previous }`)')


TWO_MODELS = """\
team ml { contact "#ml"; role ml }
pipeline prices {
  owner ml; predicts iid; on_failure block; retrain continuous
  image "r.example.com/x@sha256:%s"
  source houses { from csv "h.csv"; snapshot latest; entity id
    schema { id: string; area: float; price: float } }
  validate houses { require id, price; unique id }
  label price { column price }
  split by random { test 20%%; seed 1 }
  train a { model "sklearn.linear_model.Ridge"; seed 3 }
  evaluate a { primary rmse <= 9; latency p99 <= 50ms; size <= 10MB; features compatible }
  register a { registry local "reg/"; rollback previous }
  deploy a { canary 10%% for 30m }
  train b { model "sklearn.linear_model.Lasso"; seed 3 }
  evaluate b { primary rmse <= 9; latency p99 <= 50ms; size <= 10MB; features compatible }
  register b { registry local "reg/" }
  deploy b { runtime "local" }
}
""" % ("4b1c0f9e" * 8)


def test_retrain002_needs_a_canary_and_a_rollback_for_every_model() -> None:
    """QA: model a's canary and rollback let model b ship continuously with neither."""
    (diagnostic,) = [d for d in compile(TWO_MODELS).diagnostics if d.code == "RETRAIN002"]
    assert diagnostic.message.endswith("there is no canary on deploy `b` and no rollback on "
                                       "register `b`")
    assert diagnostic.help == ("add `canary 5% for 1h` on deploy `b` and `rollback previous` "
                               "on register `b`")
    safe = TWO_MODELS.replace('registry local "reg/" }', 'registry local "reg/"; rollback '
                              "previous }").replace('runtime "local"', "canary 5% for 1h")
    assert compile(safe).diagnostics == []


def test_leak001_is_reported_beside_t007_when_every_candidate_is_timed() -> None:
    """QA: with two possible base sources (T007) a random split lost its LEAK001, though
    whichever source is meant has a time column (rules.md: one diagnostic does not stop
    the analysis)."""
    second = ('source other { from csv "o.csv"; snapshot 2026-06-01; time at; '
              "schema { at: timestamp, x: float } }\n  validate other { require at }")
    text = edit(("validate ev { require id }", f"validate ev {{ require id }}\n  {second}"),
                (SPLIT, "split by random { test 20%; seed 1 }"), (VIEW_LINE, ""),
                ("on_failure block; predicts iid", "on_failure block"))
    codes = {code: message for code, _, message in found(text)}
    assert "T007" in codes
    assert "each source that could be the base (`ev`, `other`) has a time column" \
        in codes["LEAK001"]
    untimed = text.replace("time at; schema { at: timestamp, x: float }",
                           "schema { at: timestamp, x: float }")
    assert "LEAK001" not in {code for code, _, _ in found(untimed)}


MULTICLASS = """team ml { contact "#ml"; role ml }
pipeline p {
  owner ml
  predicts iid
  on_failure block
  source s {
    from parquet "data.parquet"
    snapshot 2026-01-01
    schema { id: string, x: float, grade: category }
  }
  validate s { require id; unique id }
  label y { column grade }
  split by random { test 20%; seed 1 }
  train m { model "sklearn.linear_model.LogisticRegression"; features [x]; seed 1 }
  evaluate m {
    primary accuracy >= 0.3
    GATE
  }
}
"""


@pytest.mark.parametrize(("gate", "found"), [
    ("calibration brier <= 1.0", []),  # reachable both ways: 0..2 for multiclass
    ("guardrail brier >= 1.2", []),
    ("guardrail brier >= 2.5", ["GATE010"]),
    ("calibration brier <= 2", ["GATE010"]),  # passes for every model
])
def test_a_multiclass_brier_lies_in_0_to_2(gate: str, found: list[str]) -> None:
    """The multiclass Brier score sums over the classes (sklearn's): 0..2, not 0..1."""
    diagnostics = compile(MULTICLASS.replace("GATE", gate)).diagnostics
    assert [d.code for d in diagnostics if d.code == "GATE010"] == found
