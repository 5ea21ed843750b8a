"""How the text of a source's values becomes its declared (or inferred) types, and how a
value that is not one is reported: strict notations, the line or row that holds it, and a
clear error, never a silently different value, for a file the reader cannot take."""

from __future__ import annotations

import gzip
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pipec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipec.commands.run_report import _failure
from pipec.manifest import build_manifest
from pipec.stdlib.runtime import run_pipeline
from pipec.stdlib.runtime.db import connect, query_arrow
from pipec.stdlib.runtime.errors import SourceError
from pipec.stdlib.runtime.sources import LoadedSource, load_source

from .manifests import col, source

NUMBERS = [col("id", "string"), col("at", "timestamp"), col("n", "int"), col("x", "float")]


def _load(tmp_path: Path, name: str, text: str | bytes, schema: list[dict[str, Any]] | None,
          **kw: Any) -> tuple[LoadedSource, list[dict[str, Any]]]:
    """Load `text` written to `name` as a csv source (no schema: `schema` None)."""
    data = text.encode() if isinstance(text, str) else text
    (tmp_path / name).write_bytes(data)
    stage = source("s", name, kw.pop("entity", None), kw.pop("time", "at"), schema or [],
                   fmt="csv", snapshot=kw.pop("snapshot", None), **kw)
    if schema is None:
        stage["schema"] = None
    con = connect()
    loaded = load_source(con, stage, tmp_path, "data")
    return loaded, query_arrow(con, "SELECT * FROM data ORDER BY id").to_pylist()


def _errors(loaded: LoadedSource) -> dict[str, tuple[list[str], list[str] | None]]:
    return {e["column"]: (e["values"], e.get("at")) for e in loaded.type_errors}


# 1. Notations DuckDB's casts read that a data file does not mean ---------------------------
def test_a_declared_int_refuses_underscores_and_hex_and_says_where(tmp_path: Path) -> None:
    """`1_000` in a declared `int` column was read as 1000 by DuckDB's cast, silently.
    pandas refuses it (and `0x10`) for an int64 column: both are type errors now, named
    with their line. The notations pandas reads for an int stay accepted."""
    loaded, rows = _load(tmp_path, "d.csv", "id,at,n,x\n"
                         "r1,2026-01-01,1_000,1\n"
                         "r2,2026-01-01,0x10,1\n"
                         "r3,2026-01-01, 7 ,1\n"
                         "r4,2026-01-01,2.0,1\n"
                         "r5,2026-01-01,1e3,1\n"
                         "r6,2026-01-01,+5,1\n"
                         "r7,2026-01-01,0b101,1\n", NUMBERS)
    assert _errors(loaded) == {"n": (["1_000", "0x10", "0b101"], ["line 2", "line 3", "line 8"])}
    assert [r["n"] for r in rows] == [None, None, 7, 2, 1000, 5, None]


def test_a_declared_float_refuses_underscores_and_a_doubled_sign(tmp_path: Path) -> None:
    """DuckDB read `1_000.5` as 1000.5 and `+-1` as -1.0. Both are type errors now;
    `inf`, `Infinity`, `1e3`, `.5` stay numbers and `NaN` missing, as in pandas."""
    loaded, rows = _load(tmp_path, "d.csv", "id,at,n,x\n"
                         "r1,2026-01-01,1,1_000.5\n"
                         "r2,2026-01-01,1,+-1\n"
                         "r3,2026-01-01,1,-inf\n"
                         "r4,2026-01-01,1,Infinity\n"
                         "r5,2026-01-01,1,NaN\n"
                         "r6,2026-01-01,1,.5\n", NUMBERS)
    assert _errors(loaded) == {"x": (["1_000.5", "+-1"], ["line 2", "line 3"])}
    assert [r["x"] for r in rows] == [None, None, float("-inf"), float("inf"), None, 0.5]


def test_a_declared_time_refuses_words_and_years_dates_do_not_have(tmp_path: Path) -> None:
    """DuckDB reads `epoch` as 1970-01-01, `infinity` as 9999-12-31, `-2026-01-01` as a
    year BC and `12026-01-01` as that year: a placeholder or a typo became a time (and
    `infinity` in the time column stopped `snapshot latest` with Python's OverflowError).
    Each is a type error; `2026/01/02` and a named zone still read as before."""
    schema = [col("id", "string"), col("at", "timestamp"), col("d", "date")]
    loaded, rows = _load(tmp_path, "d.csv", "id,at,d\n"
                         "r1,2026-01-01 10:00:00 America/New_York,2026/01/02\n"
                         "r2,epoch,epoch\n"
                         "r3,infinity,-2026-01-01\n"
                         "r4,2026-01-01T00:00:00Z,12026-01-01\n", schema, snapshot="latest")
    assert _errors(loaded) == {"at": (["epoch", "infinity"], ["line 3", "line 4"]),
                               "d": (["epoch", "-2026-01-01", "12026-01-01"],
                                     ["line 3", "line 4", "line 5"])}
    assert loaded.snapshot == date(2026, 1, 1)
    assert [(r["at"], r["d"]) for r in rows] == [(datetime(2026, 1, 1, 15), date(2026, 1, 2)),
                                                (datetime(2026, 1, 1), None)]


def test_a_zone_abbreviation_is_a_type_error_not_a_guessed_offset(tmp_path: Path) -> None:
    """DuckDB reads a zone abbreviation as a legacy zone id: `BST` (British summer time,
    +1) as Bangladesh, +6, `PST` with summer time, and `UTC+2` as +2 where pandas reads
    -2 (POSIX). Each silently moved the event by hours; pandas refuses them. They are
    type errors now; an offset, `Z`, `UTC` and an IANA name read as before."""
    schema = [col("id", "string"), col("at", "timestamp")]
    loaded, rows = _load(tmp_path, "d.csv", "id,at\n"
                         "r1,2026-07-01 12:00:00 BST\n"
                         "r2,2026-07-01 12:00:00 PST\n"
                         "r3,2026-07-01 12:00:00 UTC+2\n"
                         "r4,2026-07-01 12:00:00 Europe/London\n"
                         "r5,2026-07-01T12:00:00+01:00\n"
                         "r6,2026-07-01 12:00:00 UTC\n", schema)
    assert _errors(loaded) == {"at": (["2026-07-01 12:00:00 BST", "2026-07-01 12:00:00 PST",
                                       "2026-07-01 12:00:00 UTC+2"],
                                      ["line 2", "line 3", "line 4"])}
    assert [r["at"] for r in rows] == [datetime(2026, 7, 1, 11), datetime(2026, 7, 1, 11),
                                       datetime(2026, 7, 1, 12)]


def test_a_declared_bool_takes_blanks_as_a_number_does(tmp_path: Path) -> None:
    """DuckDB reads ` 5` as 5 but ` true` as no bool: a declared `bool` column written
    `a, true` was all type errors. Blanks are padding for a bool too; the spellings the
    cast reads (`t`, `yes`, `1`...) stay, anything else is a type error."""
    schema = [col("id", "string"), col("at", "timestamp"), col("b", "bool")]
    loaded, rows = _load(tmp_path, "d.csv", "id,at,b\n"
                         "r1,2026-01-01, true\n"
                         "r2,2026-01-01,FALSE \n"
                         "r3,2026-01-01,t\n"
                         "r4,2026-01-01,no\n"
                         "r5,2026-01-01,1\n"
                         "r6,2026-01-01,maybe\n", schema)
    assert _errors(loaded) == {"b": (["maybe"], ["line 7"])}
    assert [r["b"] for r in rows] == [True, False, True, False, True, None]


def test_a_parquet_string_column_is_held_to_the_same_notations(tmp_path: Path) -> None:
    """A declared `int` read from a parquet string column goes through the same text
    rules (was: `1_000` read as 1000); its place is the row index in the file."""
    pq.write_table(pa.table({"id": ["a", "b", "c"], "at": [datetime(2026, 1, 1)] * 3,
                             "n": ["1", "1_000", "3"], "x": [1.0, 2.0, 3.0]}),
                   tmp_path / "d.parquet")
    con = connect()
    loaded = load_source(con, source("s", "d.parquet", "id", "at", NUMBERS, snapshot=None),
                         tmp_path, "data")
    assert _errors(loaded) == {"n": (["1_000"], ["row index 1"])}


# 2. Where a bad value is --------------------------------------------------------------------
def test_a_csv_type_error_names_the_file_line_of_each_first_bad_value(tmp_path: Path) -> None:
    """A type error gave values but no place: in a big file the user could not find them.
    Each sample value now comes with the line (as an editor numbers it, the header being
    line 1) where it first is, the samples in the file's order. A quoted line break, a
    blank line and CRLF line ends count as the editor counts them."""
    text = ('id,at,n,x\r\n'
            '"r1\r\nsecond line",2026-01-01,1,1\r\n'
            'r2,2026-01-01,bad,1\r\n'
            '\r\n'
            'r3,2026-01-01,bad,1\r\n'
            'r4,2026-01-01,alpha,1\r\n')
    loaded, _rows = _load(tmp_path, "d.csv", text, NUMBERS)
    [error] = loaded.type_errors
    assert (error["rows"], error["values"], error["at"]) == (3, ["bad", "alpha"],
                                                            ["line 4", "line 7"])


def test_a_type_error_in_a_glob_or_gzip_source_names_the_file(tmp_path: Path) -> None:
    """Several files: the line is in one of them, so the place names it (from the .pipe
    file's folder). A gzipped csv is numbered as its text."""
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "b.csv").write_text("id,at,n,x\nr3,2026-01-01,worse,1\n")
    (tmp_path / "parts" / "a.csv").write_text("id,at,n,x\nr1,2026-01-01,1,1\n"
                                              "r2,2026-01-01,bad,1\n")
    stage = source("s", "parts/*.csv", None, "at", NUMBERS, fmt="csv", snapshot=None)
    loaded = load_source(connect(), stage, tmp_path, "data")
    assert _errors(loaded) == {"n": (["bad", "worse"], ["parts/a.csv line 3",
                                                        "parts/b.csv line 2"])}
    (tmp_path / "z.csv.gz").write_bytes(gzip.compress(b"id,at,n,x\nr1,2026-01-01,x,1\n"))
    loaded = _load(tmp_path, "z.csv.gz", (tmp_path / "z.csv.gz").read_bytes(), NUMBERS)[0]
    assert _errors(loaded) == {"n": (["x"], ["line 2"])}


def test_a_parquet_type_error_names_the_row_index_in_its_file(tmp_path: Path) -> None:
    for name, values in (("p1.parquet", [1.0, 2.5, 3.5]), ("p2.parquet", [4.5])):
        pq.write_table(pa.table({"id": [f"{name}{i}" for i in range(len(values))],
                                 "at": [datetime(2026, 1, 1)] * len(values), "n": values,
                                 "x": values}), tmp_path / name)
    loaded = load_source(connect(), source("s", "p1.parquet", "id", "at", NUMBERS,
                                           snapshot=None), tmp_path, "data")
    assert _errors(loaded) == {"n": (["2.5", "3.5"], ["row index 1", "row index 2"])}
    loaded = load_source(connect(), source("s", "p*.parquet", "id", "at", NUMBERS,
                                           snapshot=None), tmp_path, "data")
    assert _errors(loaded)["n"][1] == ["p1.parquet row index 1", "p1.parquet row index 2",
                                       "p2.parquet row index 0"]


def test_a_query_source_gives_no_place(tmp_path: Path) -> None:
    """A query's rows have no place in a file: no `at`, and the samples sorted."""
    stage = source("s", "", None, "at", NUMBERS, fmt="sql", snapshot=None,
                   query="SELECT * FROM (VALUES ('a', '2026-01-01', 'z', '1'), "
                         "('b', '2026-01-01', 'y', '1')) t(id, \"at\", n, x)")
    loaded = load_source(connect(), stage, tmp_path, "data")
    assert loaded.type_errors == [{"column": "n", "type": "int", "rows": 2,
                                   "values": ["y", "z"]}]


TEAMS = 'team ml { contact "#ml"; role ml }\nteam data { contact "#data"; role data }\n'
PIPELINE = """
pipeline p {
  owner ml
  predicts iid
  image "r.example/x@sha256:""" + "4b1c0f9e2d7a8c6b" * 4 + """"
  on_failure block
  source s {
    owner data; from csv "d.csv"; snapshot latest; entity id; time at
    schema { id: string; at: timestamp; n: int; flag: bool }
  }
  validate s { owner data; require id }
  label y { column flag }
  split by random { test 0.3; seed 3 }
  train m { model "sklearn.linear_model.LogisticRegression"; features [n]; seed 1 }
  evaluate m { owners ml; primary accuracy >= 0.5 }
  register m { owner ml; registry local "reg/" }
}
"""


def test_the_run_report_says_the_line_of_a_bad_value(tmp_path: Path) -> None:
    """End to end: `pipec run` on a csv whose `int` column holds `1_000` and `0x10` stops
    at the validate stage, and its report line names each value with its line."""
    lines = ["id,at,n,flag"] + [f"r{i},2026-01-01T{i % 24:02d}:00:00Z,{i},{i % 2 == 0}"
                                for i in range(40)]
    lines[4], lines[9] = "r3,2026-01-01T03:00:00Z,0x10,false", \
        "r8,2026-01-01T08:00:00Z,1_000,true"
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "p.pipe").write_text(TEAMS + PIPELINE)
    result = run_pipeline(build_manifest(pipec.compile(tmp_path / "p.pipe")), tmp_path,
                          tmp_path)
    assert result.status == "blocked"
    checks = result.report["validation"]["validate.s"]["checks"]
    type_check = next(c for c in checks if c["check"] == "type")
    assert _failure(type_check) == "`n` (int) 2 rows (e.g. 0x10 at line 5, 1_000 at line 10)"


# 3. Inference: blanks are padding for every kind ------------------------------------------
def test_a_padded_true_is_a_bool_as_a_padded_number_is_a_number(tmp_path: Path) -> None:
    """Without a schema ` 5` became an int but ` true` stayed text (pandas does both),
    so a file written `a, b` had numbers and no booleans. Both are now their type (a
    tab is a blank too, as DuckDB's number casts skip it)."""
    loaded, rows = _load(tmp_path, "d.csv", "id,at,b,n\nr1,2026-01-01, true, 5\n"
                         "r2,2026-01-02,False\t,\t6 \n", None)
    assert loaded.type_errors == []
    assert [(r["b"], r["n"]) for r in rows] == [(True, 5), (False, 6)]


# Headers and placeholders that made values silently wrong or stopped with a traceback -----
def test_a_header_name_duckdb_would_give_to_another_column_is_an_error(tmp_path: Path) -> None:
    """DuckDB names a second `x` `x_1`; a real `x_1` column after it became `x_1_1`, so a
    schema's `x_1` read the second `x` column's values. That header is an error now; a
    repeated name alone still reads (`x`, `x_1`), as pandas reads `x`, `x.1`."""
    with pytest.raises(SourceError, match=r"the header of `d.csv` cannot be read as written: "
                       r"DuckDB names the repeated `x` \(column 4\) `x_1`, the name of "
                       r"column 5; rename one of them"):
        _load(tmp_path, "d.csv", "id,at,x,x,x_1\nr1,2026-01-01,1,2,3\n",
              [col("id", "string"), col("at", "timestamp"), col("x_1", "int")])
    with pytest.raises(SourceError, match=r"an unnamed column \(column 3\) `column2`"):
        _load(tmp_path, "e.csv", "id,at,,column2\nr1,2026-01-01,1,2\n", None)
    _loaded, rows = _load(tmp_path, "f.csv", "id,at,x,x\nr1,2026-01-01,1,2\n", None)
    assert [(r["x"], r["x_1"]) for r in rows] == [(1, 2)]


def test_a_last_day_placeholder_time_with_snapshot_latest_is_a_clear_error(
        tmp_path: Path) -> None:
    """A parquet time of 9999-12-31 (a "never" placeholder) made `snapshot latest` that
    day, whose end is past the last date: the source stage failed with Python's
    "OverflowError: date value out of range". It is a source error that says why."""
    pq.write_table(pa.table({"id": ["a", "b"], "at": [datetime(2026, 1, 1),
                                                      datetime(9999, 12, 31, 12)]}),
                   tmp_path / "d.parquet")
    stage = source("s", "d.parquet", "id", "at", [col("id", "string"),
                                                  col("at", "timestamp")])
    with pytest.raises(SourceError, match=r"source 's': `snapshot latest` is the newest 'at', "
                       r"9999-12-31, the last day a date can hold"):
        load_source(connect(), stage, tmp_path, "data")
