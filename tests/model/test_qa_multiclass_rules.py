"""The checker on a multiclass pipeline: a `threshold` means nothing for a model that
takes its likeliest class, whether the evaluate stage writes it or a gate set it uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.check import compile

PROGRAM = """\
team ml {{ contact "#ml"; role ml }}

gates shared {{
  calibration ece <= 0.10
{set_line}}}

pipeline p {{
  owner ml
  on_failure block
  predicts iid

  source flights {{
    from csv "flights.csv"
    snapshot 2026-06-01
    schema {{ id: string, distance: float, carrier: {label_type} }}
  }}

  validate flights {{
    require id
  }}

  label carrier {{
    column carrier
  }}

  split by random {{
    test 20%
    seed 1
  }}

  train m {{
    model "sklearn.linear_model.LogisticRegression"
    seed 1
  }}

  evaluate m {{
    primary accuracy >= 0.5
    use shared
{stage_line}  }}
}}
"""


def _t005(tmp_path: Path, *, set_line: str = "", stage_line: str = "",
          label_type: str = "category") -> list[tuple[int, str]]:
    path = tmp_path / "p.pipe"
    path.write_text(PROGRAM.format(set_line=set_line, stage_line=stage_line,
                                   label_type=label_type), "utf-8")
    return [(d.span.line, d.message) for d in compile(path).diagnostics if d.code == "T005"]


def test_a_threshold_in_a_used_gate_set_on_a_multiclass_model_is_t005(tmp_path: Path) -> None:
    """Only the stage's own `threshold` was checked: the set's was silently ignored."""
    found = _t005(tmp_path, set_line="  threshold 0.3\n")
    assert len(found) == 1, found
    line, message = found[0]
    written = (tmp_path / "p.pipe").read_text("utf-8").splitlines()
    assert line == written.index("    use shared") + 1  # at the `use`, 1-based
    assert "`threshold` on a multiclass model" in message
    assert "a line of `use shared`" in message


def test_a_threshold_of_the_stage_on_a_multiclass_model_is_still_t005(tmp_path: Path) -> None:
    found = _t005(tmp_path, stage_line="    threshold 0.3\n")
    assert [m for _, m in found] == [
        "`threshold` on a multiclass model: it cuts a binary classifier's probability of "
        "the positive class, so the run would ignore it"]


@pytest.mark.parametrize("where", ["set_line", "stage_line"])
def test_a_threshold_on_a_binary_model_is_clean(where: str, tmp_path: Path) -> None:
    line = "  threshold 0.3\n" if where == "set_line" else "    threshold 0.3\n"
    assert _t005(tmp_path, label_type="bool", **{where: line}) == []


def test_the_standard_multiclass_gate_set_checks_clean_on_a_multiclass_stage(
        tmp_path: Path) -> None:
    """`use binary_classifier` on a multiclass stage brings `brier <= 0.25`, a binary
    bound that a model of many classes fails for its class count alone; the standard
    library has a set for multiclass models."""
    path = tmp_path / "p.pipe"
    text = PROGRAM.format(set_line="", stage_line="    use multiclass_classifier\n",
                          label_type="category")
    path.write_text('import "std/gates/multiclass.pipe"\n' + text, "utf-8")
    assert compile(path).diagnostics == []
