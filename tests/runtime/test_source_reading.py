"""Reading a source's file: a CSV's dialect is fixed, not sniffed, so a ragged row is
named by its line; a `date` column holds the UTC calendar date of a value, from a CSV as
from parquet."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipec.stdlib.runtime.db import connect, query_arrow
from pipec.stdlib.runtime.errors import SourceError
from pipec.stdlib.runtime.sources import LoadedSource, load_source

from .manifests import col, source

SCHEMA = [col("id", "string"), col("at", "timestamp"), col("x", "string")]
HEADER = "id,at,x\n"


def _load(tmp_path: Path, stage: dict) -> tuple[LoadedSource, list[dict]]:
    con = connect()
    loaded = load_source(con, stage, tmp_path, "data")
    return loaded, query_arrow(con, "SELECT * FROM data ORDER BY id").to_pylist()


def _csv(tmp_path: Path, text: str, schema: list[dict] = SCHEMA) -> dict:
    (tmp_path / "t.csv").write_bytes(text.encode())
    return source("t", "t.csv", "id", "at", schema, fmt="csv", snapshot=None)


def _rows(n: int) -> str:
    return "".join(f"r{i},2026-03-01T0{i % 10}:00:00Z,v{i}\n" for i in range(n))


# A ragged row --------------------------------------------------------------------------
def test_a_short_row_is_named_by_its_line(tmp_path: Path) -> None:
    """Was: DuckDB's sniffer gave up on commas, read one `|` column, and the error said
    the time column was missing."""
    stage = _csv(tmp_path, HEADER + _rows(9) + "short,2026-03-01T00:00:00Z\n" + _rows(3))
    with pytest.raises(SourceError) as caught:
        _load(tmp_path, stage)
    assert str(caught.value) == "source 't': t.csv line 11 has 2 fields, the header has 3"


def test_a_long_row_is_named_by_its_line(tmp_path: Path) -> None:
    stage = _csv(tmp_path, HEADER + _rows(4) + "long,2026-03-01T00:00:00Z,v,extra\n")
    with pytest.raises(SourceError, match=r"^source 't': t\.csv line 6 has 4 fields, "
                                          r"the header has 3$"):
        _load(tmp_path, stage)


def test_the_line_counts_line_breaks_inside_quotes(tmp_path: Path) -> None:
    """DuckDB numbers records; a quoted value over three lines moves the row two lines
    down in the user's editor."""
    stage = _csv(tmp_path, HEADER + 'a,2026-03-01T00:00:00Z,"one\ntwo\nthree"\n'
                 + "b,2026-03-01T00:00:00Z\n")
    with pytest.raises(SourceError, match=r"t\.csv line 5 has 2 fields"):
        _load(tmp_path, stage)


# What read before still reads ---------------------------------------------------------
def test_bom_crlf_quoted_newlines_and_trailing_blank_lines_still_read(tmp_path: Path) -> None:
    text = ("\ufeffid,at,x\r\n"
            'a,2026-03-01T00:00:00Z,"two\r\nlines, and a comma"\r\n'
            'b,2026-03-01T01:00:00Z,"say ""hi"""\r\n'
            "\r\n\r\n")
    loaded, rows = _load(tmp_path, _csv(tmp_path, text))
    assert loaded.type_errors == [] and loaded.missing_columns == []
    assert [r["x"] for r in rows] == ["two\r\nlines, and a comma", 'say "hi"']


def test_a_header_only_file_reads_as_no_rows(tmp_path: Path) -> None:
    loaded, rows = _load(tmp_path, _csv(tmp_path, "id, at ,x,x\n"))
    assert rows == [] and loaded.missing_columns == []  # ` at ` is `at`, as DuckDB names it


# A date column holds UTC calendar dates -------------------------------------------------
DATED = [col("id", "string"), col("at", "timestamp"), col("d", "date")]
EST = timezone(timedelta(hours=-5))


def _dated_parquet(tmp_path: Path, values: list[datetime]) -> dict:
    pq.write_table(pa.table({
        "id": [f"r{i}" for i in range(len(values))],
        "at": [datetime(2026, 3, 1, tzinfo=UTC)] * len(values),
        "d": pa.array(values, pa.timestamp("us", tz="America/New_York")),
    }), tmp_path / "p.parquet")
    return source("p", "p.parquet", "id", "at", DATED, snapshot=None)


def test_a_date_with_an_offset_is_its_utc_date_in_csv_as_in_parquet(tmp_path: Path) -> None:
    """19:00 at UTC-5 is 00:00 UTC the next day. Was: 2013-01-01 from the CSV (its wall
    clock), 2013-01-02 from the parquet file."""
    csv = _csv(tmp_path, "id,at,d\nr0,2026-03-01T00:00:00Z,2013-01-01T19:00:00-05:00\n",
               DATED)
    from_csv = _load(tmp_path, csv)[1]
    from_parquet = _load(tmp_path, _dated_parquet(tmp_path, [datetime(2013, 1, 1, 19,
                                                                      tzinfo=EST)]))[1]
    assert [r["d"] for r in from_csv] == [r["d"] for r in from_parquet] == [date(2013, 1, 2)]


def test_a_time_of_day_in_a_date_column_is_a_type_error(tmp_path: Path) -> None:
    """Was: truncated to its date, while `2.5` in an int column is a type error."""
    stage = _csv(tmp_path, "id,at,d\n"
                 "r0,2026-03-01T00:00:00Z,2013-01-01\n"
                 "r1,2026-03-01T00:00:00Z,2013-01-01 10:30:00\n"
                 "r2,2026-03-01T00:00:00Z,2013-01-01T23:00:00-05:00\n"
                 "r3,2026-03-01T00:00:00Z,2013-01-02 00:00:00Z\n", DATED)
    loaded, rows = _load(tmp_path, stage)
    assert loaded.type_errors == [{"column": "d", "type": "date", "rows": 2,
                                   "values": ["2013-01-01 10:30:00",
                                              "2013-01-01T23:00:00-05:00"],
                                   "at": ["line 3", "line 4"]}]
    assert [r["d"] for r in rows] == [date(2013, 1, 1), None, None, date(2013, 1, 2)]


def test_a_tz_aware_parquet_time_of_day_is_a_type_error_too(tmp_path: Path) -> None:
    stage = _dated_parquet(tmp_path, [datetime(2013, 1, 1, 23, tzinfo=EST),
                                      datetime(2013, 1, 1, 19, tzinfo=EST)])
    loaded, rows = _load(tmp_path, stage)
    assert [(e["column"], e["rows"]) for e in loaded.type_errors] == [("d", 1)]
    assert [r["d"] for r in rows] == [None, date(2013, 1, 2)]


def test_a_nanosecond_time_is_cut_to_its_microsecond_not_rounded(tmp_path: Path) -> None:
    """pandas writes nanosecond times. DuckDB's cast to microseconds rounds, so an event
    at 23:59:59.9999999 moved to 00:00 the next day (past a split date or a snapshot's
    end it had not reached); before 1970 the same. Cut down, both stay on their day."""
    nanos = [1_577_923_199_999_999_900, -100]  # 2020-01-01 23:59:59.9999999, 1969-12-31 ...
    for unit_type, name in ((pa.timestamp("ns"), "naive"), (pa.timestamp("ns", tz="UTC"),
                                                             "aware")):
        pq.write_table(pa.table({"id": ["r0", "r1"], "at": pa.array(nanos, unit_type),
                                 "x": ["a", "b"]}), tmp_path / f"{name}.parquet")
        stage = source("t", f"{name}.parquet", "id", "at", SCHEMA, snapshot=None)
        loaded, rows = _load(tmp_path, stage)
        assert loaded.type_errors == []
        assert [r["at"] for r in rows] == [datetime(2020, 1, 1, 23, 59, 59, 999_999),
                                           datetime(1969, 12, 31, 23, 59, 59, 999_999)], name
