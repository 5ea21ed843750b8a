"""Adversarial review of the day's changes: each test is a bug a demanding user hit, with
the run that showed it."""

from __future__ import annotations

from pathlib import Path

from pipec.stdlib.runtime.db import connect
from pipec.stdlib.runtime.sources import load_source
from runtime.manifests import source


def _loaded_csv(tmp_path: Path, text: str) -> list[tuple]:
    """The typed rows and column types of a csv source that declares no schema."""
    (tmp_path / "d.csv").write_text(text, "utf-8")
    con = connect()
    load_source(con, source("s", "d.csv", None, "t", [], fmt="csv", snapshot=None),
                tmp_path, "data")
    types = {name: kind for name, kind, *_ in con.execute("DESCRIBE data").fetchall()}
    return [types, con.execute("SELECT acct FROM data ORDER BY t").fetchall()]


def test_whole_numbers_past_bigint_stay_exact_text(tmp_path: Path) -> None:
    """A csv column of 23-digit account ids was inferred `float`: two ids that differ in
    their last digit both became 1.2345678901234568e+22, one entity in joins and
    entity splits. pandas keeps such a column as text (`object`), and so does pipec."""
    types, rows = _loaded_csv(tmp_path, "t,acct\n2025-01-01,12345678901234567890123\n"
                                        "2025-01-02,12345678901234567890124\n")
    assert types["acct"] == "VARCHAR"
    assert rows == [("12345678901234567890123",), ("12345678901234567890124",)]


def test_whole_numbers_in_bigint_range_and_mixed_numbers_keep_their_types(
        tmp_path: Path) -> None:
    """The fix keeps an int column an int, and a column mixing a fraction with a huge
    whole number a float, as pandas reads both."""
    types, rows = _loaded_csv(tmp_path, "t,acct\n2025-01-01,9007199254740993\n"
                                        "2025-01-02,-5\n")
    assert (types["acct"], rows) == ("BIGINT", [(9007199254740993,), (-5,)])
    types, _rows = _loaded_csv(tmp_path, "t,acct\n2025-01-01,1.5\n"
                                         "2025-01-02,12345678901234567890124\n")
    assert types["acct"] == "DOUBLE"


def test_a_wide_whole_decimal_is_an_int_when_its_values_fit(tmp_path: Path) -> None:
    """A parquet DECIMAL(38, 0) column (Snowflake's NUMBER, Spark's integer sums) of a
    source without a schema became a float, though the README says a DECIMAL with no
    fraction is an int: ids 9007199254740993 and 9007199254740992 both read
    9007199254740992.0. It is an int when every value fits a BIGINT, else still a
    float."""
    import datetime as dt
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = [decimal.Decimal(9007199254740993), decimal.Decimal(9007199254740992), None]
    pq.write_table(pa.table({
        "t": pa.array([dt.date(2025, 1, 1 + i) for i in range(3)]),
        "acct": pa.array(ids, pa.decimal128(38, 0)),
        "huge": pa.array([decimal.Decimal(10**20), None, None], pa.decimal128(38, 0)),
    }), tmp_path / "d.parquet")
    con = connect()
    load_source(con, source("s", "d.parquet", "acct", "t", [], snapshot=None), tmp_path, "data")
    types = {name: kind for name, kind, *_ in con.execute("DESCRIBE data").fetchall()}
    assert (types["acct"], types["huge"]) == ("BIGINT", "DOUBLE")
    assert con.execute("SELECT acct FROM data ORDER BY t").fetchall() == [
        (9007199254740993,), (9007199254740992,), (None,)]


LABEL_FROM_ANOTHER_SOURCE = """
team ml {{ contact "#ml"; role ml }}
team data {{ contact "#data"; role data }}
pipeline p {{
  owner ml
  predicts iid
  image "r.example/x@sha256:{digest}"
  on_failure block
  source s {{ owner data; from csv "d.csv"; entity acct; time at }}
  source tx {{ owner data; from parquet "t.parquet"; entity acct; time at;
              schema {{ acct: string, at: timestamp, amount: float }} }}
  validate s {{ owner data; require id }}
  validate tx {{ owner data; require acct }}
  label y {{ owner ml; from tx; window 30d }}
  split by random {{ test 0.3; seed 3 }}
  train m {{ model "sklearn.linear_model.LogisticRegression"; features [x]; seed 1 }}
}}
"""


def test_a_numeric_looking_entity_of_a_csv_without_a_schema_still_matches_text_keys(
        tmp_path: Path) -> None:
    """A csv base source without a schema whose account ids all look like numbers
    (`1001`) had its `entity` column inferred `int`; a windowed label from a source whose
    `acct` is a declared `string` then joined BIGINT keys with text ones, and one
    account `A17` stopped the label stage: "Could not convert string 'A17' to INT64".
    Before the csv types were inferred the ids were text and the run went through; the
    entity column stays text."""
    from datetime import UTC, datetime, timedelta

    import pipec
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pipec.manifest import build_manifest
    from pipec.stdlib.runtime import run_pipeline

    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [start + timedelta(hours=7 * i) for i in range(120)]
    accts = [str(1000 + i % 10) for i in range(120)]
    lines = ["id,acct,at,x"] + [f"{i},{a},{t.isoformat()},{i % 7}"
                                for i, (a, t) in enumerate(zip(accts, times, strict=True))]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n", "utf-8")
    events = [t + timedelta(days=3) for t in times[::2]]
    pq.write_table(pa.table({"acct": accts[::2][:-1] + ["A17"], "at": events,
                             "amount": [1.0] * len(events)}), tmp_path / "t.parquet")
    path = tmp_path / "p.pipe"
    path.write_text(LABEL_FROM_ANOTHER_SOURCE.format(digest="4b1c0f9e2d7a8c6b" * 4), "utf-8")
    result = run_pipeline(build_manifest(pipec.compile(path)), tmp_path, tmp_path)
    label = next(s for s in result.stages if s.stage_id == "label.y")
    assert result.status != "failed", result.report.get("error")
    assert label.status == "ran"
    assert _loaded_types(tmp_path)["acct"] == "VARCHAR"


def _loaded_types(tmp_path: Path) -> dict[str, str]:
    con = connect()
    load_source(con, source("s", "d.csv", "acct", "at", [], fmt="csv", snapshot=None),
                tmp_path, "data")
    return {name: kind for name, kind, *_ in con.execute("DESCRIBE data").fetchall()}
