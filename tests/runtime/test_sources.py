"""Loading sources: formats, typing, snapshots."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipec.stdlib.runtime.db import connect, query_arrow
from pipec.stdlib.runtime.errors import SourceError
from pipec.stdlib.runtime.sources import load_source

from .manifests import col, source

SCHEMA = [col("id", "string"), col("at", "timestamp"), col("amount", "float"), col("n", "int")]
CSV = """id,at,amount,n
a,2026-03-01T10:00:00Z,1.5,1
b,2026-03-02T00:00:00Z,oops,2
c,2026-03-02T23:59:59Z,2.0,x
d,2026-03-03T00:00:00Z,3.0,3
e,,4.0,4
"""


def _load(tmp_path: Path, stage: dict) -> tuple:
    con = connect()
    loaded = load_source(con, stage, tmp_path, "data")
    return loaded, query_arrow(con, "SELECT * FROM data").to_pylist()


def test_csv_types_are_cast_and_mismatches_reported(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(CSV)
    loaded, rows = _load(
        tmp_path, source("t", "t.csv", "id", "at", SCHEMA, fmt="csv", snapshot="2026-03-02")
    )
    assert loaded.snapshot == date(2026, 3, 2)
    assert [r["id"] for r in rows] == ["a", "b", "c"]  # time < 2026-03-03 00:00
    assert loaded.null_time_rows == 1
    errors = {e["column"]: e for e in loaded.type_errors}
    assert errors["amount"]["rows"] == 1 and errors["amount"]["values"] == ["oops"]
    assert errors["n"]["values"] == ["x"]
    assert rows[1]["amount"] is None


def test_snapshot_latest_is_newest_date(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(CSV)
    loaded, rows = _load(tmp_path, source("t", "t.csv", "id", "at", SCHEMA, fmt="csv"))
    assert loaded.snapshot == date(2026, 3, 3)
    assert len(rows) == 4


def test_parquet_missing_column_and_order_independence(tmp_path: Path) -> None:
    at = [datetime(2026, 1, d, tzinfo=UTC) for d in (3, 1, 2)]
    pq.write_table(
        pa.table({"id": ["c", "a", "b"], "at": at, "extra": [1, 2, 3]}), tmp_path / "p.parquet"
    )
    loaded, rows = _load(tmp_path, source("p", "p.parquet", "id", "at", SCHEMA))
    assert loaded.missing_columns == ["amount", "n"]
    assert [r["id"] for r in rows] == ["a", "b", "c"]  # stored sorted
    assert "extra" in rows[0]


def test_sql_source_resolves_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(CSV)
    stage = source(
        "q",
        "",
        "id",
        "at",
        SCHEMA,
        fmt="sql",
        snapshot=None,
        query="SELECT * FROM read_csv('t.csv', all_varchar = true) WHERE id != 'a'",
    )
    loaded, rows = _load(tmp_path, stage)
    assert loaded.snapshot is None and len(rows) == 3


def test_missing_time_column_is_a_source_error(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": ["a"]}), tmp_path / "p.parquet")
    with pytest.raises(SourceError):
        _load(tmp_path, source("p", "p.parquet", "id", "at", SCHEMA))


def test_a_missing_file_is_named_plainly(tmp_path: Path) -> None:
    stage = source("t", "data/nothing.parquet", "id", "at", SCHEMA)
    with pytest.raises(SourceError, match=r"`data/nothing.parquet` does not exist \(looked for "):
        _load(tmp_path, stage)


def test_csv_offsets_become_utc_instants(tmp_path: Path) -> None:
    """22:00 at UTC-5 on the snapshot date is 03:00 UTC the next day: after the snapshot."""
    (tmp_path / "t.csv").write_text("id,at,amount,n\n"
                                    "a,2026-03-02T22:00:00-05:00,1.0,1\n"
                                    "b,2026-03-02T18:00:00-05:00,1.0,1\n"
                                    "c,2026-03-02T23:00:00,1.0,1\n")
    loaded, rows = _load(
        tmp_path, source("t", "t.csv", "id", "at", SCHEMA, fmt="csv", snapshot="2026-03-02"))
    assert [(r["id"], r["at"].hour) for r in rows] == [("b", 23), ("c", 23)]


def test_rows_after_the_snapshot_are_not_type_checked(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,at,amount,n\n"
                                    "a,2026-03-01T10:00:00Z,1.0,1\n"
                                    "b,2026-03-05T10:00:00Z,notanumber,1\n"
                                    "c,not-a-time,2.0,1\n")
    loaded, rows = _load(
        tmp_path, source("t", "t.csv", "id", "at", SCHEMA, fmt="csv", snapshot="2026-03-02"))
    errors = {e["column"]: e["values"] for e in loaded.type_errors}
    assert errors == {"at": ["not-a-time"]}  # b is after the snapshot; c's time is unknown
    assert [r["id"] for r in rows] == ["a"]


def test_an_int_column_takes_whole_numbers_only(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": ["a", "b", "c"],
                             "at": [datetime(2026, 1, 1, tzinfo=UTC)] * 3,
                             "n": [2.0, 2.5, None]}), tmp_path / "p.parquet")
    loaded, rows = _load(tmp_path, source("p", "p.parquet", "id", "at", SCHEMA))
    errors = {e["column"]: e for e in loaded.type_errors}
    assert errors["n"]["rows"] == 1 and errors["n"]["values"] == ["2.5"]
    assert [r["n"] for r in rows] == [2, None, None]


# A column read as its declared type (or as one that always converts) skips the checked
# TRY_CAST. Oracle: the quick cast gives what the checked cast gives, on extreme values.
_SAMPLES = {
    "TINYINT": "[-128, 0, 127, NULL]",
    "SMALLINT": "[-32768, 32767]",
    "INTEGER": "[-2147483648, 2147483647]",
    "BIGINT": "[-9223372036854775808, 9223372036854775807]",
    "UTINYINT": "[0, 255]",
    "USMALLINT": "[0, 65535]",
    "UINTEGER": "[0, 4294967295]",
    "FLOAT": "[-3.4e38, 1.5, 'inf', 'nan']",
    "DOUBLE": "[-1.7e308, 0.1, '-inf']",
    "DATE": "['0001-01-01', '2026-02-28', '9999-12-31']",
    "TIMESTAMP": "['0001-01-01 00:00:00', '2026-03-02 23:59:59.999999']",
    "BOOLEAN": "[true, false, NULL]",
    "VARCHAR": "['', 'é', NULL]",
}


@pytest.mark.parametrize("kind", ["int", "float", "timestamp", "date", "bool", "string"])
def test_quick_casts_agree_with_checked_casts(kind: str) -> None:
    from pipec.stdlib.runtime.sources import SQL_TYPES, _cast, _uncastable

    con = connect()
    quick = [raw for raw in _SAMPLES
             if _uncastable({"name": "v", "type": kind, "raw": raw}) is None]
    assert SQL_TYPES[kind] in quick
    for raw in quick:
        values = f"SELECT unnest(CAST({_SAMPLES[raw]} AS {raw}[])) AS v"
        got = con.execute(f"SELECT {_cast('v', kind, raw)}, {_cast('v', kind)} "
                          f"FROM ({values})").fetchall()
        assert all(str(fast) == str(checked) for fast, checked in got), (raw, got)


def test_typed_parquet_columns_load_without_type_errors(tmp_path: Path) -> None:
    pq.write_table(pa.table({
        "id": ["a", "b"],
        "at": pa.array([datetime(2026, 1, 1, 5), datetime(2026, 1, 2, 6)], pa.timestamp("us")),
        "amount": pa.array([1, 2], pa.int32()),
        "n": pa.array([3, None], pa.int16()),
    }), tmp_path / "p.parquet")
    loaded, rows = _load(tmp_path, source("p", "p.parquet", "id", "at", SCHEMA,
                                          snapshot="2026-01-01"))
    assert loaded.type_errors == []
    assert rows == [{"id": "a", "at": datetime(2026, 1, 1, 5), "amount": 1.0, "n": 3}]


def test_a_corrupt_file_says_why_without_the_internal_sql(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not a parquet file")
    with pytest.raises(SourceError, match="cannot read") as caught:
        _load(tmp_path, source("b", "bad.parquet", "id", "at", SCHEMA))
    assert "\n" not in str(caught.value) and "__raw" not in str(caught.value)


@pytest.mark.parametrize(("query", "found"), [
    ("SELECT * FROM t; COPY (SELECT 1) TO 'written.csv'", "SELECT, then COPY"),
    ("SELECT 1 AS id; CREATE TABLE kept AS SELECT 2", "SELECT, then CREATE"),
    ("ATTACH 'other.db'", "ATTACH"),
    ("-- nothing but a comment", "no statement at all"),
])
def test_a_sql_source_is_one_select_and_runs_nothing_else(
        tmp_path: Path, query: str, found: str) -> None:
    """The query is run inside `CREATE TABLE AS`, where a second statement used to run
    too: a source that wrote a file, unseen by the cache and lineage."""
    stage = source("q", "", "id", None, [col("id", "string")], fmt="sql", snapshot=None,
                   query=query)
    with pytest.raises(SourceError, match=f"one SELECT query, and this one is {found}"):
        _load(tmp_path, stage)
    assert not (tmp_path / "written.csv").exists()


@pytest.mark.parametrize("query", [
    "WITH a AS (SELECT 'x' AS id) SELECT * FROM a;",
    "FROM (VALUES ('x')) v(id)",
    "SELECT 'x' AS id -- a comment after it",
])
def test_every_form_of_one_select_still_reads(tmp_path: Path, query: str) -> None:
    stage = source("q", "", "id", None, [col("id", "string")], fmt="sql", snapshot=None,
                   query=query)
    _loaded, rows = _load(tmp_path, stage)
    assert rows == [{"id": "x"}]
