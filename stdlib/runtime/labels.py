"""Labels per base row, with censoring, in DuckDB SQL.

- `window W` from source S: true when S has an event for the same entity in (t, t + W].
  One ASOF join finds, for each base row, S's first event strictly after t; the label is
  whether that event is at or before t + W. That is O(n log n) whatever the event density.
  A base row with a NULL entity has no "same entity": its label is NULL (unknown, left
  out of training and evaluation), never false.
- `column COL`: the base row's COL. `when COL op V`: the comparison (NULL when COL is NULL:
  an unknown value is not "false").
- Censoring: a row is censored when t + M > the end of the label source's snapshot
  (`DATE + 1d`), M being the manifest's `maturity_s` (window + lag, or known_after). A
  windowed label is also censored when t + W >= that end: the snapshot holds events
  strictly before it, so with lag 0 an event at exactly t + W = end (daily data at
  midnight) could not be seen and the row would be labelled false. A row with no time
  cannot be placed and is censored too. Censored rows keep a NULL label; the
  join stage drops and counts them. A label source without a snapshot censors against
  the end of its newest time value's date, the same bound `snapshot latest` would give.

The spine is the base dataset with `__row_id`; the output table has
`(__row_id, label, censored)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from .dates import micros, sql_us
from .db import ident
from .validation import condition


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """Column names and bounds of a windowed label, all times in epoch microseconds."""

    spine_key: str
    spine_time: str
    event_key: str
    event_time: str
    window_us: int
    maturity_us: int
    end_us: int


def window_label_sql(spine: str, events: str, spec: WindowSpec) -> str:
    """SELECT __row_id, label, censored for a windowed label."""
    # The events of (t, t + W] must lie inside the snapshot, which ends before end_us.
    censored = (f"coalesce(s.__t + {spec.maturity_us} > {spec.end_us} "
                f"OR s.__t + {spec.window_us} >= {spec.end_us}, TRUE)")
    return f"""
    WITH s AS (
        SELECT __row_id, {ident(spec.spine_key)} AS __key, {sql_us(ident(spec.spine_time))} AS __t
        FROM {ident(spine)} s
    ), e AS (
        SELECT {ident(spec.event_key)} AS __key, {sql_us(ident(spec.event_time))} AS __k
        FROM {ident(events)}
        WHERE {ident(spec.event_key)} IS NOT NULL AND {ident(spec.event_time)} IS NOT NULL
    )
    SELECT s.__row_id,
           CASE WHEN {censored} OR s.__key IS NULL THEN NULL
                ELSE coalesce(e.__k <= s.__t + {spec.window_us}, FALSE) END AS label,
           {censored} AS censored
    FROM s ASOF LEFT JOIN e ON s.__key = e.__key AND s.__t < e.__k
    """


def column_label_sql(
    spine: str, time_col: str | None, value_sql: str, maturity_us: int, end_us: int
) -> str:
    """SELECT __row_id, label, censored for a label read from the base row. A base
    without a `time` (a static table, `predicts iid`) has nothing to censor: the checker
    refuses a maturity there (P001), so its labels are known at once."""
    cens = "FALSE" if time_col is None else \
        _censored(sql_us(ident(time_col)), maturity_us, end_us)
    return f"""
    SELECT __row_id, CASE WHEN {cens} THEN NULL ELSE {value_sql} END AS label,
           {cens} AS censored
    FROM {ident(spine)}
    """


def _censored(t_us: str, maturity_us: int, end_us: int) -> str:
    return f"coalesce({t_us} + {maturity_us} > {end_us}, TRUE)"


def build_labels(
    con: duckdb.DuckDBPyConnection,
    label: dict[str, Any],
    base: dict[str, Any],
    spine: str,
    events: tuple[str, dict[str, Any]] | None,
    end_us: int,
    out: str,
) -> None:
    """Create table `out` with the labels of every spine row.

    `events` is (table, source stage) of the label source for a windowed label; for the
    other modes the label source is the base itself.
    """
    maturity_us = micros(label.get("maturity_s"))
    if label["mode"] == "window":
        assert events is not None
        table, source = events
        spec = WindowSpec(
            base["entity"],
            base["time"],
            source["entity"],
            source["time"],
            micros(label["window_s"]),
            maturity_us,
            end_us,
        )
        sql = window_label_sql(spine, table, spec)
    else:
        value = ident(label["column"])
        if label["mode"] == "when":
            value = condition(label["column"], label)
        sql = column_label_sql(spine, base["time"], value, maturity_us, end_us)
    con.execute(f"CREATE OR REPLACE TABLE {ident(out)} AS {sql}")
