"""Column types of a `csv` source that declares no `schema`, inferred from its text.

A csv file is read as all-VARCHAR (sources.py). With a schema each declared column is
cast to its type; without one every column stayed text, so `range amount >= 0` stopped
the validate stage with a DuckDB binder error, `mean(amount)` could not be summed, a
number reached the model as a category and the `time` column was compared as text. A
parquet source without a schema keeps its file's types; this gives a csv source the
types a reader of the file would give it, as pandas' `read_csv` does:

- `int`: every value a whole number written with digits only (`2.0` is a float, as in
  pandas); `float`: every value a number (`1e3`, `-0.5`, `NaN`, `inf`). Unlike pandas,
  a column with a leading zero (`007`) stays text: it is a code, not a number. A column
  of whole numbers that a BIGINT cannot all hold (a 20-digit account id) stays text, as
  pandas keeps it (`object`): as floats, ids that differ in their last digits became one
  value, merging entities in joins and splits.
- `bool`: every value `true` or `false`, in any case (pandas' rule; `yes`/`no` and
  `1`/`0` stay text and int, since they are as often categories and counts).
- Blanks around a value are padding, for every kind: ` 5` is an int and ` true` a
  bool. pandas reads ` 5` as 5 but keeps ` true` as text; that made a column of
  booleans written `a, true` text while the same file's numbers were numbers, and a
  declared `bool` refused ` true` while a declared `int` took ` 5`.
- `date`: every value `YYYY-MM-DD`; `timestamp`: every value a date and a time, with
  or without a UTC offset (then cast by the same rule as a declared timestamp).
- else `string`. A column with no value at all stays `string`.

The markers pandas' `read_csv` takes for a missing value (`NA`, `N/A`, `NULL`, `None`,
`#N/A`, `<NA>`, `NaN`, ... with blanks around them) are missing values in a column of
any other type, declared or inferred (`missing_marked`): R and spreadsheets write a
missing number as `NA`, and a column of numbers with one stayed text, or was a type
error when declared a number. In a `string` or `category` column they stay the text
they are, unlike pandas: `NA` is Namibia's country code and `None` a word.

Thousands separators (`1,234.5`) are not numbers here, as in pandas without
`thousands=","`: such a column is text. The source's `time` column is a `timestamp`
whatever its values, so a value that is not one is a type error (the validate stage's
`type` check) and a row without a time, as with a declared schema. Its `entity` column
stays text whatever its values: it is a key that labels and feature views match with
the keys of other sources, which are text when declared `string` or read from another
csv. As a number (`1001`), the windowed label's join over a source whose keys held one
`A17` stopped with DuckDB's "Could not convert string 'A17' to INT64", and `007`
matched 7.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb

from .db import ident, literal

# No leading zero: `007` and `02134` are codes (an account, a zip code), and as numbers
# they would no longer match the same code written as text in another source.
_DIGITS = r"[+-]?(0|[1-9][0-9]*)"
_NUMBER = r"[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)(e[+-]?[0-9]+)?|[+-]?(nan|inf|infinity)"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

# How a value of a declared type may be written in text (a csv file, a string column of
# a parquet file or a query), on top of DuckDB's cast: the notations pandas' `read_csv`
# reads for that dtype. DuckDB's casts also read ones no data file means: `1_000` and
# `0x10` as 1000 and 16, `+-1` as -1.0, and `epoch`, `infinity`, `-2026-01-01` (a year
# BC) or `12026-01-01` as times; each is a type error instead.
_DECIMAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(e[+-]?[0-9]+)?"
# A time: a year of four digits, a date and time in digits (`2026/01/02`, `T10:00`) and a
# zone as an offset, `Z`, `UTC`, `GMT` or an IANA name (`America/New_York`). Not an
# abbreviation, which DuckDB reads as a legacy zone id: `BST` as Bangladesh (+6) for a
# British summer time (+1), `PST` and `CET` with summer time; pandas refuses them. Nor
# `UTC+2`, +2 to DuckDB and -2 (POSIX) to pandas.
_ZONE = r"z|\s*(utc|gmt)|\s+[a-z_]+(/[a-z0-9_+-]+)+"
_TIME = rf"[0-9]{{4}}[^0-9a-z][^a-z]*(t[^a-z]*)?({_ZONE})?"
_TEXT_FORMS = {
    "int": _DECIMAL,  # and a whole value (`2.0`, `1e3`), as pandas reads an int64
    "float": _DECIMAL + r"|[+-]?(nan|inf|infinity)",
    "date": _TIME,
    "timestamp": _TIME,
}


def _matches(pattern: str) -> Callable[[str], str]:
    # Blanks around a value are padding (tabs too, as DuckDB's number casts skip them).
    padded = literal(rf"\s*({pattern})\s*")
    return lambda col: f"regexp_full_match(lower({col}), {padded})"


# pandas' default `na_values` (pandas/_libs/parsers.pyx, STR_NA_VALUES), but the empty
# string, which DuckDB's reader already makes NULL. Matched exactly, as pandas does.
MISSING_MARKERS = ("#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                   "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                   "nan", "null")
# One match, not `unpadded(col) IN (...)`: 2.4x faster, the first character mostly
# deciding it.
_MARKED = literal(r"\s*(" + "|".join(map(re.escape, MISSING_MARKERS)) + r")\s*")


def missing_marked(col: str) -> str:
    """SQL: the text `col`, NULL where it is a marker of a missing value (blanks around
    it allowed, as around any value)."""
    return f"CASE WHEN regexp_full_match({col}, {_MARKED}) THEN NULL ELSE {col} END"


def unpadded(col: str) -> str:
    """SQL: the text `col` without the blanks around it (tabs and line breaks too)."""
    return rf"regexp_replace({col}, '^\s+|\s+$', '', 'g')"


def written_as(col: str, kind: str) -> str | None:
    """SQL: the text `col` is written as a value of the declared type `kind` (None: any
    text DuckDB's cast reads is; the cast itself still decides). Blanks around a value
    are padding, for every type (see the module's docstring)."""
    pattern = _TEXT_FORMS.get(kind)
    return None if pattern is None else _matches(pattern)(col)


# In order of preference: the first kind every value of a column has is its type. Each
# is a test on the text of a non-NULL value, besides its cast (see `inferred_types`).
_KINDS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("int", _matches(_DIGITS)),
    # Whole numbers past BIGINT's range: exact as text, not rounded to a float (the
    # `string` cast of a text value is the value itself, so only the pattern decides).
    ("string", _matches(_DIGITS)),
    ("float", _matches(_NUMBER)),
    ("bool", _matches("true|false")),
    ("date", _matches(_DATE)),
    ("timestamp", _matches(_DATE + r"([t ].+)?")),
)


def inferred_types(con: duckdb.DuckDBPyConnection, table: str, columns: list[str],
                   cast: Callable[[str, str], str], time_col: str | None,
                   entity: str | None) -> dict[str, str]:
    """Column name -> declared type for the all-text `columns` of `table`; `cast(col,
    kind)` is the SQL that makes a text value of that kind, NULL when it is not one (so
    an int out of BIGINT's range is no int). One scan counts, per column and kind, the
    values that are not of that kind, a marker of a missing value being none. The
    source's `time_col` is a time and its `entity` text, whatever their values (see the
    module's docstring)."""
    if not columns:
        return {}
    tests = [f"count(*) FILTER (WHERE {ident(c)} IS NOT NULL AND NOT coalesce("
             f"{test(ident(c))} AND {cast(ident(c), kind)} IS NOT NULL, FALSE))"
             for c in columns for kind, test in _KINDS]
    present = [f"count({ident(c)})" for c in columns]
    # The markers of a missing value say nothing of the column's type: `1, NA, 3` is a
    # column of ints. Made NULL once per value, not once per kind tested.
    marked = ", ".join(f"{missing_marked(ident(c))} AS {ident(c)}" for c in columns)
    counts = con.execute(f"SELECT {', '.join(tests + present)} "
                         f"FROM (SELECT {marked} FROM {ident(table)})").fetchall()[0]
    types = {}
    for i, column in enumerate(columns):
        failing = counts[i * len(_KINDS):(i + 1) * len(_KINDS)]
        has_values = counts[len(tests) + i] > 0
        fits = [kind for (kind, _test), bad in zip(_KINDS, failing, strict=True) if not bad]
        types[column] = fits[0] if fits and has_values else "string"
    if time_col in types and types[time_col] not in ("date", "timestamp"):
        types[time_col] = "timestamp"
    if entity in types and entity != time_col:
        types[entity] = "string"
    return types

