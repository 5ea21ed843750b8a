"""The validate stage's checks, each one DuckDB query over the snapshotted dataset.

Every check yields one report entry:
`{"check", "kind", "severity", "passed", "rows_failing", "values", "detail"}` where
`values` holds up to five offending values (as text, sorted, so reports are stable).

Readings of the language where it is terse:
- The manifest's `schema` check becomes up to three kinds of entries: `schema` (declared
  columns present), `type` (values that did not cast to the declared type, counted when
  the source was loaded) and one `range` entry per schema constraint (`amount: float >= 0`).
- `require COLS`: the columns exist and are non-NULL on every row.
- `range` and schema constraints ignore NULLs (completeness is the check for NULLs).
- `unique a, b` groups NULLs together, like GROUP BY; every row of a duplicated key fails.
- `freshness COL within D`: the newest COL is at most D before the snapshot's end
  (`DATE + 1d`, the instant the snapshot cuts the data at).
- `drift STAT(COL) within Nx of baseline`: passes when both values are equal, or both
  non-zero with the same sign and max(|a/b|, |b/a|) <= N. The baseline is the value
  recorded by the newest blessed run; before any run is blessed, the first recorded run's
  value; with none recorded, this run records it and passes.
- A check's severity is its own `severity` (the compiler writes `warn` for a line
  ending in `warn`, else `block`). The stage blocks when its effective `on_failure` is
  not `warn`/`alert` and a failed check has severity `block`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from .dates import snapshot_end, sql_us, to_us
from .db import ident, literal
from .errors import ValidationBlocked

_SAMPLE = 5
OPS = {">=", "<=", ">", "<", "==", "!="}
DRIFT_STATS: dict[str, str] = {
    "mean": "avg({c})",
    "median": "median({c})",
    "std": "stddev_samp({c})",
    "stddev": "stddev_samp({c})",
    "min": "min({c})",
    "max": "max({c})",
    "sum": "sum({c})",
    "count": "count({c})",
    "distinct": "count(DISTINCT {c})",
    "null_rate": "avg(CASE WHEN {c} IS NULL THEN 1.0 ELSE 0.0 END)",
}


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What checks need besides the data: the source's load report and drift baselines."""

    table: str
    snapshot: date | None
    missing_columns: list[str]
    type_errors: list[dict[str, Any]]
    default_severity: str
    baseline: Callable[[str, str], tuple[bool, float | None]]
    record: Callable[[str, str, float | None], None]


Entry = dict[str, Any]


def run_checks(
    con: duckdb.DuckDBPyConnection, checks: list[dict[str, Any]], ctx: CheckContext
) -> list[Entry]:
    """Every check in manifest order; schema expands to schema, type and constraints."""
    entries: list[Entry] = []
    for check in checks:
        severity = check.get("severity") or ctx.default_severity
        for entry in CHECKS[check["kind"]](con, check, ctx):
            entries.append({"kind": check["kind"], "severity": severity, "detail": {}} | entry)
    return entries


CONTINUE_POLICIES = {"warn", "alert"}


def raise_if_blocked(stage_id: str, report: dict[str, Any], policy: str = "block") -> None:
    """Stop the run when a failed check is blocking and the stage's policy blocks.

    `policy` is the stage's effective `on_failure`: with `warn` (or `alert`) the run goes
    on whatever failed; otherwise a failed check with severity `block` stops it. A check
    line marked `warn` never blocks.
    """
    if policy in CONTINUE_POLICIES:
        return
    if any(not e["passed"] and e["severity"] == "block" for e in report["checks"]):
        raise ValidationBlocked(stage_id, report)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchall()[0][0]


def _samples(con: duckdb.DuckDBPyConnection, table: str, expr: str, where: str) -> list[str]:
    rows = con.execute(
        f"SELECT DISTINCT CAST({expr} AS VARCHAR) AS v FROM {ident(table)} "
        f"WHERE {where} ORDER BY v NULLS FIRST LIMIT {_SAMPLE}"
    ).fetchall()
    return [r[0] for r in rows]


def _row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return _scalar(con, f"SELECT count(*) FROM {ident(table)}")


def _absent(con: duckdb.DuckDBPyConnection, ctx: CheckContext, columns: list[str]) -> Entry | None:
    """A check on a column the data lacks fails on every row instead of crashing."""
    have = set(con.table(ctx.table).columns)
    missing = [c for c in columns if c not in have]
    if not missing:
        return None
    return {
        "passed": False,
        "rows_failing": _row_count(con, ctx.table),
        "values": missing,
        "detail": {"missing_columns": missing},
    }


def sql_value(value: Any) -> str:
    """A manifest literal as SQL."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return literal(str(value))


def condition(column: str, check: dict[str, Any]) -> str:
    """SQL that holds when `column` satisfies an `op value` or `in [lo, hi]` rule."""
    col = ident(column)
    if "in" in check and check["in"] is not None:
        lo, hi = check["in"]
        return f"({col} BETWEEN {sql_value(lo)} AND {sql_value(hi)})"
    op = "=" if check["op"] == "==" else check["op"]
    return f"({col} {op} {sql_value(check['value'])})"


def _range_entry(
    con: duckdb.DuckDBPyConnection, ctx: CheckContext, column: str, rule: dict[str, Any]
) -> Entry:
    name = f"range {column} " + (
        f"in {rule['in']}" if rule.get("in") else f"{rule['op']} {rule['value']}"
    )
    if absent := _absent(con, ctx, [column]):
        return {"check": name} | absent
    bad = f"{ident(column)} IS NOT NULL AND NOT {condition(column, rule)}"
    rows = _scalar(con, f"SELECT count(*) FROM {ident(ctx.table)} WHERE {bad}")
    return {
        "check": name,
        "kind": "range",
        "passed": rows == 0,
        "rows_failing": rows,
        "values": _samples(con, ctx.table, ident(column), bad) if rows else [],
    }


def check_schema(
    con: duckdb.DuckDBPyConnection, check: dict[str, Any], ctx: CheckContext
) -> list[Entry]:
    missing = list(ctx.missing_columns)
    n = _row_count(con, ctx.table)
    entries: list[Entry] = [
        {
            "check": "schema",
            "passed": not missing,
            "rows_failing": n if missing else 0,
            "values": missing[:_SAMPLE],
            "detail": {"missing_columns": missing},
        }
    ]
    bad_rows = sum(e["rows"] for e in ctx.type_errors)
    values = [v for e in ctx.type_errors for v in e["values"]][:_SAMPLE]
    entries.append(
        {
            "check": "type",
            "kind": "type",
            "passed": not ctx.type_errors,
            "rows_failing": bad_rows,
            "values": values,
            "detail": {"columns": ctx.type_errors},
        }
    )
    for col in check["columns"]:
        if col.get("constraint") and col["name"] not in missing:
            entries.append(_range_entry(con, ctx, col["name"], col["constraint"]))
    return entries


def check_require(
    con: duckdb.DuckDBPyConnection, check: dict[str, Any], ctx: CheckContext
) -> list[Entry]:
    name = "require " + ", ".join(check["columns"])
    if absent := _absent(con, ctx, check["columns"]):
        return [{"check": name} | absent]
    bad = " OR ".join(f"{ident(c)} IS NULL" for c in check["columns"])
    rows = _scalar(con, f"SELECT count(*) FROM {ident(ctx.table)} WHERE {bad}")
    nulls = [
        c
        for c in check["columns"]
        if _scalar(con, f"SELECT count(*) FROM {ident(ctx.table)} WHERE {ident(c)} IS NULL")
    ]
    return [
        {
            "check": name,
            "passed": rows == 0,
            "rows_failing": rows,
            "values": [],
            "detail": {"columns_with_nulls": nulls},
        }
    ]


def check_range(
    con: duckdb.DuckDBPyConnection, check: dict[str, Any], ctx: CheckContext
) -> list[Entry]:
    return [_range_entry(con, ctx, check["column"], check)]


def check_completeness(
    con: duckdb.DuckDBPyConnection, check: dict[str, Any], ctx: CheckContext
) -> list[Entry]:
    col = check["column"]
    name = f"completeness {col} {check['op']} {check['value']}"
    if absent := _absent(con, ctx, [col]):
        return [{"check": name} | absent]
    total, present = con.execute(
        f"SELECT count(*), count({ident(col)}) FROM {ident(ctx.table)}"
    ).fetchall()[0]
    observed = present / total if total else 1.0
    passed = _compare(observed, check["op"], float(check["value"]))
    return [
        {
            "check": name,
            "passed": passed,
            "rows_failing": 0 if passed else total - present,
            "values": [],
            "detail": {"observed": observed},
        }
    ]


def check_unique(
    con: duckdb.DuckDBPyConnection, check: dict[str, Any], ctx: CheckContext
) -> list[Entry]:
    cols = check["columns"]
    name = "unique " + ", ".join(cols)
    if absent := _absent(con, ctx, cols):
        return [{"check": name} | absent]
    keys = ", ".join(ident(c) for c in cols)
    key_text = " || ', ' || ".join(f"coalesce(CAST({ident(c)} AS VARCHAR), 'NULL')" for c in cols)
    dup = (
        f"SELECT {key_text} AS k, count(*) AS n FROM {ident(ctx.table)} "
        f"GROUP BY {keys} HAVING n > 1"
    )
    rows = _scalar(con, f"SELECT coalesce(sum(n), 0) FROM ({dup})")
    values = [
        r[0] for r in con.execute(f"SELECT k FROM ({dup}) ORDER BY k LIMIT {_SAMPLE}").fetchall()
    ]
    return [{"check": name, "passed": rows == 0, "rows_failing": int(rows), "values": values}]


def check_freshness(
    con: duckdb.DuckDBPyConnection, check: dict[str, Any], ctx: CheckContext
) -> list[Entry]:
    col = check["column"]
    name = f"freshness {col} within {check['within_s']}s"
    if absent := _absent(con, ctx, [col]):
        return [{"check": name} | absent]
    newest = _scalar(con, f"SELECT max({sql_us(ident(col))}) FROM {ident(ctx.table)}")
    if ctx.snapshot is None or newest is None:
        reason = "no snapshot to measure against" if ctx.snapshot is None else "no values"
        return [
            {
                "check": name,
                "passed": False,
                "rows_failing": 0,
                "values": [],
                "detail": {"reason": reason},
            }
        ]
    age_s = (to_us(snapshot_end(ctx.snapshot)) - newest) / 1_000_000
    newest_text = _scalar(con, f"SELECT CAST(max({ident(col)}) AS VARCHAR) FROM {ident(ctx.table)}")
    passed = age_s <= check["within_s"]
    return [
        {
            "check": name,
            "passed": passed,
            "rows_failing": 0,
            "values": [] if passed else [newest_text],
            "detail": {"newest": newest_text, "age_s": age_s},
        }
    ]


def check_drift(
    con: duckdb.DuckDBPyConnection, check: dict[str, Any], ctx: CheckContext
) -> list[Entry]:
    stat, col, factor = check["stat"], check["column"], float(check["factor"])
    name = f"drift {stat}({col}) within {factor:g}x of baseline"
    if absent := _absent(con, ctx, [col]):
        return [{"check": name} | absent]
    current = _scalar(
        con, f"SELECT {DRIFT_STATS[stat].format(c=ident(col))} FROM {ident(ctx.table)}"
    )
    current = None if current is None else float(current)
    found, baseline = ctx.baseline(stat, col)
    ctx.record(stat, col, current)
    if not found:
        return [
            {
                "check": name,
                "passed": True,
                "rows_failing": 0,
                "values": [],
                "detail": {"current": current, "baseline": None, "recorded": True},
            }
        ]
    passed = within_factor(current, baseline, factor)
    return [
        {
            "check": name,
            "passed": passed,
            "rows_failing": 0,
            "values": [] if passed else [str(current), str(baseline)],
            "detail": {"current": current, "baseline": baseline},
        }
    ]


def within_factor(current: float | None, baseline: float | None, factor: float) -> bool:
    """Equal, or same sign and non-zero with a ratio (either way) of at most `factor`."""
    if current == baseline:
        return True
    if current is None or baseline is None or current == 0 or baseline == 0:
        return False
    if (current > 0) != (baseline > 0):
        return False
    ratio = current / baseline
    return max(ratio, 1 / ratio) <= factor


def _compare(left: float, op: str, right: float) -> bool:
    return {
        ">=": left >= right,
        "<=": left <= right,
        ">": left > right,
        "<": left < right,
        "==": left == right,
        "!=": left != right,
    }[op]


CHECKS: dict[
    str, Callable[[duckdb.DuckDBPyConnection, dict[str, Any], CheckContext], list[Entry]]
] = {
    "schema": check_schema,
    "require": check_require,
    "range": check_range,
    "completeness": check_completeness,
    "unique": check_unique,
    "freshness": check_freshness,
    "drift": check_drift,
}
