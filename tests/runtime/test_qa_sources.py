"""Sources that declare no `schema`, and csv and parquet files whose content or types
are messy but realistic, run end to end (source → validate → label → features → join →
split → train → evaluate → register) or stop with a message that names the problem."""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pipec
import pyarrow as pa
import pyarrow.parquet as pq
from pipec.manifest import build_manifest
from pipec.stdlib.runtime import run_pipeline
from pipec.stdlib.runtime.db import connect, query_arrow
from pipec.stdlib.runtime.sources import load_source

from .manifests import source

TEAMS = 'team ml { contact "#ml"; role ml }\nteam data { contact "#data"; role data }\n'
IMAGE = "r.example/x@sha256:" + "4b1c0f9e2d7a8c6b" * 4
START = datetime(2026, 1, 1, tzinfo=UTC)


def _run(tmp_path: Path, body: str) -> Any:
    path = tmp_path / "p.pipe"
    path.write_text(TEAMS + body, "utf-8")
    return run_pipeline(build_manifest(pipec.compile(path)), tmp_path, tmp_path)


def _stage(result: Any, stage_id: str) -> Any:
    return next(s for s in result.stages if s.stage_id == stage_id)


def _pipeline(source_line: str, label: str, train_features: str, extra: str = "") -> str:
    return f"""
pipeline p {{
  owner ml
  predicts iid
  image "{IMAGE}"
  on_failure block
  source s {{ owner data; {source_line} }}
  validate s {{ owner data; require id; range x >= 0 }}
  label y {{ {label} }}
  {extra}
  split by random {{ test 0.3; seed 3 }}
  train m {{ model "sklearn.linear_model.LogisticRegression"; features [{train_features}]; seed 1 }}
  evaluate m {{ owners ml; primary accuracy >= 0.5; calibration ece <= 0.9 }}
  register m {{ owner ml; registry local "reg/" }}
}}
"""


def _rows(n: int = 200) -> dict[str, list[Any]]:
    x = [(i * 37 % 200) / 2 for i in range(n)]
    return {"id": [f"r{i}" for i in range(n)], "acct": [f"a{i % 10}" for i in range(n)],
            "at": [START + timedelta(hours=7 * i) for i in range(n)],
            "x": x, "flag": [v > 50 for v in x]}


# A label column's task, when no schema says the column's type ----------------------------
def test_a_bool_label_column_of_a_source_without_a_schema_trains_a_classifier(
        tmp_path: Path) -> None:
    """The checker takes the task from the label column's declared type; with no
    `schema` the manifest had none, the model was fitted as a classifier and the evaluate
    stage computed a regression's metrics on its booleans: "TypeError: The numpy boolean
    negative ... is not supported". The runtime now reads the task from the column's
    type in the data: a bool column is a binary label."""
    pq.write_table(pa.table(_rows()), tmp_path / "d.parquet")
    result = _run(tmp_path, _pipeline('from parquet "d.parquet"', "column flag", "x"))
    assert result.status == "succeeded", result.report.get("error")
    evaluation = _stage(result, "evaluate.m").report
    assert evaluation["task"] == "binary"
    assert evaluation["metrics"]["accuracy"]["value"] > 0.9


# A feature that is not a column, when no schema lets the checker see it -------------------
def test_a_feature_not_in_the_examples_is_named_not_a_keyerror(tmp_path: Path) -> None:
    """T002 catches `features [n7]` for `f.n7` on a base source with a schema; without
    one the train stage stopped with pyarrow's `KeyError: 'Field "n7" does not exist in
    schema'`. It now says which feature, and lists the columns as `features [...]`
    writes them."""
    pq.write_table(pa.table(_rows()), tmp_path / "d.parquet")
    view = ("features f version 1 { owner ml; from s; entity acct; time at; point_in_time; "
            "feature n7 = count() over 7d }")
    source_line = 'from parquet "d.parquet"; entity acct; time at'
    result = _run(tmp_path, _pipeline(source_line, "column flag", "x, n7", view))
    assert result.status == "blocked"
    message = result.report["reason"]
    assert "feature `n7` is not a column of the examples" in message
    assert "f.n7" in message and "Traceback" not in message


# A parquet DECIMAL column, when no schema casts it ------------------------------------------
def test_a_decimal_column_of_a_source_without_a_schema_is_a_number(tmp_path: Path) -> None:
    """A parquet DECIMAL column kept its type when no schema cast it: the model got
    Python `Decimal` objects, took them for a category, and the evaluate stage refused
    the stored model ("types outside the allowed modules: decimal.Decimal"). It is a
    float (with a fraction) or an int (without), as a declared type would make it."""
    rows = _rows()
    rows["x"] = pa.array([decimal.Decimal(f"{v:.2f}") for v in rows["x"]], pa.decimal128(9, 2))
    rows["n"] = pa.array([decimal.Decimal(i % 7) for i in range(200)], pa.decimal128(9, 0))
    pq.write_table(pa.table(rows), tmp_path / "d.parquet")
    con = connect()
    load_source(con, source("s", "d.parquet", None, None, [], snapshot=None), tmp_path, "data")
    types = dict(zip(con.table("data").columns, map(str, con.table("data").dtypes), strict=True))
    assert (types["x"], types["n"]) == ("DOUBLE", "BIGINT")
    result = _run(tmp_path, _pipeline('from parquet "d.parquet"', "column flag", "x, n"))
    assert result.status == "succeeded", result.report.get("error")
    assert _stage(result, "train.m").report["feature_kinds"] == {"n": "numeric", "x": "numeric"}


# A csv source without a schema: types inferred from the text -------------------------------
MESSY = (
    "\ufeffid,at,x,n,flag,day,note,price,code\r\n"
    'r1,2026-01-01T10:00:00Z,1e3,1,true,2026-01-01,"a, b\r\nc","1,234.5",007\r\n'
    "r2,2026-01-01T10:00:00-05:00,NaN,-2,False,2026-01-02,,7,12\r\n"
    'r3,2026-01-02,0.5,+3,TRUE,,"",8,3\r\n'
    'r4,2026-01-02 03:04:05,,,,2026-01-04,"say ""hi""",9,\r\n'
)


def test_a_csv_source_without_a_schema_types_its_columns_from_their_text(
        tmp_path: Path) -> None:
    """Every column of a csv source without a schema stayed text: `range x >= 0` stopped
    the validate stage with DuckDB's "Cannot compare values of type VARCHAR and type
    INTEGER_LITERAL", a number reached the model as a category, and the `time` column
    kept its offsets unapplied. Each column now gets the type all its values have, as
    pandas' read_csv gives it (`1,234.5` is text, as there without `thousands`), but a
    code with a leading zero (`007`) stays text, to match the same code elsewhere."""
    (tmp_path / "m.csv").write_bytes(MESSY.encode())
    con = connect()
    stage = source("s", "m.csv", None, "at", [], fmt="csv", snapshot=None)
    loaded = load_source(con, stage, tmp_path, "data")
    assert loaded.type_errors == []
    types = dict(zip(con.table("data").columns, map(str, con.table("data").dtypes), strict=True))
    assert types == {"id": "VARCHAR", "at": "TIMESTAMP", "x": "DOUBLE", "n": "BIGINT",
                     "flag": "BOOLEAN", "day": "DATE", "note": "VARCHAR", "price": "VARCHAR",
                     "code": "VARCHAR"}
    rows = query_arrow(con, "SELECT * FROM data ORDER BY id").to_pylist()
    assert [r["at"] for r in rows] == [datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 15),
                                       datetime(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5)]
    assert [r["x"] for r in rows] == [1000.0, None, 0.5, None]  # NaN is missing
    assert [r["n"] for r in rows] == [1, -2, 3, None]
    assert [r["flag"] for r in rows] == [True, False, True, None]
    assert [r["day"] for r in rows] == [date(2026, 1, 1), date(2026, 1, 2), None,
                                        date(2026, 1, 4)]
    assert [r["note"] for r in rows] == ["a, b\r\nc", None, None, 'say "hi"']
    assert [r["code"] for r in rows] == ["007", "12", "3", None]


def test_a_time_column_that_is_not_a_time_is_a_type_error(tmp_path: Path) -> None:
    """Without a schema the `time` column is a timestamp whatever its text: a value that
    is none is reported by the `type` check and its row has no time, as with a schema."""
    (tmp_path / "t.csv").write_text("id,at\nr1,2026-01-01\nr2,soon\n", "utf-8")
    con = connect()
    stage = source("s", "t.csv", None, "at", [], fmt="csv", snapshot=None)
    loaded = load_source(con, stage, tmp_path, "data")
    assert loaded.type_errors == [{"column": "at", "type": "timestamp", "rows": 1,
                                   "values": ["soon"], "at": ["line 3"]}]
    assert (loaded.row_count, loaded.null_time_rows) == (1, 1)


def test_a_csv_source_without_a_schema_runs_end_to_end(tmp_path: Path) -> None:
    """The same pipeline on the csv of a parquet file gives the same checks, features,
    labels and split sizes: `range`, a windowed mean and a time split on the csv's text."""
    rows = _rows()
    lines = ["id,acct,at,x,flag"] + [
        f"{i},{a},{t.isoformat()},{x},{'true' if f else 'false'}"
        for i, a, t, x, f in zip(*rows.values(), strict=True)]
    (tmp_path / "d.csv").write_text("\r\n".join(lines) + "\r\n", "utf-8")
    view = ("features f version 1 { owner ml; from s; entity acct; time at; point_in_time; "
            "feature m30 = mean(x) over 30d }")
    body = _pipeline('from csv "d.csv"; snapshot latest; entity acct; time at',
                     "column flag", "x, f.m30", view).replace(
        "split by random { test 0.3; seed 3 }",
        "split by time { train before 2026-02-20; test from 2026-02-20 }")
    result = _run(tmp_path, body)
    assert result.status == "succeeded", result.report.get("error")
    split = _stage(result, "split").report
    before = START + timedelta(days=50)
    assert (split["train"], split["test"]) == (
        sum(t < before for t in rows["at"]), sum(t >= before for t in rows["at"]))
    assert _stage(result, "validate.s").report["passed"]


def test_a_parquet_time_column_of_epoch_seconds_without_a_schema_is_a_type_error(
        tmp_path: Path) -> None:
    """A parquet `time` column of epoch seconds (BIGINT) with no schema stopped the source
    stage with DuckDB's "Unimplemented type for cast (BIGINT -> TIMESTAMP)". It is cast as
    a declared `timestamp` is: the `type` check reports the values, as with a schema."""
    rows = _rows()
    rows["at"] = pa.array([int(t.timestamp()) for t in rows["at"]], pa.int64())
    pq.write_table(pa.table(rows), tmp_path / "d.parquet")
    con = connect()
    stage = source("s", "d.parquet", None, "at", [], snapshot="latest")
    loaded = load_source(con, stage, tmp_path, "data")
    assert [(e["column"], e["rows"]) for e in loaded.type_errors] == [("at", 200)]
    assert (loaded.row_count, loaded.null_time_rows) == (0, 200)


def test_a_nanosecond_time_without_a_schema_stays_in_its_snapshot_day(tmp_path: Path) -> None:
    """pandas writes nanosecond times. With no schema the `time` column kept them, and
    the snapshot's cast to microseconds rounded 23:59:59.9999999 up to the next day, so
    the event fell out of `snapshot` of its own day (a declared `timestamp` floors it)."""
    # 2026-01-01 23:59:59.9999999, 2026-01-02 00:00:00.0000001, 2026-01-01 10:00
    ns = [1_767_311_999_999_999_900, 1_767_312_000_000_000_100, 1_767_261_600_000_000_000]
    pq.write_table(pa.table({"id": ["a", "b", "c"], "at": pa.array(ns, pa.timestamp("ns"))}),
                   tmp_path / "d.parquet")
    con = connect()
    stage = source("s", "d.parquet", None, "at", [], snapshot="2026-01-01")
    loaded = load_source(con, stage, tmp_path, "data")
    assert [r["id"] for r in query_arrow(con, "SELECT id FROM data ORDER BY id").to_pylist()] \
        == ["a", "c"]
    assert loaded.row_count == 2


def test_a_gate_on_a_metric_the_datas_task_lacks_says_which_task() -> None:
    """A 0/1 int label of a source without a schema is a number, so a regression: a gate
    on `accuracy` said only "could not be computed", not why nor how to say `task`."""
    from pipec.stdlib.runtime.evaluation import judge

    gate = {"kind": "primary", "metric": "accuracy", "op": ">=", "value": 0.7,
            "blocking": True}
    report = {"task": "regression", "metrics": {"rmse": {"value": 0.4}},
              "non_finite_scores": 0}
    verdict = judge(gate, report)
    assert not verdict["passed"]
    assert verdict["note"] == (
        "accuracy could not be computed: it is not a metric of a regression model (the "
        "task the label's type in the data gives; say `task` on the train stage if it is "
        "not that)")
    undefined = report | {"task": "binary", "metrics": {"accuracy": {"value": None}}}
    assert judge(gate, undefined)["note"] == "accuracy could not be computed"
