"""How a validate stage names its checks: as the program says them, so the run's stop
message leads the reader to the line that failed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from pipec.stdlib.runtime.db import connect
from pipec.stdlib.runtime.validation import (
    CheckContext,
    ValidationBlocked,
    raise_if_blocked,
    run_checks,
)

CHECKS = [
    {"kind": "completeness", "column": "c", "op": ">=", "value": 0.9, "severity": "block"},
    {"kind": "freshness", "column": "ts", "within_s": 864000, "severity": "block"},
    {"kind": "range", "column": "n", "in": [-10, 10], "severity": "block"},
]


def test_completeness_freshness_and_range_are_named_as_written() -> None:
    """`completeness c >= 90%`, `freshness ts within 10d` and `range n in -10..10` were
    named `completeness c >= 0.9`, `freshness ts within 864000s` and `range n in [-10,
    10]`, the manifest's forms, which appear nowhere in the program the stop message
    sends the reader to."""
    con = connect()
    con.register("t_in", pa.table({"c": ["a", None, None],
                                   "ts": [datetime(2026, 1, 1, tzinfo=UTC)] * 3,
                                   "n": [1, 20, -3]}))
    con.execute("CREATE TABLE t AS SELECT * FROM t_in")
    ctx = CheckContext("t", date(2026, 3, 5), [], [], "block", lambda s, c: (False, None),
                       lambda s, c, v: None)
    report = {"checks": run_checks(con, CHECKS, ctx), "policy": "block"}
    assert [c["check"] for c in report["checks"]] == [
        "completeness c >= 90%", "freshness ts within 10d", "range n in -10..10"]
    with pytest.raises(ValidationBlocked) as blocked:
        raise_if_blocked("validate.s", report)
    assert str(blocked.value).endswith(
        "completeness c >= 90%; freshness ts within 10d; range n in -10..10")
