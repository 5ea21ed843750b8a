"""Text that marks a missing value (`NA`, `N/A`, `NULL`, ...: pandas' `read_csv` markers)
is a missing value in a column of a number, date, time or bool type, declared or
inferred. R and spreadsheets write a missing number as `NA`: a declared `float` column
with one was a type error (the validate stage stopped the run), and without a schema
the column stayed text, so `range` and feature sums over it failed. In a `string` or
`category` column the markers stay text (`NA` is also Namibia's country code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pipec.stdlib.runtime.csv_types import MISSING_MARKERS
from pipec.stdlib.runtime.db import connect, query_arrow
from pipec.stdlib.runtime.sources import LoadedSource, load_source

from .manifests import col, source

SCHEMA = [col("id", "string"), col("at", "timestamp"), col("n", "int"), col("x", "float"),
          col("d", "date"), col("b", "bool"), col("country", "string"),
          col("kind", "category")]
HEADER = "id,at,n,x,d,b,country,kind\n"


def _load(tmp_path: Path, text: str,
          schema: list[dict[str, Any]] | None) -> tuple[LoadedSource, list[dict[str, Any]]]:
    (tmp_path / "s.csv").write_text(text, "utf-8")
    stage = source("s", "s.csv", "id", "at", schema or [], fmt="csv", snapshot=None)
    if schema is None:
        stage["schema"] = None
    con = connect()
    loaded = load_source(con, stage, tmp_path, "data")
    return loaded, query_arrow(con, "SELECT * FROM data ORDER BY id").to_pylist()


@pytest.mark.parametrize("marker", ["NA", " N/A ", "NULL", "None", "#N/A", "<NA>", "nan"])
def test_a_marker_is_missing_in_typed_columns_and_text_in_string_ones(tmp_path: Path,
                                                                       marker: str) -> None:
    text = (HEADER + "r1,2026-01-01,1,1.5,2026-01-01,true,NZ,a\n"
            + f"r2,2026-01-02,{marker},{marker},{marker},{marker},{marker},{marker}\n")
    loaded, rows = _load(tmp_path, text, SCHEMA)
    assert loaded.type_errors == []
    assert {k: rows[1][k] for k in ("n", "x", "d", "b")} == dict.fromkeys("nxdb")
    assert (rows[1]["country"], rows[1]["kind"]) == (marker, marker)


def test_without_a_schema_a_column_of_numbers_and_markers_is_numeric(tmp_path: Path) -> None:
    text = ("id,at,n,x,country\n"
            "r1,2026-01-01,1,1.5,NA\n"
            "r2,2026-01-02,NA,N/A,NZ\n"
            "r3,2026-01-03,3,2.5,NA\n")
    loaded, rows = _load(tmp_path, text, None)
    assert loaded.type_errors == []
    assert [r["n"] for r in rows] == [1, None, 3]
    assert [r["x"] for r in rows] == [1.5, None, 2.5]
    assert [r["country"] for r in rows] == ["NA", "NZ", "NA"]  # text: a country code


def test_a_column_of_markers_alone_stays_text(tmp_path: Path) -> None:
    """Nothing says what type it holds, as for a column with no value at all."""
    _loaded, rows = _load(tmp_path, "id,at,v\nr1,2026-01-01,NA\nr2,2026-01-02,null\n", None)
    assert [r["v"] for r in rows] == ["NA", "null"]


@pytest.mark.parametrize("value", ["NAN1", "na", "N.A.", "Null value", "'NA'"])
def test_text_that_only_looks_like_a_marker_is_still_a_type_error(tmp_path: Path,
                                                                   value: str) -> None:
    """Matched exactly (blanks around aside), as pandas matches them."""
    text = HEADER + f"r1,2026-01-01,{value},1,2026-01-01,true,NZ,a\n"
    loaded, _rows = _load(tmp_path, text, SCHEMA)
    assert [(e["column"], e["values"]) for e in loaded.type_errors] == [("n", [value])]


def test_a_missing_time_is_a_row_without_a_time(tmp_path: Path) -> None:
    loaded, _rows = _load(tmp_path, HEADER + "r1,NA,1,1,2026-01-01,true,NZ,a\n"
                          "r2,2026-01-02,1,1,2026-01-01,true,NZ,a\n", SCHEMA)
    assert loaded.type_errors == []
    assert loaded.null_time_rows == 1


def test_the_markers_are_pandas_defaults() -> None:
    import pandas._libs.parsers as parsers

    assert set(MISSING_MARKERS) == set(parsers.STR_NA_VALUES) - {""}
