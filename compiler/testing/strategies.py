"""Hypothesis strategies for data frames (pyarrow tables) of a declared source schema.

`values(column)` draws one value of a schema column (its type and constraint);
`tables(columns, ...)` draws a whole table with chosen key cardinalities, missing values
where the column allows them, and several arrow encodings of the same logical type
(timestamps in µs and ns, UTC, naive and another zone; categories plain or dictionary);
`split_cases(spec)` draws a table shaped for one split: its keys from few to many rows
per key, its times around the split's dates so that train, gap and test are all
populated, and a snapshot when the source's is `latest` (one a run can resolve it to,
see `snapshots`). `bulk_table(spec, n, seed)` builds large inputs (thousands of keys)
without drawing every value through hypothesis.

Every generated table carries `ROW`, a row number that is not part of the source, so
that a property can follow a row through shuffles and sub-tables.
"""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st
from pipec.testing.spec import (
    Column,
    SplitSpec,
    TimeBounds,
    earliest_real_snapshot,
    midnight,
    time_bounds,
)

ROW = "__pipec_row"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_US = 86_400 * 1_000_000
DEFAULT_SNAPSHOT = date(2020, 1, 1)  # for large inputs of a `snapshot latest` source
# The dates drawn for `snapshot latest` where the split names no fixed date.
FIRST_SNAPSHOT, LAST_SNAPSHOT = date(2000, 1, 1), date(2035, 12, 31)
MIN_DATE, MAX_DATE = date(1990, 1, 1), date(2040, 12, 31)
WORDS = ("FR", "DE", "US", "JFK", "LGA", "EWR", "web", "ios", "a", "")
TIMESTAMP_TYPES = (
    pa.timestamp("us", tz="UTC"), pa.timestamp("ns", tz="UTC"), pa.timestamp("us"),
    pa.timestamp("us", tz="America/New_York"),
)
# Every character a string may hold, except NUL: the separators the runtime's row hash
# uses (U+001F) and quotes are deliberately in.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00",
                             exclude_categories=("Cs",)), max_size=6)
# Text that a number could be confused with (`holdout [1]` on a string column is "1",
# not "01" or "1.0"), which arbitrary text almost never draws.
NUMERIC_TEXT = st.sampled_from(["0", "1", "01", "1.0", " 1", "1e0", "-0", "2.5", "2.50"])


@dataclass(frozen=True)
class SplitCase:
    """One drawn input of a split: the table and the snapshot it is split against."""

    table: pa.Table
    snapshot: date | None


# ------------------------------------------------------------------ values


def to_us(instant: datetime) -> int:
    """Epoch microseconds of an instant; a naive one is read as UTC."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


# The instants a drawn row may hold: Python's calendar less a day at each end, so that a
# column in another zone can still hold them. A split date near its ends (`test until
# 9999-12-31`) otherwise asked for rows after year 9999.
FIRST_US = to_us(datetime(1, 1, 2, tzinfo=UTC))
LAST_US = to_us(datetime(9999, 12, 30, tzinfo=UTC))
# A nanosecond timestamp holds only these (1677-09-21 to 2262-04-11).
NS_FIRST_US, NS_LAST_US = -(2**63) // 1000 + 1, (2**63 - 1) // 1000


def _bounds(column: Column, lo: Any, hi: Any) -> tuple[Any, Any, Any]:
    """(min, max, excluded) of a column's values after its constraint."""
    constraint = column.constraint or {}
    if "in" in constraint:
        return constraint["in"][0], constraint["in"][1], None
    op, value = constraint.get("op"), constraint.get("value")
    if op in (">=", ">"):
        return value, hi, value if op == ">" else None
    if op in ("<=", "<"):
        return lo, value, value if op == "<" else None
    if op == "==":
        return value, value, None
    return lo, hi, value if op == "!=" else None


def values(column: Column) -> st.SearchStrategy[Any]:
    """Non-null values of a schema column, inside its constraint."""
    kind = column.type
    if kind == "bool":
        return st.booleans()
    if kind == "category":
        return st.one_of(st.sampled_from(WORDS), NUMERIC_TEXT, TEXT)
    if kind == "date":
        return st.dates(MIN_DATE, MAX_DATE)
    if kind == "timestamp":
        return st.datetimes(datetime(1990, 1, 1), datetime(2040, 12, 31),
                            timezones=st.just(UTC))
    if kind in ("int", "float"):
        return _numbers(column)
    return st.one_of(NUMERIC_TEXT, TEXT)


def _numbers(column: Column) -> st.SearchStrategy[Any]:
    default = 10**9
    lo, hi, excluded = _bounds(column, -default, default)
    if not all(isinstance(v, int | float) for v in (lo, hi)):
        lo, hi, excluded = -default, default, None
    if column.type == "int":
        strategy: st.SearchStrategy[Any] = st.integers(int(-(-lo // 1)), int(hi // 1))
    else:
        strategy = st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False)
    return strategy.filter(lambda v: v != excluded) if excluded is not None else strategy


def arrow_type(column: Column, timestamp: pa.DataType | None = None) -> pa.DataType:
    return {
        "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "date": pa.date32(),
        "timestamp": timestamp or TIMESTAMP_TYPES[0],
    }.get(column.type, pa.string())


def to_arrow(columns: list[Column], data: dict[str, list[Any]], *,
             timestamp: pa.DataType | None = None, dictionary: bool = False) -> pa.Table:
    arrays = {}
    for column in columns:
        kind = arrow_type(column, timestamp)
        items = data[column.name]
        if isinstance(kind, pa.TimestampType):
            kind = _unit_that_holds(kind, items)
            items = [_as_timestamp(v, kind) for v in items]
        array = pa.array(items, kind)
        if dictionary and column.type == "category":
            array = array.dictionary_encode()
        arrays[column.name] = array
    arrays[ROW] = pa.array(data[ROW], pa.int64())
    return pa.table(arrays)


def _unit_that_holds(kind: pa.TimestampType, items: list[Any]) -> pa.TimestampType:
    """`kind`, or in microseconds when an instant is outside what nanoseconds can hold
    (a split date in 1600 or 2300 draws rows there)."""
    if kind.unit == "ns" and any(v is not None and not NS_FIRST_US <= to_us(v) <= NS_LAST_US
                                 for v in items):
        return pa.timestamp("us", tz=kind.tz)
    return kind


def _as_timestamp(value: datetime | None, kind: pa.TimestampType) -> datetime | None:
    if value is None or kind.tz is not None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)  # a naive column holds UTC


# ------------------------------------------------------------------ tables


@st.composite
def tables(draw: st.DrawFn, columns: tuple[Column, ...] | list[Column], *,
           min_rows: int = 0, max_rows: int = 30, key_columns: tuple[str, ...] = (),
           cells: dict[str, st.SearchStrategy[Any]] | None = None,
           forced: tuple[dict[str, Any], ...] = (),
           passive: frozenset[str] = frozenset()) -> pa.Table:
    """A table of the declared columns plus `ROW`, drawn row by row (so that shrinking
    deletes rows).

    `key_columns` draw from a shared pool of keys (few to many rows per key); `cells`
    overrides a column's strategy; `forced` rows come first with the given values;
    `passive` columns (ones the code under test does not read) cycle through a few drawn
    values, which keeps wide tables cheap; other columns draw each value, NULL where the
    column is nullable.
    """
    cells = dict(cells or {})
    pools: dict[str, list[Any]] = {}
    for column in columns:
        cell = cells[column.name] if column.name in cells else (
            st.none() | values(column) if column.nullable else values(column))
        if column.name in key_columns and column.name not in cells:
            cells[column.name] = st.sampled_from(draw(key_pool(column)))
        elif column.name in passive and column.name not in cells:
            pools[column.name] = draw(st.lists(cell, min_size=1, max_size=3))
        else:
            cells[column.name] = cell
    row = st.fixed_dictionaries({c: s for c, s in cells.items() if c not in pools})
    rows = [draw(row.map(lambda r, f=f: {**r, **f})) for f in forced]
    rows += draw(st.lists(row, min_size=max(min_rows - len(rows), 0),
                          max_size=max(max_rows - len(rows), 0)))
    data: dict[str, list[Any]] = {ROW: list(range(len(rows)))}
    for column in columns:
        pool = pools.get(column.name)
        data[column.name] = [pool[i % len(pool)] for i in range(len(rows))] if pool \
            else [r[column.name] for r in rows]
    return to_arrow(list(columns), data, timestamp=draw(st.sampled_from(TIMESTAMP_TYPES)),
                    dictionary=draw(st.booleans()))


@st.composite
def key_pool(draw: st.DrawFn, column: Column, *, extra: tuple[Any, ...] = (),
             max_keys: int = 30) -> list[Any]:
    """A pool of 1..max_keys distinct keys: rows sample it, so shrinking merges keys and
    cardinalities range from one row per key to every row on one key."""
    pool = draw(st.lists(values(column), min_size=1, max_size=max_keys, unique_by=repr))
    pool = list(dict.fromkeys([*extra, *pool]))
    if column.type == "float" and draw(st.booleans()):
        pool += float_twins(column)
    if column.nullable and draw(st.booleans()):
        pool.append(None)  # a missing key, deliberately: the runtime hashes it as ''
    return pool


NEGATIVE_NAN = struct.unpack("<d", struct.pack("<Q", 0xFFF8_0000_0000_0000))[0]


def float_twins(column: Column) -> list[float]:
    """Equal float keys spelled apart: 0.0 and -0.0, and (where no constraint rules NaN
    out) a NaN with and without its sign bit, x86's default NaN. Drawn floats almost never
    hold both of a pair, and `dict.fromkeys` merges the zeros; a split that hashes a key's
    text would put one key on two sides."""
    lo, hi, excluded = _bounds(column, -math.inf, math.inf)
    twins = [0.0, -0.0] if lo <= 0 <= hi and excluded != 0 else []
    return twins + ([math.nan, NEGATIVE_NAN] if column.constraint is None else [])


# ------------------------------------------------------------------ splits


def snapshots(spec: SplitSpec) -> st.SearchStrategy[date]:
    """The declared snapshot, or for `snapshot latest` a date a run can resolve it to:
    from the split's `earliest_real_snapshot` (2000-01-01 when it names no fixed date)
    over at least ten years. Hypothesis shrinks towards the earliest."""
    if spec.snapshot is not None:
        return st.just(spec.snapshot)
    first = max(FIRST_SNAPSHOT, earliest_real_snapshot(spec) or FIRST_SNAPSHOT)
    last = max(LAST_SNAPSHOT, _days_after(first, 3653))
    # Days after the first, not `st.dates`: a date shrinks by year, month and day apart
    # and stopped at 2026-02-01 where 2026-01-12 already failed; a count of days
    # shrinks to the earliest failing snapshot.
    return st.integers(0, (last - first).days).map(lambda days: first + timedelta(days))


def _days_after(day: date, days: int) -> date:
    return day + timedelta(days=days) if date.max - day > timedelta(days=days) else date.max


def default_snapshot(spec: SplitSpec) -> date:
    """The one snapshot of the inputs that are not drawn (large tables, an input of no
    rows): the declared one, or for `snapshot latest` `DEFAULT_SNAPSHOT` moved up to the
    split's `earliest_real_snapshot`."""
    if spec.snapshot is not None:
        return spec.snapshot
    return max(DEFAULT_SNAPSHOT, earliest_real_snapshot(spec) or DEFAULT_SNAPSHOT)


def time_regions(bounds: TimeBounds) -> list[st.SearchStrategy[int]]:
    """Epoch-µs strategies for before train end, the gap, the test period and after it;
    each also yields the exact boundary instants (one µs either side)."""
    start = to_us(bounds.start)
    before = to_us(bounds.before) if bounds.before is not None else start
    until = to_us(bounds.until) if bounds.until is not None else None
    span = max(start - before, 45 * DAY_US)
    edges = [e for b in (before, start, until) if b is not None for e in (b - 1, b)]
    ranges = [(before - span, before - 1), (before, start - 1),
              (start, (until or start + span) - 1)]
    if until is not None:
        ranges.append((until, until + span))
    ranges = [(max(lo, FIRST_US), min(hi, LAST_US)) for lo, hi in ranges]
    return [st.one_of(st.integers(lo, hi), st.sampled_from(
        [e for e in edges if lo <= e <= hi] or [lo])) for lo, hi in ranges if lo <= hi]


def time_cells(column: Column, bounds: TimeBounds) -> tuple[st.SearchStrategy[Any], ...]:
    """One strategy per time region (see `time_regions`), as values of the column's type;
    NULL sometimes where the column allows it."""
    convert = (lambda us: _day(from_us(us))) if column.type == "date" else from_us
    return tuple(region.map(convert) for region in time_regions(bounds))


def _day(instant: datetime) -> date:
    return instant.date()


def around(snapshot: date) -> st.SearchStrategy[datetime]:
    lo = midnight(snapshot) - timedelta(days=400)
    return st.integers(0, 401 * DAY_US).map(lambda us: lo + timedelta(microseconds=us))


@st.composite
def split_cases(draw: st.DrawFn, spec: SplitSpec, *, max_rows: int = 30) -> SplitCase:
    """A table shaped for `spec`'s split and the snapshot to split it against: for a time
    split, one row in each period (train, gap, test, after `until`) comes first."""
    snapshot = draw(snapshots(spec))
    time_col = spec.column(spec.time)
    cells: dict[str, st.SearchStrategy[Any]] = {}
    forced: tuple[dict[str, Any], ...] = ()
    if spec.kind == "time":
        on = spec.column(spec.on)
        assert on is not None
        regions = time_cells(on, time_bounds(spec, snapshot))
        forced = tuple({on.name: draw(region)} for region in regions)
        cells[on.name] = st.one_of(regions)
        if on.nullable:
            cells[on.name] = st.none() | cells[on.name]
    elif time_col is not None:
        moment = around(snapshot)
        cells[time_col.name] = moment.map(_day) if time_col.type == "date" else moment
    on_col = spec.column(spec.on)
    if spec.kind == "market" and on_col is not None:
        holdout = tuple(key for v in spec.split.get("holdout") or []
                        if _holds(on_col, key := coerce(on_col, v)))
        cells[on_col.name] = st.sampled_from(draw(key_pool(on_col, extra=holdout)))
    key_cols = tuple(c for c in (spec.entity, spec.on) if c and c not in cells)
    table = draw(tables(spec.columns, min_rows=1, max_rows=max_rows, key_columns=key_cols,
                        cells=cells, forced=forced, passive=_passive(spec)))
    return SplitCase(table, snapshot)


def _passive(spec: SplitSpec) -> frozenset[str]:
    """Columns the split does not read: all but `on`, unless rows are hashed."""
    if spec.kind == "random" or spec.valid_share > 0:
        return frozenset()
    return frozenset(c.name for c in spec.columns if c.name not in (spec.on, spec.entity))


def coerce(column: Column, value: Any) -> Any:
    """A holdout value as a value of the column's type (`holdout [3]` on a string column
    is the string "3")."""
    converters = {"int": _whole, "float": float, "bool": bool,
                  "date": _calendar_day,
                  "timestamp": _instant}
    try:
        return converters.get(column.type, str)(value)
    except (TypeError, ValueError):
        return value


def _whole(value: Any) -> Any:
    """A holdout on an int column: `2` and `2.0` are the int 2, but `1.5` stays 1.5,
    which no int equals (the runtime compares them as numbers), not the 1 that `int()`
    truncates it to."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return int(value)


def _holds(column: Column, value: Any) -> bool:
    """Whether a column of this type can hold the value: a row cannot be drawn with
    1.5 in an int column (arrow would truncate it to 1, a key the split keeps)."""
    if column.type == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if column.type == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if column.type == "date":
        return isinstance(value, date) and not isinstance(value, datetime)
    return True


def _calendar_day(value: Any) -> date | datetime:
    """A holdout on a date column, which the checker takes as a date or a timestamp:
    a timestamp at 00:00 UTC is that day (a date means 00:00 UTC), any other instant
    stays an instant, which no date equals."""
    instant = _instant(value)
    day = instant.date()
    return day if instant == midnight(day) else instant


def _instant(value: Any) -> datetime:
    """A holdout date or timestamp on a timestamp column: a date means 00:00 UTC."""
    text = str(value).replace("Z", "+00:00")
    if "T" not in text and " " not in text:
        return midnight(date.fromisoformat(text))
    instant = datetime.fromisoformat(text)
    return instant.astimezone(UTC) if instant.tzinfo else instant.replace(tzinfo=UTC)


# ------------------------------------------------------------------ bulk


def bulk_table(spec: SplitSpec, n_keys: int, seed: int, *, rows_per_key: int = 3) -> pa.Table:
    """A large table for `spec` without hypothesis: `n_keys` distinct `on` keys (or, for a
    random split, distinct rows), 1..rows_per_key rows each, other values from `seed`."""
    rng = random.Random(seed)
    snapshot = default_snapshot(spec)
    key = spec.column(spec.on) if spec.kind in ("entity", "group") else None
    data: dict[str, list[Any]] = {c.name: [] for c in spec.columns}
    # Counted, not read off a column: a source with no schema has no column to read.
    count = 0
    for i in range(n_keys):
        for _ in range(rng.randint(1, rows_per_key) if key is not None else 1):
            count += 1
            for column in spec.columns:
                value = _bulk_key(column, seed, i) if column is key else \
                    _bulk_value(column, rng, snapshot)
                data[column.name].append(value)
    if spec.kind in ("time", "market") and spec.on:
        _bulk_train_side(spec, data, rng, snapshot)
    data[ROW] = list(range(count))
    return to_arrow(list(spec.columns), data)


def _bulk_key(column: Column, seed: int, i: int) -> Any:
    """The `i`-th distinct key of the column's own type (a text key in a date column
    cannot even be built into a table)."""
    if column.type in ("int", "float"):
        return seed * 10_000_000 + i
    if column.type == "date":
        return date.fromordinal(1 + seed % 2_000_000 + i)
    if column.type == "timestamp":
        return from_us((seed % 100_000) * DAY_US + i * 1_000_000)
    if column.type == "bool":
        return i % 2 == 0  # two groups at most
    return f"k{seed}-{i}"


def _bulk_value(column: Column, rng: random.Random, snapshot: date) -> Any:
    if column.type == "timestamp":
        return midnight(snapshot) - timedelta(microseconds=rng.randrange(400 * DAY_US))
    if column.type == "date":
        return snapshot - timedelta(days=rng.randrange(400))
    if column.type == "bool":
        return rng.random() < 0.5
    if column.type in ("int", "float"):
        lo, hi, _ = _bounds(column, -10**6, 10**6)
        number = rng.uniform(float(lo), float(hi))
        return round(number) if column.type == "int" else number
    return "".join(rng.choice("abcdefgh") for _ in range(8))


def _bulk_train_side(spec: SplitSpec, data: dict[str, list[Any]], rng: random.Random,
                     snapshot: date) -> None:
    """Put every row on the train side, where `valid` is carved out."""
    on = spec.column(spec.on)
    assert on is not None
    if spec.kind == "market":
        holdout = {repr(coerce(on, v)) for v in spec.split.get("holdout") or []}
        data[on.name] = [v if repr(v) not in holdout else None for v in data[on.name]]
        return
    bounds = time_bounds(spec, snapshot)
    end = to_us(bounds.before) if bounds.before is not None else None
    if end is None or end <= FIRST_US:
        return  # no instant a row can hold is before the train end
    times = [from_us(max(end - 1 - rng.randrange(400 * DAY_US), FIRST_US))
             for _ in data[on.name]]
    data[on.name] = [_day(t) for t in times] if on.type == "date" else times
