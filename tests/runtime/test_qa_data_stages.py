"""A source without a `schema` is read as its file has it: when a column a label or a
feature view reads is not there (renamed in an export), the stage that reads it stops
with a message naming the source, the column and the columns there are, never DuckDB's
Binder Error over SQL the user never wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pipec
from pipec.manifest import build_manifest
from pipec.stdlib.runtime import run_pipeline

TEAMS = 'team ml { contact "#ml"; role ml }\nteam data { contact "#data"; role data }\n'
IMAGE = "r.example/x@sha256:" + "4b1c0f9e2d7a8c6b" * 4
START = datetime(2026, 1, 1, tzinfo=UTC)


def _write_csv(path: Path, header: str, rows: int = 60) -> None:
    lines = [header] + [
        f"r{i},a{i % 5},{(START + timedelta(hours=11 * i)).isoformat()},{i % 7},"
        f"{'true' if i % 3 else 'false'}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", "utf-8")


def _run(tmp_path: Path, label: str, view: str) -> Any:
    body = f"""
pipeline p {{
  owner ml
  predicts iid
  image "{IMAGE}"
  on_failure block
  source s {{ owner data; from csv "d.csv"; snapshot latest; entity acct; time at }}
  validate s {{ owner data; require id }}
  label y {{ {label} }}
  features f version 1 {{ owner ml; from s; entity acct; time at; point_in_time; {view} }}
  split by random {{ test 0.3; seed 3 }}
  train m {{ model "sklearn.linear_model.LogisticRegression"; features [f.*]; seed 1 }}
}}
"""
    path = tmp_path / "p.pipe"
    path.write_text(TEAMS + body, "utf-8")
    return run_pipeline(build_manifest(pipec.compile(path)), tmp_path, tmp_path,
                        until="split")


def _errors(result: Any) -> list[str]:
    """The failed stages' errors (`STAGE: WHY`), the first and those it stopped too."""
    return [result.report["error"], *result.also_stopped]


def test_a_feature_column_missing_from_the_data_is_named(tmp_path: Path) -> None:
    _write_csv(tmp_path / "d.csv", "id,acct,at,value,flag")
    result = _run(tmp_path, "column flag", "feature m = mean(x) over 30d")
    assert result.status == "failed"
    error = _errors(result)[0]
    assert error.startswith("features.f: source 's' has no column `x`, which features.f reads")
    assert "(its columns: id, acct, at, value, flag)" in error
    assert "declare the source's `schema`" in error
    assert "Binder" not in error


def test_a_label_column_and_an_entity_missing_from_the_data_are_named(
    tmp_path: Path,
) -> None:
    _write_csv(tmp_path / "d.csv", "id,account,at,x,flagged")
    result = _run(tmp_path, "column flag", "columns [x]")
    assert sorted(_errors(result)) == [
        "features.f: source 's' has no column `acct`, which features.f reads (its columns: "
        "id, account, at, x, flagged); rename it in the data or in the program, or declare "
        "the source's `schema` to have its columns checked when it is read",
        "label.y: source 's' has no column `flag`, which label.y reads (its columns: "
        "id, account, at, x, flagged); rename it in the data or in the program, or declare "
        "the source's `schema` to have its columns checked when it is read"]


def test_a_column_named_in_another_case_is_not_the_programs_column(tmp_path: Path) -> None:
    """`X` in the file is not the program's `x` (a declared schema's names match exactly
    too): the view named it, then failed on `KeyError: 'x'`."""
    _write_csv(tmp_path / "d.csv", "id,acct,at,X,flag")
    error = _run(tmp_path, "column flag", "feature m = mean(x) over 30d").report["error"]
    assert error.startswith("features.f: source 's' has no column `x`")
    assert "(its columns: id, acct, at, X, flag)" in error


def test_a_split_on_a_column_missing_from_the_data_is_named(tmp_path: Path) -> None:
    _write_csv(tmp_path / "d.csv", "id,acct,at,x,flag")
    (tmp_path / "p.pipe").write_text(TEAMS + f"""
pipeline p {{
  owner ml
  predicts iid
  image "{IMAGE}"
  on_failure block
  source s {{ owner data; from csv "d.csv"; snapshot latest; entity acct; time at }}
  validate s {{ owner data; require id }}
  label y {{ column flag }}
  split by group on region {{ test 0.3; seed 3 }}
  train m {{ model "sklearn.linear_model.LogisticRegression"; features [x]; seed 1 }}
}}
""", "utf-8")
    manifest = build_manifest(pipec.compile(tmp_path / "p.pipe"))
    result = run_pipeline(manifest, tmp_path, tmp_path, until="split")
    assert result.report["error"] == (
        "split: the examples table of source 's' has no column `region`, which split reads "
        "(its columns: id, acct, at, x, flag, y); rename it in the data or in the program, "
        "or declare the source's `schema` to have its columns checked when it is read")
