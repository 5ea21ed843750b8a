"""Small programs several test modules start from."""

# One of every common stage on a single CSV source; checks clean. The checker-gap and
# fmt-keeps-checks tests vary it one statement at a time.
SMALL_PIPELINE = """\
team ml { contact "#ml"; role ml }
pipeline p {
  owner ml; on_failure block; predicts iid
  source ev { from csv "ev.csv"; snapshot 2026-06-01; entity id; time at
    schema { id: string, at: timestamp, amount: float, late: bool, kind: category } }
  validate ev { require id }
  label late { column late }
  features h version 1 { from ev; entity id; time at; point_in_time; feature a7 = mean(amount) over 7d }
  split by time on at { train before 2026-03-01; test from 2026-04-01 }
  train m { model "sklearn.linear_model.LogisticRegression"; seed 1 }
  evaluate m { primary roc_auc >= 0.7; calibration ece <= 0.05; slice kind: roc_auc >= 0.6 }
}
"""  # noqa: E501 (one long line, as a user would write it)


def edited(text: str, *pairs: tuple[str, str]) -> str:
    """`text` with each `old` (which must occur) replaced by `new`, once."""
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text
