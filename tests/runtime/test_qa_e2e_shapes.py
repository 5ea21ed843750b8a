"""Pipelines of shapes the bundled examples do not have (a regressor gated per slice of a
column with missing values, a binary classifier whose threshold no score reaches), run
end to end with `pipec run` on small generated data, and their reports read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from pipec.cli import main

TEAMS = 'team ml { contact "#ml"; role ml }\nteam data { contact "#data"; role data }\n'

PIPELINE = TEAMS + """
pipeline shapes {
  owner ml
  predicts iid
  on_failure block
  source rows {
    owner data
    from csv "rows.csv"
    snapshot 2024-12-31
    entity row_id
    schema { row_id: int; x: float; country: category; y: float after_event; hit: bool after_event }
  }
  validate rows { require row_id, x }
  label LABEL
  split by random { test 40%; seed 3 }
  train m {
    model "MODEL"
    features [x]
    seed 1
  }
  evaluate m { GATES }
}
"""


def _rows(n: int = 600) -> pa.Table:
    """`y` is 2x plus noise, and 50 more where the country is unknown (a fifth of the
    rows): a model of x alone is off by about 40 there and by about 10 elsewhere."""
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 100, n)
    country = rng.choice(["de", "fr", "us"], n).astype(object)
    country[rng.random(n) < 0.2] = None
    y = 2 * x + rng.normal(0, 1, n) + np.where([c is None for c in country], 50.0, 0.0)
    return pa.table({"row_id": np.arange(n), "x": x, "country": list(country), "y": y,
                     "hit": rng.random(n) < 0.3})


def _project(tmp_path: Path, label: str, model: str, gates: str) -> Path:
    pacsv.write_csv(_rows(), tmp_path / "rows.csv")
    (tmp_path / "teams.pipe").write_text(TEAMS, "utf-8")
    text = PIPELINE.replace("LABEL", label).replace("MODEL", model).replace("GATES", gates)
    path = tmp_path / "shapes.pipe"
    path.write_text(text.replace(TEAMS, 'import "teams.pipe"\n'), "utf-8")
    return path


def _evaluation(path: Path, capsys: Any) -> tuple[int, dict[str, Any]]:
    code = main(["run", str(path)])
    capsys.readouterr()
    assert main(["runs", "list", "--project", str(path.parent), "--format", "json"]) == 0
    run_id = json.loads(capsys.readouterr().out)[0]["run_id"]
    assert main(["runs", "show", run_id, "--project", str(path.parent), "--format", "json"]) == 0
    return code, json.loads(capsys.readouterr().out)["evaluations"]["m"]


def test_rows_with_no_value_in_a_sliced_column_are_a_slice_of_their_own(
        tmp_path: Path, capsys: Any) -> None:
    """`slice country min 20: mae <= 20` left out the test rows with no country: the
    gate said "3 slices gated" and passed while those rows, a fifth of the test set,
    were off by four times the limit. They are now the slice `(missing)`, gated."""
    path = _project(tmp_path, "target { column y }", "sklearn.linear_model.Ridge",
                    "primary rmse <= 100; slice country min 20: mae <= 20")
    code, evaluation = _evaluation(path, capsys)
    per_value = evaluation["slices"]["country"]["mae"]
    assert sorted(per_value) == ["(missing)", "de", "fr", "us"]
    assert sum(entry["rows"] for entry in per_value.values()) == 240  # the whole test set
    assert per_value["(missing)"]["gated"] and per_value["(missing)"]["mae"]["value"] > 20
    assert all(per_value[c]["mae"]["value"] <= 20 for c in ("de", "fr", "us"))
    gate = next(g for g in evaluation["gates"] if g["kind"] == "slice")
    assert not gate["passed"] and "(missing)=" in gate["note"]
    assert code == 1 and evaluation["blessed"] is False


def test_a_precision_no_score_reaches_says_why_it_has_no_value(
        tmp_path: Path, capsys: Any) -> None:
    """With `threshold 0.95` on a label the features cannot predict, no test row is
    scored positive, and precision (a ratio over them) has no value: the failed gate
    said only "could not be computed"; it now names the threshold nobody reached."""
    path = _project(tmp_path, "hit { column hit }",
                    "sklearn.linear_model.LogisticRegression",
                    "primary roc_auc >= 0.1; guardrail precision >= 0.5; threshold 0.95; "
                    "calibration ece <= 1")
    code, evaluation = _evaluation(path, capsys)
    gate = next(g for g in evaluation["gates"] if g["line"].startswith("guardrail"))
    assert gate["observed"] is None and not gate["passed"]
    assert gate["note"] == ("precision could not be computed: no test row scored at or "
                            "above the threshold 0.95")
    assert code == 1
