"""`pipec test` on keys and dates at the edges: a float key spelled two ways (0.0 and
-0.0), and split dates near the ends of the calendar or of nanosecond timestamps."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from pipec.cli import main
from pipec.stdlib.runtime.db import connect, ident, query_arrow
from pipec.stdlib.runtime.splits import SIDE, fraction_sql
from pipec.testing.properties import Options, SplitPropertyFailure, keys_one_side
from pipec.testing.strategies import bulk_table

from testing.programs import program_text, spec_for

FLOAT_KEYS = ("schema { user: string, at: timestamp, country: category, n: int >= 0, "
              "x: float, ok: bool, d: date, churn: bool }")


def spelling_hash_split(table: pa.Table, split: dict, snapshot: object, *,
                        on: str | None = None, identity: list[str] | None = None) -> pa.Table:
    """Hashes a key's text as DuckDB spells it, so `-0.0` and `0.0` hash apart."""
    con = connect()
    con.register("t", table)
    key = f"coalesce(CAST({ident(split.get('on') or on)} AS VARCHAR), '')"
    u = fraction_sql(int(split.get("seed") or 0), key)
    share = float(split.get("test") or 0.2)
    return query_arrow(con, f"SELECT *, CASE WHEN {u} < {share!r} THEN 'test' "
                            f"ELSE 'train' END AS {SIDE} FROM t")


def test_keys_one_side_catches_a_key_spelled_two_ways() -> None:
    # Drawn floats never held both 0.0 and -0.0 in one key pool, so this passed.
    spec = spec_for("split by group on x { test 0.5; seed 1 }", snapshot="2026-01-01",
                    schema=FLOAT_KEYS)
    # Enough examples that a pool with both spellings is always drawn (25 missed it once
    # in a full run); the property stops at the first one.
    with pytest.raises(SplitPropertyFailure) as caught:
        keys_one_side(spec, spelling_hash_split, Options(max_examples=200))
    # Either twin: the zeros, or a NaN with and without its sign bit (both repr `nan`).
    message = caught.value.message
    assert message.startswith(("x = 0.0 is on", "x = -0.0 is on", "x = nan is on")), message
    assert {repr(row["x"]) for row in caught.value.rows} in ({"0.0", "-0.0"}, {"nan"})


def test_the_runtime_keeps_a_float_key_on_one_side() -> None:
    spec = spec_for("split by group on x { test 0.5; seed 1 }", snapshot="2026-01-01",
                    schema=FLOAT_KEYS)
    keys_one_side(spec, None, Options(max_examples=25))


@pytest.mark.parametrize("split", [
    "split by time { train before 2025-06-01; gap 5d; test from 2025-06-06 until 9999-12-31 }",
    "split by time { train before 1600-01-01; gap 5d }",
    "split by time { train before 2250-01-01; gap 5000d }",
    "split by time { train before 9999-12-01; gap 365d }",
    "split by time { train before 0001-01-01; gap 5d }",
])
def test_far_split_dates_are_tested_not_an_internal_error(
        split: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Rows were drawn past year 9999 or before year 1, or into nanosecond columns that
    cannot hold them (before 1677, after 2262): `pipec: internal error`."""
    path = tmp_path / "model.pipe"
    path.write_text(program_text(split, predicts="future"), encoding="utf-8")
    code = main(["test", str(path), "--max-examples", "5", "--no-cross-process"])
    out = capsys.readouterr()
    assert "internal error" not in out.out + out.err
    assert code == 0, out.out


def test_bulk_tables_train_on_what_the_calendar_holds() -> None:
    spec = spec_for("split by time { train before 0001-01-03; gap 3d; valid 0.1; seed 1 }")
    table = bulk_table(spec, 50, 1)
    assert table.num_rows == 50
