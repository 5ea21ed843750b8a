"""`pipec build` as a user types it, from the folder of the `.pipe` file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pipec.cli import main

PROGRAM = """team ml { contact "#ml"; role ml }
pipeline bare_name {
  owner ml
  predicts iid
  on_failure block
  code_commit auto
  source rows { from csv "rows.csv"; snapshot 2024-12-31; schema { a: int; y: bool } }
  validate rows { require a }
  label y { column y }
  split by random { test 20%; seed 1 }
  train m { model "sklearn.linear_model.LogisticRegression"; seed 1 }
  evaluate m { primary roc_auc >= 0.6; calibration ece <= 0.1 }
}
"""


def test_repro005_from_build_names_the_folder_of_a_bare_file_name(
        tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pipec build model.pipe` in the file's folder said "`.` is not a git checkout",
    where `pipec run model.pipe` names the folder: the build passed the unresolved
    parent of the path."""
    folder = tmp_path / "churn_project"
    folder.mkdir()
    (folder / "model.pipe").write_text(PROGRAM, "utf-8")
    # Git looks no higher than the test's folder, wherever the temporary folders are.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.chdir(folder)
    assert main(["build", "model.pipe", "--target", "local", "-o", "out"]) == 0
    out = capsys.readouterr().out
    assert "`churn_project` is not a git checkout" in out
    assert "`.` is not" not in out
