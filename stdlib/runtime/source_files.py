"""Where a source's rows are in its local files, read as DuckDB reads them: a csv line
as an editor numbers it (the header is line 1), a parquet row index (from 0). The run
report names them beside a bad value or a ragged row, so a user can open the file there.
Whatever cannot be read here as DuckDB read it (a remote or zstd file, a csv the Python
reader parses otherwise) gives no place, never a wrong one."""

from __future__ import annotations

import bisect
import csv
import gzip
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import duckdb

from .db import literal
from .paths import local_path, resolve_path


def is_pattern(path: str) -> bool:
    return any(c in path for c in "*?[")


def open_csv(file: str) -> IO[bytes] | None:
    """The file as DuckDB reads it, uncompressed (None: remote or zstd, which only DuckDB
    opens)."""
    if "://" in file or file.endswith(".zst"):
        return None
    return gzip.open(file) if file.endswith(".gz") else open(file, "rb")


def line_of_record(file: str, record: int) -> int:
    """The line (as an editor numbers them) where the `record`th record of a CSV starts;
    `record` itself when the file cannot be read here."""
    with _csv_reader(file) as reader:
        if reader is None:
            return record
        try:
            for _ in range(record - 1):
                next(reader)
        except (StopIteration, csv.Error):  # read unlike DuckDB: keep DuckDB's number
            return record
        return reader.line_num + 1


@contextmanager
def _csv_reader(file: str) -> Iterator[Any]:
    """A `csv.reader` over a local file's records as DuckDB reads them (a BOM dropped, a
    `.gz` file uncompressed); None for a file only DuckDB opens."""
    opened = open_csv(file) if Path(file).is_file() else None
    if opened is None:
        yield None
        return
    with io.TextIOWrapper(opened, encoding="utf-8-sig", errors="replace", newline="") as text:
        yield csv.reader(text)


# (column, [(value, rowid in __raw)]) -> where each value is in the source's file(s), in
# its order (None: not known).
Locate = Callable[[str, list[tuple[str, int]]], list[str] | None]


def locator(con: duckdb.DuckDBPyConnection, stage: dict[str, Any],
            base_dir: Path) -> Locate | None:
    """Where a row of `__raw` is in the source's local file(s): a csv line as an editor
    numbers it (the header is line 1), a parquet row index (from 0). None for a query or
    a remote file."""
    if stage["format"] not in ("csv", "parquet"):
        return None
    if "://" in stage["path"]:
        return None
    files = [str(local_path(stage["path"], base_dir))]
    if is_pattern(stage["path"]):  # in DuckDB's order, the order of the rows in __raw
        pattern = literal(resolve_path(stage["path"], base_dir))
        files = [r[0] for r in con.execute(f"SELECT file FROM glob({pattern})").fetchall()]

    def label(file: str, where: str) -> str:
        return where if len(files) == 1 else f"{shown_path(file, base_dir)} {where}"

    if stage["format"] == "parquet":
        return lambda _column, rows: _parquet_places(files, rows, label)
    columns = con.table("__raw").columns
    return lambda column, rows: _csv_places(files, columns.index(column), rows, label)


def shown_path(file: str, base_dir: Path) -> str:
    """A file a glob matched, as the user would name it: from the .pipe file's folder."""
    try:
        return Path(file).resolve().relative_to(base_dir.resolve()).as_posix()
    except ValueError:
        return file


def _csv_places(files: list[str], column: int, rows: list[tuple[str, int]],
                label: Callable[[str, str], str]) -> list[str] | None:
    """`line N` of each (value, rowid) of `rows`, reading the files as DuckDB did; None
    when a record there does not hold the value DuckDB read (a file read otherwise
    here), so a wrong line is never named."""
    wanted = {rowid: value for value, rowid in rows}
    found: dict[int, str] = {}
    rowid = 0
    for file in files:
        for line, record in _data_records(file):
            if rowid in wanted:
                if column >= len(record) or record[column] != wanted[rowid]:
                    return None
                found[rowid] = label(file, f"line {line}")
                if len(found) == len(wanted):
                    return [found[r] for _v, r in rows]
            rowid += 1
    return None


def _data_records(file: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each record after a csv file's header, as DuckDB reads
    them: a blank line is no record (DuckDB skips it), but in a file of one column it is
    one (a NULL). Nothing when the file cannot be read here."""
    with _csv_reader(file) as reader:
        if reader is None:
            return
        try:
            width = len(next(reader, []))
            end = reader.line_num
            for record in reader:
                start, end = end + 1, reader.line_num
                if record or width == 1:
                    yield start, record
        except csv.Error:  # read unlike DuckDB: the caller names no line
            return


def _parquet_places(files: list[str], rows: list[tuple[str, int]],
                    label: Callable[[str, str], str]) -> list[str] | None:
    """`row index N` (from 0, in its file) of each (value, rowid) of `rows` (None: a file
    of several that pyarrow cannot open, whose row count is then unknown)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    starts = [0]
    try:
        for file in files if len(files) > 1 else []:
            starts.append(starts[-1] + pq.read_metadata(file).num_rows)
    except (OSError, pa.ArrowException):
        return None
    places = []
    for _value, rowid in rows:
        i = bisect.bisect_right(starts, rowid) - 1
        places.append(label(files[i], f"row index {rowid - starts[i]}"))
    return places
