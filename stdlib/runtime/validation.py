"""The validate stage's checks over the snapshotted dataset, in as few DuckDB scans as
possible: one aggregate query for the counts of every check (a `unique` check counts the
distinct hashes of its key there), then a GROUP BY only for a `unique` check that found a
repeated hash, and a sample query only for a failing check.

Every check yields one report entry:
`{"check", "kind", "severity", "passed", "rows_failing", "values", "detail"}` where
`values` holds up to five offending values (as text, sorted, so reports are stable).

Readings of the language where it is terse:
- The manifest's `schema` check becomes up to three kinds of entries: `schema` (declared
  columns present), `type` (values that did not cast to the declared type, counted when
  the source was loaded) and one `range` entry per schema constraint (`amount: float >= 0`).
  A `range` rule that repeats a schema constraint is the same check: one entry.
- `require COLS`: the columns exist and are non-NULL on every row.
- `range` and schema constraints ignore NULLs (completeness is the check for NULLs).
- `completeness` fails on no rows at all: an empty export is not complete.
- `unique a, b` groups NULLs together, like GROUP BY; every row of a duplicated key fails.
- `freshness COL within D`: the newest COL is at most D before the snapshot's end
  (`DATE + 1d`, the instant the snapshot cuts the data at).
- `drift STAT(COL) within Nx of baseline`: passes when both values are equal, or both
  non-zero with the same sign and max(|a/b|, |b/a|) <= N. The baseline is the value
  recorded by the newest blessed run; before any run is blessed, the first recorded run's
  value; with none recorded, this run records it and passes. Only a validation that
  does not block records its values, and never a missing one (`data_stages`).
- A check's severity is its own `severity` (the compiler writes `warn` for a line
  ending in `warn`, else `block`). The stage blocks when its effective `on_failure` is
  not `warn`/`alert` and a failed check has severity `block`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
from pipec.spelling import check_line

from .dates import snapshot_end, sql_us, to_us
from .db import ident, literal, partitioned_aggregation
from .drift import drift_entry, drift_name
from .errors import ValidationBlocked

_SAMPLE = 5
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T")
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
    # (time column, rows the source left out because their time was NULL): a row with
    # no time cannot be placed before or after anything, so it is not in the dataset,
    # but `require TIME` must still count it.
    null_time: tuple[str, int] | None = None


Entry = dict[str, Any]


class Scan:
    """Aggregates over the whole table that many checks share, computed in one query.

    Checks run in two steps: each check first `add`s the aggregates it needs and gets
    back a getter, then (after `run`, one scan of the data for every check at once) it
    builds its entries from the values. Only a failing check queries again, for its
    offending samples.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        self.con, self.table = con, table
        self.columns = set(con.table(table).columns)
        self._exprs: dict[str, int] = {}
        self._values: tuple[Any, ...] | None = None

    def add(self, expr: str) -> Callable[[], Any]:
        i = self._exprs.setdefault(expr, len(self._exprs))
        return lambda: self._result()[i]

    def _result(self) -> tuple[Any, ...]:
        if self._values is None:
            self.run()
        assert self._values is not None
        return self._values

    def run(self) -> None:
        if self._values is not None or not self._exprs:
            self._values = self._values or ()
            return
        # The first fetch of a result: DuckDB 2 refuses new work on a connection
        # while a result is only partly fetched.
        with partitioned_aggregation(self.con):  # a `unique` check's distinct count
            self._values = self.con.execute(
                f"SELECT {', '.join(self._exprs)} FROM {ident(self.table)}"
            ).fetchall()[0]


Finish = Callable[[], list[Entry]]


def run_checks(
    con: duckdb.DuckDBPyConnection, checks: list[dict[str, Any]], ctx: CheckContext
) -> list[Entry]:
    """Every check in manifest order; schema expands to schema, type and constraints.

    The counts of all checks come from one aggregate query over the table; offending
    samples (and a duplicated key's groups) are fetched for failing checks only.
    """
    scan = Scan(con, ctx.table)
    pending: list[tuple[dict[str, Any], Finish]] = [
        (check, CHECKS[check["kind"]](scan, check, ctx)) for check in checks
    ]
    scan.run()
    entries: list[Entry] = []
    for check, finish in pending:
        severity = check.get("severity") or ctx.default_severity
        for entry in finish():
            entries.append({"kind": check["kind"], "severity": severity, "detail": {}} | entry)
    return _once_each(entries)


def _once_each(entries: list[Entry]) -> list[Entry]:
    """One entry per distinct check. A validate rule may repeat a schema constraint
    (`amount: float >= 0` and `range amount >= 0`): the same rule over the same rows is
    one check, and listing it twice made the run say "2 failed" for one problem. The
    entry kept is the first; it blocks if any of its declarations does."""
    kept: dict[tuple[str, str], Entry] = {}
    for entry in entries:
        first = kept.setdefault((entry["kind"], entry["check"]), entry)
        if first is not entry and entry["severity"] == "block":
            first["severity"] = "block"
    return list(kept.values())


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


def _samples(con: duckdb.DuckDBPyConnection, table: str, expr: str, where: str) -> list[str]:
    rows = con.execute(
        f"SELECT DISTINCT CAST({expr} AS VARCHAR) AS v FROM {ident(table)} "
        f"WHERE {where} ORDER BY v NULLS FIRST LIMIT {_SAMPLE}"
    ).fetchall()
    return [r[0] for r in rows]


def _absent(scan: Scan, columns: list[str]) -> Finish | None:
    """A check on a column the data lacks fails on every row instead of crashing."""
    missing = [c for c in columns if c not in scan.columns]
    if not missing:
        return None
    rows = scan.add("count(*)")
    return lambda: [
        {
            "passed": False,
            "rows_failing": rows(),
            "values": missing,
            "detail": {"missing_columns": missing},
        }
    ]


def _named(name: str, finish: Finish) -> Finish:
    return lambda: [{"check": name} | e for e in finish()]


def sql_value(value: Any) -> str:
    """A manifest literal as SQL.

    A timestamp (`2026-01-03T12:00:00Z`) is a TIMESTAMPTZ: as a bare string DuckDB would
    cast it to the column's type, and against a `date` column drop its time of day
    (`d >= 2026-01-02T12:00:00Z` would hold for d = 2026-01-02). A date column is then
    compared as 00:00 UTC of its day (the session zone is UTC).
    """
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str) and _TIMESTAMP.match(value):
        return f"CAST({literal(value)} AS TIMESTAMPTZ)"
    return literal(str(value))


def condition(column: str, check: dict[str, Any]) -> str:
    """SQL that holds when `column` satisfies an `op value` or `in [lo, hi]` rule."""
    col = ident(column)
    if "in" in check and check["in"] is not None:
        lo, hi = check["in"]
        return f"({col} BETWEEN {sql_value(lo)} AND {sql_value(hi)})"
    op = "=" if check["op"] == "==" else check["op"]
    return f"({col} {op} {sql_value(check['value'])})"


def _range_entry(scan: Scan, column: str, rule: dict[str, Any]) -> Finish:
    # As written (`range v in -10..10`), as the other checks are named.
    name = check_line({**rule, "kind": "range", "column": column})
    if absent := _absent(scan, [column]):
        return _named(name, absent)
    bad = f"{ident(column)} IS NOT NULL AND NOT {condition(column, rule)}"
    rows = scan.add(f"count(*) FILTER (WHERE {bad})")

    def finish() -> list[Entry]:
        n = rows()
        return [
            {
                "check": name,
                "kind": "range",
                "passed": n == 0,
                "rows_failing": n,
                "values": _samples(scan.con, scan.table, ident(column), bad) if n else [],
            }
        ]

    return finish


def check_schema(scan: Scan, check: dict[str, Any], ctx: CheckContext) -> Finish:
    missing = list(ctx.missing_columns)
    n = scan.add("count(*)")
    ranges = [
        _range_entry(scan, col["name"], col["constraint"])
        for col in check["columns"]
        if col.get("constraint") and col["name"] not in missing
    ]

    def finish() -> list[Entry]:
        entries: list[Entry] = [
            {
                "check": "schema",
                "passed": not missing,
                "rows_failing": n() if missing else 0,
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
        for r in ranges:
            entries.extend(r())
        return entries

    return finish


def check_require(scan: Scan, check: dict[str, Any], ctx: CheckContext) -> Finish:
    name = "require " + ", ".join(check["columns"])
    if absent := _absent(scan, check["columns"]):
        return _named(name, absent)
    bad = " OR ".join(f"{ident(c)} IS NULL" for c in check["columns"])
    rows = scan.add(f"count(*) FILTER (WHERE {bad})")
    # count(*) - count(c): the NULLs of c, from the same scan.
    nulls = {c: scan.add(f"count(*) - count({ident(c)})") for c in check["columns"]}

    time_col, dropped = ctx.null_time or ("", 0)
    dropped = dropped if time_col in check["columns"] else 0

    def finish() -> list[Entry]:
        n = rows() + dropped
        detail: dict[str, Any] = {"columns_with_nulls": [
            c for c in check["columns"] if nulls[c]() or (c == time_col and dropped)]}
        if dropped:
            detail["rows_without_time"] = dropped  # left out of the dataset by the source
        return [{"check": name, "passed": n == 0, "rows_failing": n, "values": [],
                 "detail": detail}]

    return finish


def check_range(scan: Scan, check: dict[str, Any], ctx: CheckContext) -> Finish:
    return _range_entry(scan, check["column"], check)


def check_completeness(scan: Scan, check: dict[str, Any], ctx: CheckContext) -> Finish:
    col = check["column"]
    # Named as written (`>= 99%`, `within 2d`), not as the manifest stores it (`>= 0.99`,
    # `within 172800s`): the run's stop message must lead the reader to the line.
    name = check_line(check)
    if absent := _absent(scan, [col]):
        return _named(name, absent)
    total_of, present_of = scan.add("count(*)"), scan.add(f"count({ident(col)})")

    def finish() -> list[Entry]:
        total, present = total_of(), present_of()
        if not total:
            # No rows hold no value at all: an empty export is not "100% complete" (the
            # features of every example would be NULL, and the model would ship).
            return [{"check": name, "passed": False, "rows_failing": 0, "values": [],
                     "detail": {"observed": None, "reason": "no rows"}}]
        observed = present / total
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

    return finish


def check_unique(scan: Scan, check: dict[str, Any], ctx: CheckContext) -> Finish:
    cols = check["columns"]
    name = "unique " + ", ".join(cols)
    if absent := _absent(scan, cols):
        return _named(name, absent)
    keys = ", ".join(ident(c) for c in cols)
    key_text = _key_text(cols)

    # Counted in the one scan of every check: equal keys (NULLs included) hash alike, so
    # as many distinct 64-bit hashes as rows proves there is no duplicate, without a
    # second pass or a hash table keyed by the columns themselves.
    rows_of = scan.add("count(*)")
    hashes_of = scan.add(f"count(DISTINCT hash({keys}))")

    def finish() -> list[Entry]:
        if hashes_of() == rows_of():
            return [{"check": name, "passed": True, "rows_failing": 0, "values": []}]
        # One GROUP BY gives the count and the samples; keys are turned into text only
        # for the duplicated groups. min(k, N): the N smallest, sorted.
        with partitioned_aggregation(scan.con):
            rows, values = scan.con.execute(
                f"SELECT coalesce(sum(n), 0), coalesce(min(k, {_SAMPLE}), []) FROM ("
                f"SELECT {key_text} AS k, n FROM ("
                f"SELECT {keys}, count(*) AS n FROM {ident(scan.table)} "
                f"GROUP BY {keys} HAVING count(*) > 1))"
            ).fetchall()[0]
        return [
            {"check": name, "passed": rows == 0, "rows_failing": int(rows), "values": list(values)}
        ]

    return finish


def _key_text(cols: list[str]) -> str:
    """SQL for a key as the report shows it. A composite key is parenthesised: joined
    by commas in a list of samples, `NULL, 2026-01-01, NULL, 2026-01-02` could not be
    told from four single values."""
    text = " || ', ' || ".join(f"coalesce(CAST({ident(c)} AS VARCHAR), 'NULL')" for c in cols)
    return f"'(' || {text} || ')'" if len(cols) > 1 else text


def check_freshness(scan: Scan, check: dict[str, Any], ctx: CheckContext) -> Finish:
    col = check["column"]
    name = check_line(check)
    if absent := _absent(scan, [col]):
        return _named(name, absent)
    newest_of = scan.add(f"max({sql_us(ident(col))})")
    newest_text_of = scan.add(f"CAST(max({ident(col)}) AS VARCHAR)")

    def finish() -> list[Entry]:
        newest = newest_of()
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
        newest_text = newest_text_of()
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

    return finish


def check_drift(scan: Scan, check: dict[str, Any], ctx: CheckContext) -> Finish:
    stat, col = check["stat"], check["column"]
    name = drift_name(check)
    if absent := _absent(scan, [col]):
        return _named(name, absent)
    current_of = scan.add(DRIFT_STATS[stat].format(c=ident(col)))

    def finish() -> list[Entry]:
        current = current_of()
        current = None if current is None else float(current)
        baseline = ctx.baseline(stat, col)
        ctx.record(stat, col, current)
        return [drift_entry(check, current, baseline)]

    return finish


def _compare(left: float, op: str, right: float) -> bool:
    return {
        ">=": left >= right,
        "<=": left <= right,
        ">": left > right,
        "<": left < right,
        "==": left == right,
        "!=": left != right,
    }[op]


CHECKS: dict[str, Callable[[Scan, dict[str, Any], CheckContext], Finish]] = {
    "schema": check_schema,
    "require": check_require,
    "range": check_range,
    "completeness": check_completeness,
    "unique": check_unique,
    "freshness": check_freshness,
    "drift": check_drift,
}
