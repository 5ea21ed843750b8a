"""Point-in-time feature views, in DuckDB SQL that scales to tens of millions of rows.

Reading of the language (one rule for both kinds of feature):

- A row of the view's source is *visible* at time t when `time + lag < t` (strict).
- `feature X = AGG(COL) over W`: AGG over the visible rows with the same key whose time is
  in `[t - W, t)`. Together with visibility that is row time in `[t - W, t - lag)`.
  `count()` counts rows, `count(COL)` non-NULL values, `distinct` distinct non-NULL
  values; an empty window gives 0 for the counts and NULL for sum/mean/min/max.
- `columns [...]`: the latest visible row, so "at or before t" is tightened by visibility
  to `time + lag < t`; with lag 0 a row at exactly t is *not* seen. This keeps one
  notion of visibility and never lets a view read the example's own event. Ties (several
  latest rows at the same time) go to the row whose listed columns sort last (column by
  column, NULL lowest), so the result does not depend on file order.
- The key is the view's `entity` column in the view's source and the base column of the
  same name; the base row's time is the base source's `time`. Rows of the view with a
  NULL key or time are never visible; a base row with a NULL key or time sees nothing.

Aggregates use one pass of window functions over the union of the view's rows and the
base rows' query points (`t - lag`), with integer epoch-microsecond RANGE frames
`[p - (W - lag), p - 1]`; when the view's source is the base itself, over the base rows
alone (each row is its own query point, frame `[t - W, t - lag - 1]`). Each distinct
window aggregate is computed once (a mean reuses the sum and count). As-of columns use
one ASOF join. Neither is a range join, so a dense entity does not blow up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from .dates import US_PER_S, sql_us
from .db import ident


@dataclass(frozen=True, slots=True)
class Aggregate:
    name: str
    agg: str  # count | sum | mean | min | max | distinct
    column: str | None
    window_us: int


@dataclass(frozen=True, slots=True)
class ViewSpec:
    """One features stage, resolved against the base source."""

    name: str
    key: str
    time: str
    spine_time: str
    lag_us: int
    aggregates: tuple[Aggregate, ...]
    columns: tuple[str, ...]

    @classmethod
    def from_stage(cls, stage: dict[str, Any], base: dict[str, Any]) -> ViewSpec:
        aggs = tuple(
            Aggregate(a["name"], a["agg"], a.get("column"), int(a["window_s"]) * US_PER_S)
            for a in stage.get("aggregates") or []
        )
        return cls(
            stage["name"],
            stage["entity"],
            stage["time"],
            base["time"],
            int(stage.get("lag_s") or 0) * US_PER_S,
            aggs,
            tuple(stage.get("columns") or []),
        )


def feature_column(view: str, feature: str) -> str:
    """Examples-table name of a feature: `VIEW__FEATURE`."""
    return f"{view}__{feature}"


# 38 digits, 9 after the point: exact for sums of values up to ~1e29.
EXACT = "DECIMAL(38, 9)"


def _window_aggregates(
    view: ViewSpec, alias: dict[str, str], count_rows: str
) -> tuple[list[str], list[str]]:
    """(inner, outer): the distinct window aggregates the features need, each computed
    once as `__aN`, and each feature as an expression over them.

    `count_rows` is the aggregate that counts the view's rows (not query points) in a
    frame; `{w}` in it stands for the frame's name.
    """
    inner: dict[str, str] = {}

    def win(expr: str) -> str:
        return inner.setdefault(expr, f"__a{len(inner)}")

    outer = []
    for a in view.aggregates:
        w = f"w{a.window_us}"
        value = alias.get(a.column or "", "NULL")
        if a.agg == "count":
            expr = win(f"count({value}) OVER {w}") if a.column else win(count_rows.format(w=w))
        elif a.agg == "distinct":
            expr = win(f"count(DISTINCT {value}) OVER {w}")
        elif a.agg in ("sum", "mean"):
            # Sums in exact decimal arithmetic: a float sum depends on the order DuckDB's
            # threads add the rows in, so the same data would give features (and a
            # model hash) that differ in the last bits from one run to the next.
            expr = win(f"sum(CAST({value} AS {EXACT})) OVER {w}")
            if a.agg == "mean":
                expr = f"{expr} / nullif({win(f'count({value}) OVER {w}')}, 0)"
            expr = f"CAST({expr} AS DOUBLE)"
        else:
            expr = win(f"{a.agg}({value}) OVER {w}")
        outer.append(f"{expr} AS {ident(feature_column(view.name, a.name))}")
    return [f"{e} AS {n}" for e, n in inner.items()], outer


def _frames(view: ViewSpec, upper_preceding: int) -> str:
    """Named RANGE frames over integer epoch microseconds, one per window length.

    The frame of a row at k ends `upper_preceding` before k and spans the window's
    `W - lag` microseconds: with the query point p = k and upper 1 it is
    `[p - (W - lag), p - 1]`; with the row's own time t = k and upper `lag + 1` it is
    `[t - W, t - lag - 1]`.
    """
    return ", ".join(
        # max(..., 0): when W <= lag the frame starts after it ends, so it is empty, as
        # it should be.
        f"w{w} AS (PARTITION BY __key ORDER BY __k "
        f"RANGE BETWEEN {max(w - view.lag_us, 0) + upper_preceding - 1} PRECEDING "
        f"AND {upper_preceding} PRECEDING)"
        for w in sorted({a.window_us for a in view.aggregates})
    )


def _empty_selects(view: ViewSpec) -> str:
    """The features of a row that sees nothing: 0 for counts, NULL otherwise."""
    return ", ".join(
        f"{'0' if a.agg in ('count', 'distinct') else 'NULL'}"
        f"{'::BIGINT' if a.agg in ('count', 'distinct') else ''} "
        f"AS {ident(feature_column(view.name, a.name))}"
        for a in view.aggregates
    )


def aggregates_sql(spine: str, source: str, view: ViewSpec) -> str:
    """SELECT __row_id, VIEW__FEATURE... for every base row (any view source)."""
    values = sorted({a.column for a in view.aggregates if a.column})
    alias = {c: f"__c{i}" for i, c in enumerate(values)}
    src_cols = "".join(f", {ident(c)} AS {alias[c]}" for c in values)
    inner, outer = _window_aggregates(view, alias, "count(CASE WHEN NOT __pt THEN 1 END) OVER {w}")
    return f"""
    WITH src AS (
        SELECT {ident(view.key)} AS __key, {sql_us(ident(view.time))} AS __k,
               FALSE AS __pt, CAST(NULL AS BIGINT) AS __row_id{src_cols}
        FROM {ident(source)}
        WHERE {ident(view.key)} IS NOT NULL AND {ident(view.time)} IS NOT NULL
    ), pts AS (
        SELECT {ident(view.key)} AS __key, {sql_us(ident(view.spine_time))} - {view.lag_us} AS __k,
               TRUE AS __pt, __row_id
        FROM {ident(spine)}
    ), u AS (
        SELECT * FROM src UNION ALL BY NAME SELECT * FROM pts
    )
    SELECT __row_id, {", ".join(outer)}
    FROM (
        SELECT __row_id, {", ".join(inner)}
        FROM u
        WINDOW {_frames(view, 1)}
        QUALIFY __pt
    )
    """


def self_aggregates_sql(spine: str, view: ViewSpec) -> str:
    """`aggregates_sql` when the view's source is the base itself (same table, same time).

    Every row is then both a source row and a query point, so one window pass over the
    rows themselves does it, without the union: the frame of a row at k is
    `[k - W, k - lag - 1]`. Rows with a NULL key or time see nothing and are seen by
    nothing, so they stay out of the window pass.
    """
    values = sorted({a.column for a in view.aggregates if a.column})
    alias = {c: f"__c{i}" for i, c in enumerate(values)}
    src_cols = "".join(f", {ident(c)} AS {alias[c]}" for c in values)
    key, time = ident(view.key), ident(view.time)
    # count(*) counts a frame from its bounds alone; every row here is a view row.
    inner, outer = _window_aggregates(view, alias, "count(*) OVER {w}")
    return f"""
    SELECT __row_id, {", ".join(outer)}
    FROM (
        SELECT __row_id, {", ".join(inner)}
        FROM (
            SELECT __row_id, {key} AS __key, {sql_us(time)} AS __k{src_cols}
            FROM {ident(spine)}
            WHERE {key} IS NOT NULL AND {time} IS NOT NULL
        )
        WINDOW {_frames(view, view.lag_us + 1)}
    )
    UNION ALL
    SELECT __row_id, {_empty_selects(view)}
    FROM {ident(spine)}
    WHERE {key} IS NULL OR {time} IS NULL
    """


def static_sql(spine: str, source: str, view: ViewSpec) -> str:
    """A view over a table with no time (planes): its row for the key, whatever t is.

    A static table has no event time, so point-in-time does not apply; several rows for
    one key resolve like as-of ties (columns sorting last win) so file order never matters.
    """
    cols = list(view.columns)
    tie = ", ".join(f"{ident(c)} DESC NULLS LAST" for c in cols)
    picked = ", ".join(f"f.{ident(c)} AS {ident(feature_column(view.name, c))}" for c in cols)
    return f"""
    WITH f AS (
        SELECT {ident(view.key)} AS __key, {", ".join(ident(c) for c in cols)}
        FROM {ident(source)}
        WHERE {ident(view.key)} IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY {ident(view.key)} ORDER BY {tie}) = 1
    )
    SELECT s.__row_id, {picked}
    FROM {ident(spine)} s LEFT JOIN f ON s.{ident(view.key)} = f.__key
    """


def asof_sql(spine: str, source: str, view: ViewSpec) -> str:
    """SELECT __row_id, VIEW__COLUMN... from the latest visible row of the view."""
    if not view.time:
        return static_sql(spine, source, view)
    cols = list(view.columns)
    tie = ", ".join(f"{ident(c)} DESC NULLS LAST" for c in cols)
    picked = ", ".join(f"f.{ident(c)} AS {ident(feature_column(view.name, c))}" for c in cols)
    return f"""
    WITH s AS (
        SELECT __row_id, {ident(view.key)} AS __key,
               {sql_us(ident(view.spine_time))} - {view.lag_us} AS __p
        FROM {ident(spine)}
    ), f AS (
        SELECT {ident(view.key)} AS __key, {sql_us(ident(view.time))} AS __k,
               {", ".join(ident(c) for c in cols)}
        FROM {ident(source)}
        WHERE {ident(view.key)} IS NOT NULL AND {ident(view.time)} IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY {ident(view.key)}, __k ORDER BY {tie}) = 1
    )
    SELECT s.__row_id, {picked}
    FROM s ASOF LEFT JOIN f ON s.__key = f.__key AND s.__p > f.__k
    """


def build_features(
    con: duckdb.DuckDBPyConnection, view: ViewSpec, spine: str, source: str, out: str
) -> None:
    """Create table `out`: `__row_id` plus every feature of the view, one row per base row.

    `source` may name the spine table itself (a view over the base source): the
    aggregates then take the single-pass route of `self_aggregates_sql`.
    """
    parts = []
    if view.aggregates:
        same = source == spine and view.time == view.spine_time
        parts.append(
            self_aggregates_sql(spine, view) if same else aggregates_sql(spine, source, view)
        )
    if view.columns:
        parts.append(asof_sql(spine, source, view))
    if not parts:
        parts.append(f"SELECT __row_id FROM {ident(spine)}")
    # Each part has exactly one row per spine row, so they join on __row_id alone.
    body = f"({parts[0]}) p0"
    for i, part in enumerate(parts[1:], 1):
        body += f" JOIN ({part}) p{i} USING (__row_id)"
    con.execute(f"CREATE OR REPLACE TABLE {ident(out)} AS SELECT * FROM {body} ORDER BY __row_id")
