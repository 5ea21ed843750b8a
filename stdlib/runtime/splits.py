"""Train / test / valid assignment.

Every hash-based assignment uses one documented, stable hash, independent of DuckDB's
version, of the row order and of every other row:

    u = int(md5(f"{seed}:{key}").hexdigest()[:13], 16) / 16**13      # u in [0, 1)

`key` is the VARCHAR text of the `on` column (entity, group), or for `random` the row's
identity: the identity columns (the base source's columns, by name) joined by U+001F with
NULL as U+0000. A NULL entity or group key hashes as the empty string. Values that are
equal but spelled apart (`-0.0` and `0.0`, `-nan` and `nan`) hash as one, so that equal
keys (and equal rows) share a side.
`u < test` → test; `u < test + valid` → valid; else train.

`time`: train `t < before`, test `t >= from` (and `t < until`), rows between (and rows
with no time) are dropped: their side is NULL. `from` defaults to `before + gap`.
`market`: rows whose `on` value is in `holdout` are test (see `holdout_sql`).
For `time` and `market` an optional `valid` share is carved out of the train side by the
row-identity hash. Dates are 00:00 UTC; `snapshot - D` counts from the base source's
resolved snapshot date.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from .dates import micros, parse_date_object, sql_us, to_us
from .db import connect, ident, literal, query_arrow
from .errors import ManifestError

SIDE = "__side"
DEFAULT_TEST = 0.2
_HEX = 13
_SCALE = float(16**_HEX)


def stable_fraction(seed: int, key: str) -> float:
    """The reference of the split hash, for tests and for anyone re-deriving a side."""
    return int(hashlib.md5(f"{seed}:{key}".encode()).hexdigest()[:_HEX], 16) / _SCALE


def fraction_sql(seed: int, key_sql: str) -> str:
    """SQL of `stable_fraction(seed, key)`; md5 is specified, unlike DuckDB's hash()."""
    return (
        f"CAST('0x' || substr(md5({literal(str(seed) + ':')} || {key_sql}), 1, {_HEX}) "
        f"AS BIGINT) / {_SCALE!r}"
    )


def value_text_sql(column: str) -> str:
    """SQL: the text a value hashes as. DuckDB spells a float's negative zero `-0.0` and
    a NaN with its sign bit set (x86's default NaN) `-nan`, though each equals its
    positive twin: hashed as spelled, one key would land on two sides."""
    text = f"CAST({ident(column)} AS VARCHAR)"
    return f"CASE {text} WHEN '-0.0' THEN '0.0' WHEN '-nan' THEN 'nan' ELSE {text} END"


def identity_sql(columns: list[str]) -> str:
    parts = [f"coalesce({value_text_sql(c)}, chr(0))" for c in sorted(columns)]
    return "concat_ws(chr(31), " + ", ".join(parts) + ")" if parts else "''"


def _shares(split: dict[str, Any]) -> tuple[float, float]:
    test = split.get("test")
    return (DEFAULT_TEST if test is None else float(test)), float(split.get("valid") or 0.0)


def _hash_side(u: str, test: float, valid: float) -> str:
    return (
        f"CASE WHEN {u} < {test!r} THEN 'test' "
        f"WHEN {u} < {test + valid!r} THEN 'valid' ELSE 'train' END"
    )


def _train_or_valid(u: str, valid: float) -> str:
    return f"CASE WHEN {u} < {valid!r} THEN 'valid' ELSE 'train' END"


def side_sql(
    split: dict[str, Any], snapshot: date | None, on: str | None, identity: list[str]
) -> str:
    """SQL expression of the side of a row."""
    seed = int(split.get("seed") or 0)
    test, valid = _shares(split)
    row_u = fraction_sql(seed, identity_sql(identity))
    by = split["by"]
    if by == "random":
        return _hash_side(row_u, test, valid)
    if on is None:
        raise ManifestError(f"a {by} split needs an `on` column")
    if by in ("entity", "group"):
        key = f"coalesce({value_text_sql(on)}, '')"
        return _hash_side(fraction_sql(seed, key), test, valid)
    if by == "market":
        is_test = holdout_sql(on, split.get("holdout") or [])
        return f"CASE WHEN {is_test} THEN 'test' ELSE {_train_or_valid(row_u, valid)} END"
    if by == "time":
        return _time_side(split, snapshot, on, row_u, valid)
    raise ManifestError(f"unknown split kind {by!r}")


def holdout_sql(on: str, values: list[Any]) -> str:
    """Whether a row's market is held out, compared as the value's own type: a number
    as a number (`2` matches 2.0), a boolean as a boolean, text as text. On a text
    column a number is its text (`holdout [1]` holds out "1", not "01" or "1.0"), as
    `pipec test`'s oracle reads it."""
    column = ident(on)
    as_text = f"CAST({column} AS VARCHAR)"
    is_text = f"(typeof({column}) = 'VARCHAR' OR typeof({column}) LIKE 'ENUM%')"
    terms = []
    for value in values:
        if isinstance(value, bool):
            terms.append(f"{column} IS {'TRUE' if value else 'FALSE'}")
        elif isinstance(value, int | float):
            terms.append(f"CASE WHEN {is_text} THEN {as_text} = {literal(str(value))} "
                         f"ELSE TRY_CAST({column} AS DOUBLE) = {float(value)!r} END")
        else:
            text = f"{as_text} = {literal(str(value))}"
            day = _held_day(column, str(value))
            terms.append(text if day is None else
                         f"CASE WHEN typeof({column}) = 'DATE' THEN {day} ELSE {text} END")
    return "(" + " OR ".join(terms) + ")" if terms else "FALSE"


def _held_day(column: str, value: str) -> str | None:
    """A timestamp held out on a DATE column, as SQL over the column: its day when it is
    00:00 UTC (a date means 00:00 UTC), else FALSE, as no date is that instant. None for
    any other value (a date's text is the column's text). Compared as text, a
    `2025-01-01T00:00:00Z` matched no row of a date column."""
    if "T" not in value:
        return None
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    utc = instant.replace(tzinfo=instant.tzinfo or UTC).astimezone(UTC)
    if utc.time() != datetime.min.time():
        return "FALSE"
    return f"TRY_CAST({column} AS DATE) = DATE '{utc.date().isoformat()}'"


def time_bounds(split: dict[str, Any], snapshot: date | None) -> tuple[Any, Any, Any]:
    """(train before, test from, test until or None) of a time split, as instants, with
    `snapshot - D` resolved against the base source's snapshot."""
    before = parse_date_object(split.get("train_before"), snapshot)
    start = parse_date_object(split.get("test_from"), snapshot)
    gap = timedelta(microseconds=micros(split.get("gap_s")))
    if start is None:
        if before is None:
            raise ManifestError("a time split needs `train before` or `test from`")
        start = shifted(before, gap)
    if before is None:
        # `test from D` alone: train ends where the gap before the test period begins.
        before = shifted(start, -gap)
    return before, start, parse_date_object(split.get("test_until"), snapshot)


def shifted(instant: datetime, delta: timedelta) -> datetime:
    """`instant + delta`, held at the ends of the calendar: `train before 9999-12-01;
    gap 365d` has a test period that starts after every instant a row can hold (an
    empty one), rather than an OverflowError that stops the run."""
    try:
        return instant + delta
    except OverflowError:
        end = datetime.max if delta > timedelta(0) else datetime.min
        return end.replace(tzinfo=UTC)


def _time_side(
    split: dict[str, Any], snapshot: date | None, on: str, row_u: str, valid: float
) -> str:
    before, start, until = time_bounds(split, snapshot)
    t = sql_us(ident(on))
    train = f"{t} < {to_us(before)}"
    test = f"{t} >= {to_us(start)}" + (f" AND {t} < {to_us(until)}" if until else "")
    return (
        f"CASE WHEN {train} THEN {_train_or_valid(row_u, valid)} "
        f"WHEN {test} THEN 'test' ELSE NULL END"
    )


def assign_sides(
    table: pa.Table,
    split: dict[str, Any],
    snapshot: date | None,
    *,
    on: str | None = None,
    identity: list[str] | None = None,
) -> pa.Table:
    """`table` with a `__side` column ('train' | 'valid' | 'test' | NULL = dropped).

    Pure: the side of a row depends only on that row, the split and the snapshot.
    `on` defaults to `split["on"]`; `identity` (for row hashes) to every column.
    """
    cols = identity if identity is not None else list(table.column_names)
    expr = side_sql(split, snapshot, split.get("on") or on, cols)
    with _session() as con:
        con.register("__input", table)
        return query_arrow(con, f"SELECT *, {expr} AS {SIDE} FROM __input")


_DATABASE: dict[str, Any] = {}


@contextmanager
def _session() -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh connection (its own `__input`) to one in-memory database per process and
    thread: opening a database takes ~15 ms, most of a small split's time, and `pipec
    test` splits hundreds of small tables while it shrinks a counterexample."""
    key = f"{os.getpid()}:{threading.get_ident()}"  # a forked child opens its own
    database = _DATABASE.get(key)
    if database is None:
        database = _DATABASE[key] = connect()
    con = database.cursor()
    try:
        # Settings are per connection: the same UTC session that `connect` sets up.
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def split_tables(con: duckdb.DuckDBPyConnection, examples: str, expr: str) -> dict[str, pa.Table]:
    """The examples of each side, in their stored order, without the side column."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __sided AS SELECT *, {expr} AS {SIDE} FROM {ident(examples)}"
    )
    return {
        side: query_arrow(con, f"SELECT * EXCLUDE ({SIDE}) FROM __sided WHERE {SIDE} = '{side}'")
        for side in ("train", "valid", "test")
    }
