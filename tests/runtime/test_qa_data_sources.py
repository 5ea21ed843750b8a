"""Reading a source the way a team's real exports look: a column whose name is also a
word of the runtime's own SQL, and a folder of csv files written at different times."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.stdlib.runtime.db import connect, query_arrow
from pipec.stdlib.runtime.errors import SourceError
from pipec.stdlib.runtime.sources import load_source

from .manifests import col, source

SCHEMA = [col("user", "string"), col("ts", "timestamp"), col("v", "float"),
          col("first", "string")]


def test_a_type_error_is_reported_in_a_source_with_columns_named_v_and_first(
    tmp_path: Path,
) -> None:
    """The samples of a bad value were grouped by an alias `v` and ordered by `first`: in
    a source with a column `v` the group bound to that column, and the source stage
    stopped on DuckDB's Binder Error instead of naming the bad value and its line."""
    (tmp_path / "h.csv").write_text("user,ts,v,first\n"
                                    "u1,2024-01-01 10:00:00,0.5,a\n"
                                    "u1,not a time,0.7,b\n"
                                    "u2,2024-01-02 10:00:00,oops,c\n")
    stage = source("h", "h.csv", "user", "ts", SCHEMA, fmt="csv", snapshot=None)
    loaded = load_source(connect(), stage, tmp_path, "data")
    errors = {e["column"]: (e["values"], e.get("at")) for e in loaded.type_errors}
    assert errors == {"ts": (["not a time"], ["line 3"]), "v": (["oops"], ["line 4"])}


def _parts(tmp_path: Path, second_header: str, second_row: str) -> dict:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "a.csv").write_text("user,ts,v,first\nu1,2024-01-01,0.5,a\n")
    (tmp_path / "parts" / "b.csv").write_text(f"{second_header}\n{second_row}\n")
    return source("h", "parts/*.csv", "user", "ts", SCHEMA, fmt="csv", snapshot=None)


def test_files_of_a_glob_with_their_columns_in_another_order_are_refused(
    tmp_path: Path,
) -> None:
    """The columns are named from the first file and every file is read by position: a
    second file written `first,ts,v,user` had its `first` values read as users and its
    users as `first`, with no error (both are text). Parquet files and pandas read by
    name; a run must never train on swapped columns."""
    stage = _parts(tmp_path, "first,ts,v,user", "b,2024-01-02,0.7,u2")
    with pytest.raises(SourceError) as raised:
        load_source(connect(), stage, tmp_path, "data")
    message = str(raised.value)
    assert "`parts/a.csv` has user, ts, v, first" in message
    assert "`parts/b.csv` has first, ts, v, user" in message


@pytest.mark.parametrize("header", ["user,ts,v,first", "User,TS,v, first"])
def test_files_of_a_glob_with_the_same_columns_are_read_together(
    tmp_path: Path, header: str,
) -> None:
    """The same names in the same order (DuckDB's names are caseless; blanks around a
    name are padding), and an empty file, read as before."""
    stage = _parts(tmp_path, header, "u2,2024-01-02,0.7,b")
    (tmp_path / "parts" / "c.csv").write_text("")
    con = connect()
    load_source(con, stage, tmp_path, "data")
    rows = query_arrow(con, "SELECT user, first FROM data ORDER BY user").to_pylist()
    assert rows == [{"user": "u1", "first": "a"}, {"user": "u2", "first": "b"}]


def test_an_empty_first_file_of_a_glob_holds_no_rows(tmp_path: Path) -> None:
    """An export's empty part file sorted first was taken for the header of every file:
    the source stopped as "empty" with rows in the files after it. It holds no rows; the
    header is the first file's that has one, and a type error still names its line."""
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "part-0000.csv").write_text("")
    (tmp_path / "parts" / "part-0001.csv").write_text("user,ts,v,first\nu1,2024-01-01,0.5,a\n"
                                                      "u2,2024-01-02,bad,b\n")
    (tmp_path / "parts" / "part-0002.csv").write_text("user,ts,v,first\nu3,2024-01-03,1,c\n")
    stage = source("h", "parts/*.csv", "user", "ts", SCHEMA, fmt="csv", snapshot=None)
    con = connect()
    loaded = load_source(con, stage, tmp_path, "data")
    assert query_arrow(con, "SELECT user FROM data ORDER BY user").to_pylist() == [
        {"user": "u1"}, {"user": "u2"}, {"user": "u3"}]
    assert [(e["values"], e["at"]) for e in loaded.type_errors] == [
        (["bad"], ["parts/part-0001.csv line 3"])]


def test_a_glob_of_empty_files_is_an_empty_source(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    for name in ("a.csv", "b.csv"):
        (tmp_path / "parts" / name).write_text("")
    stage = source("h", "parts/*.csv", "user", "ts", SCHEMA, fmt="csv", snapshot=None)
    with pytest.raises(SourceError, match="`parts/\\*.csv` is empty"):
        load_source(connect(), stage, tmp_path, "data")


def test_a_snapshot_before_every_row_stops_the_source(tmp_path: Path) -> None:
    """`snapshot 2023-01-01` on data of 2024 kept no row: every check passed on zero
    rows and the run stopped at the train stage with "no labelled rows" (or, for a
    label's source, trained on labels all negative), never naming the snapshot."""
    (tmp_path / "h.csv").write_text("user,ts,v,first\n"
                                    "u1,2024-01-01 10:00:00,0.5,a\n"
                                    "u2,2024-03-02 10:00:00,0.7,b\n")
    stage = source("h", "h.csv", "user", "ts", SCHEMA, fmt="csv", snapshot="2023-01-01")
    with pytest.raises(SourceError) as raised:
        load_source(connect(), stage, tmp_path, "data")
    assert str(raised.value) == (
        "source 'h': `snapshot 2023-01-01` keeps no row: every 'ts' is later (the data "
        "spans 2024-01-01 to 2024-03-02); give a snapshot date on or after 2024-01-01, "
        "or `snapshot latest`")
    # A snapshot that keeps a row is read as before.
    kept = source("h", "h.csv", "user", "ts", SCHEMA, fmt="csv", snapshot="2024-01-01")
    assert load_source(connect(), kept, tmp_path, "data").row_count == 1
