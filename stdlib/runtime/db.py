"""DuckDB connections and SQL quoting shared by every data stage."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

# DuckDB's integer types whose every value is a BIGINT (UBIGINT's upper half is not).
BIGINT_INTEGERS = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT",
                             "UTINYINT", "USMALLINT", "UINTEGER"})


# Every connection `connect` made that is still open, for `interrupt_queries`.
_OPEN: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
_OPEN_LOCK = threading.Lock()


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose session time zone is UTC.

    UTC because casting TIMESTAMPTZ to TIMESTAMP uses the session zone, and the language
    says every date is 00:00 UTC.
    """
    con = duckdb.connect(database=":memory:")
    with _OPEN_LOCK:
        _OPEN.add(con)
    con.execute("SET TimeZone = 'UTC'")
    # The runner draws its own progress; DuckDB's bar would interleave with it.
    con.execute("SET enable_progress_bar = false")
    return con


def interrupt_queries() -> None:
    """Stop the query each open connection runs (from another thread: a stage's
    timeout); it raises in the stage, which `errors.stops_kept` reports as the timeout."""
    with _OPEN_LOCK:
        connections = list(_OPEN)
    for con in connections:
        with contextlib.suppress(duckdb.Error):  # closed meanwhile
            con.interrupt()


def ident(name: str) -> str:
    """Quote an identifier; user column names may be keywords (`time`, `data`)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """Quote a string literal."""
    return "'" + value.replace("'", "''") + "'"


def load_parquet(
    con: duckdb.DuckDBPyConnection, name: str, path: Path, row_id: bool = False
) -> None:
    """Expose a stored parquet artifact as a view.

    With `row_id`, the view carries `__row_id`, the row's position in the file: stored
    datasets are sorted deterministically, so this is a stable row identity that the
    label, feature and join stages agree on without storing an extra column.
    """
    if row_id:
        sql = (
            f"SELECT * EXCLUDE (file_row_number), file_row_number AS __row_id "
            f"FROM read_parquet({literal(str(path))}, file_row_number = true)"
        )
    else:
        sql = f"SELECT * FROM read_parquet({literal(str(path))})"
    con.execute(f"CREATE OR REPLACE VIEW {ident(name)} AS {sql}")


def query_arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """A query's result as an arrow table, on DuckDB 1.x and 2.x alike."""
    rel = con.sql(sql)
    to_table = getattr(rel, "to_arrow_table", None) or rel.fetch_arrow_table
    return to_table()


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """The first value of a query, fetching the whole result: DuckDB 2 refuses new work
    on a connection while a result is only partly fetched."""
    return con.execute(sql).fetchall()[0][0]


# DuckDB's hash aggregation partitions what it collects (so each part stays in the CPU
# cache while it is combined) only when it runs three threads or more. With one or two,
# as on a small machine or CI runner, an aggregation over millions of distinct keys
# builds one table far larger than the cache and takes twice the CPU: the `unique`
# check over 10M keys took 0.72 s on 2 cores with 2 threads, 0.36 s with 3.
PARTITIONED_AGGREGATION_THREADS = 3


@contextmanager
def partitioned_aggregation(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the enclosed high-cardinality aggregation with at least
    PARTITIONED_AGGREGATION_THREADS threads (only that query: with few groups the
    extra threads cost a little instead)."""
    threads = int(scalar(con, "SELECT current_setting('threads')"))
    if threads >= PARTITIONED_AGGREGATION_THREADS:
        yield
        return
    con.execute(f"SET threads = {PARTITIONED_AGGREGATION_THREADS}")
    try:
        yield
    finally:
        con.execute(f"SET threads = {threads}")

