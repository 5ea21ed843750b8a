"""Load a source stage into DuckDB: read, type, snapshot, sort.

- `csv` is read as all-VARCHAR and cast here, so a bad value is reported with its raw
  text instead of making DuckDB's sniffer pick a different type for the whole column.
  Its dialect is RFC 4180 (comma, `"` quotes), fixed rather than sniffed, so a ragged row
  is an error naming its line instead of a file read as one column.
- `parquet` keeps its own types and is cast to the declared ones.
- `sql` is a DuckDB query; its relative file paths resolve against the manifest's base
  dir through DuckDB's `file_search_path`.

Casting uses TRY_CAST: a value that does not fit its declared type becomes NULL in the
dataset and is counted in the type report that the validate stage turns into its
`type` check (under the validate stage's policy: `block` stops the run, `warn` keeps
the NULLs). The report gives the first few bad values of a column in the file's order,
each with where it first is: the line of a csv file (the header is line 1), the row
index of a parquet file (from 0). Text is cast only when written in a notation of its
type (csv_types.py).
Text that marks a missing value (`NA`, `N/A`, `NULL`, ..., pandas' markers; see
csv_types.py) is a missing value in a column of any type but `string` and `category`,
not a type error.
A float NaN (parquet NaN, CSV `NaN`) is a missing value, as in pandas: it becomes NULL
(not a type error), so `require`, `completeness`, `range`, labels and features all see
it as missing. Left as NaN it would pass `range x >= 0` (SQL orders NaN above every
number), make `when x > 15` true and stop every feature sum (no DECIMAL holds NaN).
Declared columns that are absent are not invented; the `schema` check reports them.
Undeclared columns are kept after the declared ones.

`snapshot DATE` keeps rows with time < DATE + 1d; `snapshot latest` is the UTC date of the
newest time value. Rows with a NULL time are never inside a snapshot; they are counted.
The stored dataset is sorted by every column, so its bytes, and therefore its content
hash, do not depend on the order of rows in the user's files.
"""

from __future__ import annotations

import csv
import glob
import io
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

import duckdb

from .csv_types import inferred_types, missing_marked, unpadded, written_as
from .dates import snapshot_end, sql_us, to_us
from .db import BIGINT_INTEGERS, ident, literal
from .errors import SourceError
from .paths import local_path, resolve_path
from .source_files import Locate, is_pattern, line_of_record, locator, open_csv, shown_path

SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "category": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
_SAMPLE = 5
_INTEGERS = BIGINT_INTEGERS
# Declared type -> types read from a file whose every value converts to it (no value
# can be a type error), so the value is cast without a check.
_CONVERTS_EXACTLY: dict[str, frozenset[str]] = {
    "int": _INTEGERS,
    "float": _INTEGERS | {"FLOAT"},
    "timestamp": frozenset({"DATE"}),
}


@dataclass(frozen=True, slots=True)
class LoadedSource:
    """What loading a source learned, besides the table itself."""

    snapshot: date | None
    row_count: int
    null_time_rows: int
    missing_columns: list[str] = field(default_factory=list)
    type_errors: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "snapshot": self.snapshot.isoformat() if self.snapshot else None,
            "row_count": self.row_count,
            "null_time_rows": self.null_time_rows,
            "missing_columns": self.missing_columns,
            "type_errors": self.type_errors,
        }


def load_source(
    con: duckdb.DuckDBPyConnection, stage: dict[str, Any], base_dir: Path, table: str
) -> LoadedSource:
    """Create table `table` holding the typed, snapshotted, sorted rows of `stage`."""
    declared, missing = _read_typed(con, stage, base_dir)
    time_col = stage.get("time")
    snapshot = resolve_snapshot(con, "__typed", time_col, stage.get("snapshot"), stage["name"])
    type_errors = _type_errors(con, declared, _before_snapshot(declared, time_col, snapshot),
                               locator(con, stage, base_dir))
    null_time = _apply_snapshot(con, table, time_col, snapshot)
    rows = con.execute(f"SELECT count(*) FROM {ident(table)}").fetchall()[0][0]
    if rows == 0 and snapshot is not None and time_col is not None:
        _all_after_the_snapshot(con, stage["name"], time_col, snapshot)
    return LoadedSource(snapshot, rows, null_time, missing, type_errors)


def _all_after_the_snapshot(con: duckdb.DuckDBPyConnection, source: str, time_col: str,
                            snapshot: date) -> None:
    """Stop the stage when the snapshot leaves out every row the data has: a date before
    the data starts (a typo in the year, say) passed every check on zero rows, and the
    run stopped at the train stage with "no labelled rows", or trained on labels that
    were all negative, never saying why."""
    first, last = con.execute(
        f"SELECT min({ident(time_col)})::DATE, max({ident(time_col)})::DATE FROM __typed"
    ).fetchall()[0]
    if first is None:  # no row, or no row with a time: nothing the snapshot left out
        return
    raise SourceError(
        f"source {source!r}: `snapshot {snapshot}` keeps no row: every {time_col!r} is "
        f"later (the data spans {first} to {last}); give a snapshot date on or after "
        f"{first}, or `snapshot latest`")


def newest_date(con: duckdb.DuckDBPyConnection, stage: dict[str, Any],
                base_dir: Path) -> date | None:
    """What `snapshot latest` resolves to, read as `load_source` reads it (None: no time,
    or no rows): `pipec build --resolve` checks the rules with it."""
    _read_typed(con, stage, base_dir)
    return resolve_snapshot(con, "__typed", stage.get("time"), "latest", stage["name"])


def _read_typed(con: duckdb.DuckDBPyConnection, stage: dict[str, Any],
                base_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Temp tables `__raw` (as read) and `__typed` (declared columns cast); returns the
    declared columns present, each with its type as read (`raw`), and the names of
    those missing."""
    _create_raw(con, stage, base_dir)
    raw = con.table("__raw")
    raw_types = {name: str(kind) for name, kind in zip(raw.columns, raw.dtypes, strict=True)}
    present = set(raw_types)
    schema = stage["schema"] or _undeclared_schema(con, stage, raw_types)
    declared = [c | {"raw": raw_types[c["name"]]} for c in schema if c["name"] in present]
    missing = [c["name"] for c in schema if c["name"] not in present]
    time_col = stage.get("time")
    if time_col and time_col not in present:
        raise SourceError(f"source {stage['name']!r}: time column {time_col!r} is missing")
    names = {d["name"] for d in schema}
    extra = {c: k for c, k in raw_types.items() if c not in names}
    _create_typed(con, declared, extra, _whole_decimals(con, extra))
    return declared, missing


def _undeclared_schema(con: duckdb.DuckDBPyConnection, stage: dict[str, Any],
                       raw_types: dict[str, str]) -> list[dict[str, Any]]:
    """The schema of a source that declares none. A csv file's columns are text: each
    gets the type its values have (csv_types.py), in the file's order. Other formats
    keep their own types, but a `time` column that is not a microsecond time (epoch
    seconds, ISO text, nanoseconds) is a `timestamp` as a declared one would be: cast
    to UTC, a value that is no time a type error, nanoseconds floored. Kept as read, a
    BIGINT time stopped the source stage with DuckDB's "Unimplemented type for cast
    (BIGINT -> TIMESTAMP)", and the snapshot's rounding cast dropped an event at
    23:59:59.9999999 of the snapshot day."""
    if stage["format"] == "csv":
        return _csv_schema(con, stage, raw_types)
    time_col = stage.get("time")
    kind = raw_types.get(time_col or "", "TIMESTAMP")
    if kind not in _NANOSECOND_TIMES and (kind == "DATE" or kind.startswith("TIMESTAMP")):
        return []
    return [{"name": time_col, "type": "timestamp"}]


def _csv_schema(con: duckdb.DuckDBPyConnection, stage: dict[str, Any],
                raw_types: dict[str, str]) -> list[dict[str, Any]]:
    """Each column of a csv source's file with the type its text has (csv_types.py)."""
    text = [name for name, kind in raw_types.items() if kind == "VARCHAR"]
    kinds = inferred_types(con, "__raw", text, lambda col, kind: _cast(col, kind, "VARCHAR"),
                           stage.get("time"), stage.get("entity"))
    return [{"name": name, "type": kind} for name, kind in kinds.items()]


def _create_raw(con: duckdb.DuckDBPyConnection, stage: dict[str, Any], base_dir: Path) -> None:
    fmt = stage["format"]
    if fmt == "sql":
        # Relative paths inside the user's query resolve against the base dir.
        con.execute(f"SET file_search_path = {literal(str(base_dir))}")
        body = _one_select(stage)
    else:
        path = resolve_path(stage["path"], base_dir)
        _require_file(stage, base_dir)
        if fmt == "csv":
            body = f"SELECT * FROM {_csv_reader(con, stage, path, base_dir)}"
        elif fmt == "parquet":
            body = f"SELECT * FROM read_parquet({literal(path)})"
        else:
            raise SourceError(f"source {stage['name']!r}: unknown format {fmt!r}")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE __raw AS {body}")
    except duckdb.Error as exc:
        ragged = _ragged_row(stage, str(exc)) if fmt == "csv" else None
        if ragged:
            raise SourceError(f"source {stage['name']!r}: {ragged}") from exc
        # The first paragraph says what is wrong; the rest quotes our own wrapping SQL
        # (`CREATE ... TABLE __raw AS`) with a caret, which no user wrote.
        why = str(exc).split("\n\n", 1)[0]
        raise SourceError(f"source {stage['name']!r}: cannot read: {why}") from exc


def _one_select(stage: dict[str, Any]) -> str:
    """A sql source's query, once it is known to be one SELECT (a `WITH`, `FROM t` or
    `VALUES` is one too). It is run as `CREATE TABLE __raw AS <query>`, where a second
    statement ran as well: `...; COPY (...) TO 'file'` wrote a file, `...; ATTACH` opened
    a database, side effects no source may have, which neither the cache nor lineage
    sees."""
    try:
        statements = duckdb.extract_statements(stage["query"])
    except duckdb.Error as exc:
        why = str(exc).split("\n\n", 1)[0]
        raise SourceError(f"source {stage['name']!r}: cannot read: {why}") from exc
    kinds = [statement.type.name for statement in statements]
    if kinds != ["SELECT"]:
        found = ", then ".join(kinds) if kinds else "no statement at all"
        raise SourceError(
            f"source {stage['name']!r}: a `sql` source is one SELECT query, and this one is "
            f"{found}: a source only reads (write files or tables in a stage of their own)")
    return stage["query"]


# RFC 4180. Given to DuckDB rather than sniffed: sniffing a file with one ragged row
# fails on every comma dialect and falls back to one `|`-separated column, so the error
# was a missing time column instead of the row. Every value is text (cast later).
_CSV_DIALECT = "header = true, delim = ',', quote = '\"', escape = '\"', all_varchar = true"
_MAX_HEADER_BYTES = 1 << 20


def _csv_reader(con: duckdb.DuckDBPyConnection, stage: dict[str, Any], path: str,
                base_dir: Path) -> str:
    """SQL table function reading a csv source. Without sniffing DuckDB must be told the
    columns; a file it alone can open (remote, zstd) is sniffed, with the dialect fixed."""
    names = _csv_header(con, stage, path, base_dir)
    if names is None:
        return f"read_csv({literal(path)}, {_CSV_DIALECT})"
    columns = ", ".join(f"{literal(name)}: 'VARCHAR'" for name in names)
    return (f"read_csv({literal(path)}, {_CSV_DIALECT}, auto_detect = false, "
            f"columns = {{{columns}}})")


def _csv_header(con: duckdb.DuckDBPyConnection, stage: dict[str, Any],
                path: str, base_dir: Path) -> list[str] | None:
    """The column names of the header of `path` (of the first file with one that a glob
    matches; every other file must have the same, `_refuse_other_headers`), as
    DuckDB's sniffer names them (trimmed, `a_1` for a second `a`, `column1` for an empty
    one): it sniffs a copy of the header record alone. None: a file only DuckDB opens."""
    files = sorted(glob.glob(path, recursive=True)) if is_pattern(path) else [path]
    found = _first_header(files)
    if found is None:
        return None
    files, record = found
    if not record.strip():
        raise SourceError(f"source {stage['name']!r}: `{stage['path']}` is empty; a csv "
                          f"source starts with a header line")
    with tempfile.TemporaryDirectory() as tmp:
        header = Path(tmp) / "header.csv"
        header.write_bytes(record)
        read = f"SELECT * FROM read_csv({literal(str(header))}, {_CSV_DIALECT}) LIMIT 0"
        names = [column[0] for column in con.execute(read).description]
    _refuse_renamed(stage, record, names)
    _refuse_other_headers(stage, files, base_dir, record)
    return names


def _first_header(files: list[str]) -> tuple[list[str], bytes] | None:
    """The files from the first with a header on, and that header record (blank when
    every file is empty). An empty file a glob matches holds no rows (an export's empty
    part), and was taken for the header of all: `part-0000.csv` empty made the whole
    source "empty". None: the first file with a header is one only DuckDB opens."""
    for i, file in enumerate(files):
        opened = open_csv(file)
        if opened is None:
            return None
        with opened:
            record = _header_record(opened)
        if record.strip():
            return files[i:], record
    return (files, b"") if files else None


def _refuse_other_headers(stage: dict[str, Any], files: list[str], base_dir: Path,
                          record: bytes) -> None:
    """Every file a glob matches must have the first file's header. The columns are
    named from the first file and DuckDB then reads every file by position: a file with
    the same columns in another order (`c,v,ts,user` after `user,ts,v,c`) had its `c`
    values read as `user`, silently when the types agree. An error, not a guess."""
    first = _header_names(record)
    for file in files[1:]:
        opened = open_csv(file)
        if opened is None:
            continue  # a file only DuckDB opens: its header cannot be compared here
        with opened:
            other = _header_record(opened)
        if other == record or not other.strip() or _folded(_header_names(other)) == _folded(first):
            continue  # the same names (DuckDB's are caseless), or an empty file: no rows
        raise SourceError(
            f"source {stage['name']!r}: the files of `{stage['path']}` have different "
            f"headers: `{shown_path(files[0], base_dir)}` has {', '.join(first) or 'none'}, "
            f"`{shown_path(file, base_dir)}` has {', '.join(_header_names(other)) or 'none'}; "
            f"columns are read by position, so write every file with the same columns in "
            f"the same order")


def _folded(names: list[str]) -> list[str]:
    return [name.casefold() for name in names]


def _header_names(record: bytes) -> list[str]:
    """A header record's names as written (a BOM and blanks around a name dropped)."""
    text = record.decode("utf-8-sig", "replace")
    return [name.strip() for name in next(csv.reader(io.StringIO(text, newline="")), [])]


def _refuse_renamed(stage: dict[str, Any], record: bytes, names: list[str]) -> None:
    """DuckDB renames a repeated column name (the second `x` is `x_1`; names differing in
    case only are the same name) and an empty one (`column2`). A header column with such
    a name (a real `x_1`) was then renamed too (`x_1_1`), and its name read the other
    column: a schema's `x_1` silently got the second `x`'s values. That is an error."""
    header = next(csv.reader(io.StringIO(record.decode("utf-8-sig", "replace"), newline="")),
                  [])
    if len(header) != len(names):
        return
    repeated = Counter(name.strip().casefold() for name in header)
    for i, (written, read) in enumerate(zip(header, names, strict=True)):
        name = written.strip()
        if not name or read == name or repeated[name.casefold()] > 1:
            continue  # as written, or a repeated name renamed, which nothing else had
        taker = next((j for j, other in enumerate(names) if other == name), None)
        if taker is not None:
            who = f"the repeated `{header[taker].strip()}`" if header[taker].strip() \
                else "an unnamed column"
            raise SourceError(
                f"source {stage['name']!r}: the header of `{stage['path']}` cannot be read as "
                f"written: DuckDB names {who} (column {taker + 1}) `{name}`, the name of "
                f"column {i + 1}; rename one of them")


def _header_record(lines: IO[bytes]) -> bytes:
    """The first record of a CSV: its first line, and the next ones while a quote is
    open (a quoted name may hold a line break; a `""` inside keeps the count even)."""
    record = b""
    for line in lines:
        record += line
        if record.count(b'"') % 2 == 0 or len(record) > _MAX_HEADER_BYTES:
            break
    return record


# DuckDB's error for a row whose field count is not the header's. Its line is the
# record's number (a quoted line break does not count), header included.
_WRONG_FIELD_COUNT = re.compile(
    r"CSV Error on Line: (\d+).*?Expected Number of Columns: (\d+) Found: (\d+)", re.S)
_ERROR_FILE = re.compile(r"^\s*file = (.+)$", re.M)


def _ragged_row(stage: dict[str, Any], error: str) -> str | None:
    """`data.csv line 11 has 18 fields, the header has 19`, from DuckDB's error (None:
    the error is not about a ragged row)."""
    found = _WRONG_FIELD_COUNT.search(error)
    if found is None:
        return None
    record, expected, fields = (int(n) for n in found.groups())
    file = _ERROR_FILE.search(error)
    shown = file[1] if file and is_pattern(stage["path"]) else stage["path"]
    line = line_of_record(file[1], record) if file else record
    return f"{shown} line {line} has {fields} fields, the header has {expected}"


def _require_file(stage: dict[str, Any], base_dir: Path) -> None:
    """A plain local path that is not there: say so, rather than DuckDB's error about a
    pattern matching no file (with the SQL around it). URLs and the user's globs go to
    DuckDB (a `[` of the project's folder is no glob)."""
    if "://" in stage["path"] or is_pattern(stage["path"]):
        return
    path = local_path(stage["path"], base_dir)
    if not path.is_file():
        raise SourceError(f"source {stage['name']!r}: `{stage['path']}` does not exist "
                          f"(looked for {path})")


def _before_snapshot(declared: list[dict[str, Any]], time_col: str | None,
                     snapshot: date | None) -> str:
    """SQL over `__raw`: the row is not known to be after the snapshot. Rows after it are
    never read, so their values cannot fail the type check; a row whose time does not
    parse is kept, since its time column is itself a type error to report."""
    if time_col is None or snapshot is None:
        return "TRUE"
    column = next((c for c in declared if c["name"] == time_col), None)
    time = _cast(ident(time_col), column["type"], column["raw"]) if column else ident(time_col)
    return f"NOT coalesce({sql_us(time)} >= {to_us(snapshot_end(snapshot))}, FALSE)"


def _type_errors(
    con: duckdb.DuckDBPyConnection, declared: list[dict[str, Any]], where: str = "TRUE",
    locate: Locate | None = None,
) -> list[dict[str, Any]]:
    """Per declared column whose non-NULL values do not all cast to the declared type:
    the rows (of those `where` keeps) that fail, with samples. One scan counts every
    column that can fail (`where` evaluated once per row, not once per column); samples
    are fetched only for a column that failed. With `locate` (a file source) the samples
    are the first bad values in the file's order, and `at` says where each first is
    (`line 12`); else the first in sort order."""
    bad = {c["name"]: b for c in declared if (b := _uncastable(c)) is not None}
    if not bad:
        return []
    failing = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {b})" for b in bad.values())
        + f" FROM __raw WHERE {where}"
    ).fetchall()[0]
    counts = dict(zip(bad, failing, strict=True))
    errors = []
    for column in declared:
        count = counts.get(column["name"], 0)
        if not count:
            continue
        col = ident(column["name"])
        # A table made from a file keeps its rows in the file's order: rowid is a position.
        # Grouped and ordered by position: an alias (`v`) loses to a column of that name,
        # and a source with a column `v` stopped on DuckDB's Binder Error instead.
        samples = con.execute(
            f"SELECT CAST({col} AS VARCHAR), min(rowid) FROM __raw "
            f"WHERE ({where}) AND ({bad[column['name']]}) GROUP BY 1 "
            f"ORDER BY {2 if locate else 1} LIMIT {_SAMPLE}"
        ).fetchall()
        error = {"column": column["name"], "type": column["type"], "rows": count,
                 "values": [s[0] for s in samples]}
        if locate is not None and (at := locate(column["name"], samples)):
            error["at"] = at
        errors.append(error)
    return errors


def _cast(col: str, kind: str, raw: str | None = None) -> str:
    """SQL: `col` (read as type `raw`) as the declared type, NULL where it is not
    exactly that type.

    - read as the declared type already, or as one whose every value converts (an
      INTEGER column declared `int`): no TRY_CAST, which costs a time-zone conversion
      per timestamp and cannot fail here.
    - timestamp: through TIMESTAMPTZ, so a text value with a UTC offset
      (`2024-02-29T22:00:00-05:00`) becomes its UTC instant (03:00 the next day) rather
      than keeping its wall clock; one without an offset is read as UTC, as before.
    - date: the UTC instant, when it is 00:00 of its day (see `_utc_date`).
    - int: only a whole number; `2.5` or `"1.5"` is a type error, not a rounded 2.
    - bool: `true`/`false`, `t`/`f`, `yes`/`no`, `y`/`n`, `1`/`0` in any case (DuckDB's
      spellings, the ones databases export), blanks around it allowed as around a
      number; anything else is a type error.
    - text (VARCHAR): only in a notation of the type (`csv_types.written_as`), so
      `1_000` or `0x10` is a type error rather than DuckDB's 1000 or 16.
    """
    target = SQL_TYPES[kind]
    if raw == target:
        return col
    if _always_converts(kind, raw):
        return f"CAST({col} AS {target})"
    value = _checked_cast(col, kind, raw)
    written = written_as(col, kind) if raw == "VARCHAR" else None
    return value if written is None else f"CASE WHEN {written} THEN {value} END"


def _checked_cast(col: str, kind: str, raw: str | None) -> str:
    """SQL: `col` as the declared type, NULL where DuckDB's cast cannot make it one."""
    if kind == "timestamp":
        return _utc_instant(col, raw)
    if kind == "date":
        return _utc_date(col, raw)
    if kind == "int":
        whole = f"TRY_CAST({col} AS BIGINT)"
        return f"CASE WHEN TRY_CAST({col} AS DOUBLE) = {whole} THEN {whole} END"
    if kind == "bool" and raw == "VARCHAR":
        # DuckDB reads ` 5` as 5 and ` 2026-01-01` as a date, but ` true` as no bool.
        return f"TRY_CAST({unpadded(col)} AS BOOLEAN)"
    return f"TRY_CAST({col} AS {SQL_TYPES[kind]})"


# Nanosecond times (pandas writes them to parquet): DuckDB's casts to microseconds round,
# so 23:59:59.9999999 became 00:00 the next day, a time the event had not reached.
_NANOSECOND_TIMES = frozenset({"TIMESTAMP_NS", "TIMESTAMPTZ_NS"})


def _utc_instant(col: str, raw: str | None = None) -> str:
    """SQL: the value as a UTC TIMESTAMP, its offset applied (none: read as UTC); a
    nanosecond time cut down to its microsecond (floored, before 1970 too)."""
    if raw in _NANOSECOND_TIMES:
        ns = f"epoch_ns({col})"
        return f"make_timestamp(({ns} - ({ns} % 1000 + 1000) % 1000) // 1000)"
    return f"TRY_CAST(TRY_CAST({col} AS TIMESTAMPTZ) AS TIMESTAMP)"


def _utc_date(col: str, raw: str | None) -> str:
    """SQL: the value as a DATE when it is 00:00 UTC of a day, NULL (a type error) when it
    has another time of day. A date means 00:00 UTC (language.md), so
    `2013-01-01T19:00:00-05:00` is 2013-01-02, as the same instant in a tz-aware parquet
    column is; a plain cast kept the text's wall-clock day and dropped any time, as a
    rounded `2.5` would be for an int."""
    # A DATE cast allows blanks around a date; a TIMESTAMPTZ cast does not after one.
    instant = _utc_instant(f"trim({col})" if raw == "VARCHAR" else col, raw)
    return (f"CASE WHEN {instant} = date_trunc('day', {instant}) "
            f"THEN CAST({instant} AS DATE) END")


def _always_converts(kind: str, raw: str | None) -> bool:
    """Every value of a column read as `raw` is a value of the declared type."""
    return raw == SQL_TYPES[kind] or raw in _CONVERTS_EXACTLY.get(kind, ())


def _uncastable(column: dict[str, Any]) -> str | None:
    """SQL: this row's value is not of the column's declared type (None: none can fail)."""
    kind, raw = column["type"], column["raw"]
    if _always_converts(kind, raw):
        return None
    col = _read_value(column)
    return f"{col} IS NOT NULL AND {_cast(col, kind, raw)} IS NULL"


def _read_value(column: dict[str, Any]) -> str:
    """SQL of a declared column's value as read, a float NaN, and the text marking a
    missing value in a column of neither text type, being a missing value."""
    col = ident(column["name"])
    if column["raw"] in _FLOATS:
        return _missing_nan(col)
    if column["raw"] == "VARCHAR" and column["type"] not in _TEXT_TYPES:
        return missing_marked(col)
    return col


_FLOATS = frozenset({"FLOAT", "DOUBLE"})
_TEXT_TYPES = frozenset({"string", "category"})


def _missing_nan(expr: str) -> str:
    """A float expression with NaN as NULL (DuckDB compares NaN equal to NaN)."""
    return f"nullif({expr}, 'NaN'::DOUBLE)"


def _create_typed(
    con: duckdb.DuckDBPyConnection, declared: list[dict[str, Any]], extra: dict[str, str],
    whole: frozenset[str],
) -> None:
    """`__typed`: the declared columns cast, then the undeclared ones (name -> type as
    read) as they are, the DECIMAL columns in `whole` as ints; in both, a float NaN is
    NULL."""
    casts = []
    for c in declared:
        value = _cast(_read_value(c), c["type"], c["raw"])
        if c["type"] == "float" and c["raw"] not in _FLOATS:  # text `NaN` cast to a float
            value = _missing_nan(value)
        casts.append(f"{value} AS {ident(c['name'])}")
    kept = [f"{_undeclared_value(ident(c), kind, c in whole)} AS {ident(c)}"
            for c, kind in extra.items()]
    cols = ", ".join(casts + kept) or "*"
    con.execute(f"CREATE OR REPLACE TEMP TABLE __typed AS SELECT {cols} FROM __raw")


# DECIMAL(p, s) as parquet and DuckDB write it: not one of the language's types.
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def _undeclared_value(col: str, kind: str, whole: bool) -> str:
    """SQL of an undeclared column's value as the dataset keeps it: its type as read, but
    a float NaN is NULL and a DECIMAL is a number of the language. A decimal reached the
    model as Python `Decimal` objects, which it took for a category (and whose stored
    model the allow-list then refused): a `whole` one (see `_whole_decimals`) is an
    `int`, any other a `float`, as a declared type would make it."""
    if kind in _FLOATS:
        return _missing_nan(col)
    if _DECIMAL.fullmatch(kind) is None:
        return col
    return f"CAST({col} AS {'BIGINT' if whole else 'DOUBLE'})"


def _whole_decimals(con: duckdb.DuckDBPyConnection, extra: dict[str, str]) -> frozenset[str]:
    """The undeclared DECIMAL columns with no fraction (scale 0) whose every value a
    BIGINT holds: those of 18 digits or fewer, and wider ones whose values fit (one scan).
    Warehouses write whole numbers as DECIMAL(38, 0) (Snowflake's NUMBER, an integer sum
    in Spark): as floats, ids past 2**53 that differ in their last digit became one."""
    decimals = {c: _DECIMAL.fullmatch(k) for c, k in extra.items()}
    whole = {c: int(m[1]) for c, m in decimals.items() if m is not None and m[2] == "0"}
    wide = sorted(c for c, precision in whole.items() if precision > 18)
    if not wide:
        return frozenset(whole)
    counts = con.execute("SELECT " + ", ".join(
        f"count(*) FILTER (WHERE {ident(c)} IS NOT NULL AND TRY_CAST({ident(c)} AS BIGINT) "
        "IS NULL)" for c in wide) + " FROM __raw").fetchall()[0]
    overflowing = {c for c, bad in zip(wide, counts, strict=True) if bad}
    return frozenset(c for c in whole if c not in overflowing)


def resolve_snapshot(
    con: duckdb.DuckDBPyConnection, table: str, time_col: str | None, declared: str | None,
    source: str = "",
) -> date | None:
    """`latest` → UTC date of the newest time value; a date string → that date."""
    if declared is None or time_col is None:
        return None
    if declared != "latest":
        return date.fromisoformat(declared)
    newest = con.execute(
        f"SELECT max(CAST({ident(time_col)} AS TIMESTAMP))::DATE FROM {ident(table)}"
    ).fetchall()[0][0]
    if newest == date.max:
        # A snapshot ends the day after its date, which no date holds: this stopped the
        # run with Python's "OverflowError: date value out of range".
        raise SourceError(f"source {source!r}: `snapshot latest` is the newest {time_col!r}, "
                          f"{newest}, the last day a date can hold: a placeholder rather "
                          f"than an event time? Leave it empty, or give `snapshot` a date")
    return newest


def _apply_snapshot(
    con: duckdb.DuckDBPyConnection, table: str, time_col: str | None, snapshot: date | None
) -> int:
    """Materialise the sorted snapshot; return how many rows had a NULL time."""
    where = "TRUE"
    null_time = 0
    if time_col is not None:
        t = ident(time_col)
        null_time = con.execute(f"SELECT count(*) FROM __typed WHERE {t} IS NULL").fetchall()[0][0]
        where = f"{t} IS NOT NULL"
        if snapshot is not None:
            where += f" AND {sql_us(t)} < {to_us(snapshot_end(snapshot))}"
    con.execute(
        f"CREATE OR REPLACE TABLE {ident(table)} AS "
        f"SELECT * FROM __typed WHERE {where} ORDER BY ALL"
    )
    return null_time
