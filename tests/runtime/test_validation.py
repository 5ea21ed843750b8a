"""Each check kind, on a tiny table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pytest
from pipec.stdlib.runtime.db import connect
from pipec.stdlib.runtime.drift import within_factor
from pipec.stdlib.runtime.errors import ValidationBlocked
from pipec.stdlib.runtime.validation import (
    CheckContext,
    raise_if_blocked,
    run_checks,
)

from .manifests import col

AT = [datetime(2026, 3, d, tzinfo=UTC) for d in (1, 2, 2, 5)]


def _run(checks: list[dict[str, Any]], baseline: tuple = (False, None), **ctx: Any) -> list[dict]:
    con = connect()
    con.register(
        "t_in",
        pa.table(
            {
                "id": ["a", "b", "b", None],
                "x": [1.0, -2.0, None, 5.0],
                "at": pa.array(AT, pa.timestamp("us", tz="UTC")),
            }
        ),
    )
    con.execute("CREATE TABLE t AS SELECT * FROM t_in")
    recorded: list = []
    context = CheckContext(
        table="t",
        snapshot=ctx.get("snapshot", date(2026, 3, 5)),
        missing_columns=ctx.get("missing", []),
        type_errors=ctx.get("type_errors", []),
        default_severity="block",
        baseline=lambda s, c: baseline,
        record=lambda s, c, v: recorded.append((s, c, v)),
        null_time=ctx.get("null_time"),
    )
    return run_checks(con, checks, context)


def test_require_time_counts_the_rows_left_out_for_no_time() -> None:
    """The source leaves rows with no time out of the dataset; `require at` counts them."""
    (entry,) = _run([{"kind": "require", "columns": ["at"]}], null_time=("at", 3))
    assert (entry["passed"], entry["rows_failing"]) == (False, 3)
    assert entry["detail"] == {"columns_with_nulls": ["at"], "rows_without_time": 3}
    (other,) = _run([{"kind": "require", "columns": ["x"]}], null_time=("at", 3))
    assert other["rows_failing"] == 1  # only x's own NULL


def test_schema_type_and_constraints() -> None:
    cols = [col("id", "string"), col("x", "float", {"op": ">=", "value": 0}), col("gone", "int")]
    errs = [{"column": "x", "type": "float", "rows": 2, "values": ["oops", "nan?"]}]
    schema, type_, rng = _run(
        [{"kind": "schema", "columns": cols}], missing=["gone"], type_errors=errs
    )
    assert (schema["check"], schema["passed"], schema["values"]) == ("schema", False, ["gone"])
    assert (type_["passed"], type_["rows_failing"], type_["values"]) == (False, 2, ["oops", "nan?"])
    assert (rng["passed"], rng["rows_failing"], rng["values"]) == (False, 1, ["-2.0"])


def test_require_range_completeness_unique() -> None:
    req, rng, comp, uniq = _run(
        [
            {"kind": "require", "columns": ["id", "x"]},
            {"kind": "range", "column": "x", "in": [0, 4]},
            {"kind": "completeness", "column": "x", "op": ">=", "value": 0.8},
            {"kind": "unique", "columns": ["id"]},
        ]
    )
    assert (req["passed"], req["rows_failing"]) == (False, 2)
    assert (rng["passed"], rng["rows_failing"], rng["values"]) == (False, 2, ["-2.0", "5.0"])
    assert (comp["passed"], comp["rows_failing"], comp["detail"]["observed"]) == (False, 1, 0.75)
    assert (uniq["passed"], uniq["rows_failing"], uniq["values"]) == (False, 2, ["b"])


def test_unique_composite_key_passes() -> None:
    (uniq,) = _run([{"kind": "unique", "columns": ["id", "x"]}])
    assert uniq["passed"]


def test_freshness_against_snapshot_end() -> None:
    fresh = {"kind": "freshness", "column": "at", "within_s": 86_400}
    assert _run([fresh], snapshot=date(2026, 3, 5))[0]["passed"]  # newest 03-05 00:00
    stale = _run([fresh], snapshot=date(2026, 3, 6))[0]
    assert not stale["passed"] and stale["detail"]["age_s"] == 2 * 86_400


def test_drift_first_run_records_then_compares() -> None:
    drift = {"kind": "drift", "stat": "mean", "column": "x", "factor": 2}
    first = _run([drift])[0]
    assert first["passed"] and first["detail"]["recorded"]
    assert _run([drift], baseline=(True, 2.0))[0]["passed"]  # mean is 4/3
    failed = _run([drift], baseline=(True, 10.0))[0]
    assert not failed["passed"] and failed["detail"]["baseline"] == 10.0


def test_within_factor() -> None:
    assert within_factor(5.0, 1.0, 5) and not within_factor(5.1, 1.0, 5)
    assert within_factor(0.2, 1.0, 5) and not within_factor(-1.0, 1.0, 5)
    assert within_factor(0.0, 0.0, 2) and not within_factor(0.0, 1.0, 2)


def test_block_policy_raises_warn_does_not() -> None:
    entries = _run([{"kind": "range", "column": "x", "op": ">=", "value": 0}])
    report = {"checks": entries}
    with pytest.raises(ValidationBlocked) as info:
        raise_if_blocked("validate.t", report)
    assert info.value.report is report
    raise_if_blocked("validate.t", {"checks": [e | {"severity": "warn"} for e in entries]})
    raise_if_blocked("validate.t", report, policy="warn")


def test_partitioned_aggregation_raises_threads_for_one_query_only() -> None:
    from pipec.stdlib.runtime.db import (
        PARTITIONED_AGGREGATION_THREADS,
        connect,
        partitioned_aggregation,
        scalar,
    )

    con = connect()
    con.execute("SET threads = 1")
    with partitioned_aggregation(con):
        inside = scalar(con, "SELECT current_setting('threads')")
    assert inside == PARTITIONED_AGGREGATION_THREADS
    assert scalar(con, "SELECT current_setting('threads')") == 1
    con.execute("SET threads = 8")
    with partitioned_aggregation(con):
        assert scalar(con, "SELECT current_setting('threads')") == 8


def test_completeness_of_no_rows_fails() -> None:
    """QA: an empty weather export was "100% complete" and the model shipped with every
    weather feature NULL. No rows hold no value: the check fails, and says why."""
    con = connect()
    con.execute("CREATE TABLE t (id VARCHAR, x DOUBLE)")
    context = CheckContext(table="t", snapshot=date(2026, 3, 5), missing_columns=[],
                           type_errors=[], default_severity="block",
                           baseline=lambda s, c: (False, None), record=lambda s, c, v: None,
                           null_time=None)
    check = {"kind": "completeness", "column": "x", "op": ">=", "value": 0.99}
    (entry,) = [e for e in run_checks(con, [check], context) if e["kind"] == "completeness"]
    assert not entry["passed"] and entry["detail"] == {"observed": None, "reason": "no rows"}
    from pipec.commands.run_report import _failure

    assert _failure(entry) == "no rows"
