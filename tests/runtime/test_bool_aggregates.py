"""A feature's `sum` and `mean` of a bool column: the count and the share of true values
in the window, as a model reads a bool (1 and 0). T003 refused them, with a help that
pointed at `count()`, which counts rows, not true values: "failed invoices in the last
90 days" had no spelling, though the runtime computed them right (its exact sums cast a
bool to 1 and 0); the values are pinned here against brute force. Aggregates the
runtime does not compute (`std`, `avg`) are T003 at check time; they used to pass the
checker and stop the run with a KeyError."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipec.check import compile as pipec_compile
from pipec.manifest import build_manifest
from pipec.stdlib.runtime.runner import run_pipeline
from pipec.stdlib.runtime.store import ArtifactStore

START = datetime(2026, 1, 1, tzinfo=UTC)
# Per account: (day of the event, failed?) of its invoices; None is a missing flag.
INVOICES = {
    "a": [(0, True), (1, False), (2, True), (3, None), (10, True)],
    "b": [(0, False), (1, False), (5, True)],
    "c": [(4, None)],
}


# The same file as a second source: a view over it takes the two-table route, a view
# over the base source itself the single-pass one.
COPY = """  source copy {
    from parquet "invoices.parquet"
    snapshot 2026-02-01
    entity account
    time at
    schema { id: int; account: string; at: timestamp; failed: bool; amount: float }
  }"""


def _program(features: str) -> str:
    return f"""team t {{ contact "#t"; role ml }}
pipeline p {{
  owner t
  on_failure block
  predicts iid
  examples from invoices
  source invoices {{
    from parquet "invoices.parquet"
    snapshot 2026-02-01
    entity account
    time at
    schema {{ id: int; account: string; at: timestamp; failed: bool; amount: float }}
  }}
{COPY}
{features}
  split by random {{ test 0.2; seed 1 }}
  train m {{ model "sklearn.dummy.DummyRegressor"; seed 1; task regression; features [amount] }}
}}
"""


VIEW = """  features history version 1 {
    from invoices
    entity account
    point_in_time
    feature failed_5d = sum(failed) over 5d
    feature failed_share_5d = mean(failed) over 5d
    feature invoices_5d = count() over 5d
  }"""


def _write_invoices(folder: Path) -> list[dict]:
    rows = [{"id": i, "account": account, "at": START + timedelta(days=day),
             "failed": failed, "amount": 10.0 * i}
            for i, (account, day, failed) in enumerate(
                (a, d, f) for a, events in sorted(INVOICES.items()) for d, f in events)]
    pq.write_table(pa.Table.from_pylist(rows, pa.schema([
        ("id", pa.int64()), ("account", pa.string()), ("at", pa.timestamp("us", tz="UTC")),
        ("failed", pa.bool_()), ("amount", pa.float64())])), folder / "invoices.parquet")
    return rows


def _expected(rows: list[dict], row: dict) -> tuple[int | None, float | None, int]:
    """Brute force: the same account's invoices in [t - 5d, t), their true flags."""
    seen = [r["failed"] for r in rows if r["account"] == row["account"]
            and row["at"] - timedelta(days=5) <= r["at"] < row["at"]]
    flags = [f for f in seen if f is not None]
    if not flags:
        return None, None, len(seen)
    return sum(flags), sum(flags) / len(flags), len(seen)


@pytest.mark.parametrize("source", ["invoices", "copy"])
def test_sum_and_mean_of_a_bool_count_and_share_its_true_values(
        tmp_path: Path, source: str) -> None:
    rows = _write_invoices(tmp_path)
    (tmp_path / "p.pipe").write_text(_program(VIEW.replace("from invoices", f"from {source}")))
    program = pipec_compile(tmp_path / "p.pipe")
    assert not [d for d in program.diagnostics if d.code == "T003"], program.diagnostics
    result = run_pipeline(build_manifest(program), tmp_path, tmp_path, until="join")
    assert result.status == "succeeded", result.report
    join = next(s for s in result.stages if s.stage_id == "join")
    store = ArtifactStore(tmp_path)
    examples = {r["id"]: r for r in store.get_table(join.outputs["examples"]).to_pylist()}
    store.close()
    for row in rows:
        total, share, count = _expected(rows, row)
        got = examples[row["id"]]
        assert got["history__invoices_5d"] == count, row
        assert got["history__failed_5d"] == total, row
        if share is None:
            assert got["history__failed_share_5d"] is None, row
        else:
            assert got["history__failed_share_5d"] == pytest.approx(share), row
    # Account a on day 10 sees nothing (days 0-3 are more than 5 days back); on day 3 it
    # sees True, False, True: two failed invoices, a share of 2/3.
    assert examples[3]["history__failed_5d"] == 2


@pytest.mark.parametrize(("aggregate", "message", "help_text"), [
    # Not computed by the runtime: these passed the checker and stopped the run.
    ("std(amount)", "not an aggregate of a feature", "no windowed standard deviation"),
    ("stddev(amount)", "not an aggregate of a feature", "no windowed standard deviation"),
    ("avg(amount)", "not an aggregate of a feature", "did you mean `mean`?"),
    # Computed, but not of this type: the help says what is.
    ("max(failed)", "`max(failed)` of a bool", "`sum` counts the true values"),
    ("sum(account)", "`sum(account)` of a string", "`count(COL)` counts its values"),
])
def test_an_aggregate_that_cannot_be_computed_is_t003_with_what_can(
        tmp_path: Path, aggregate: str, message: str, help_text: str) -> None:
    view = VIEW.replace("sum(failed)", aggregate)
    (tmp_path / "p.pipe").write_text(_program(view))
    found = [d for d in pipec_compile(tmp_path / "p.pipe").diagnostics if d.code == "T003"]
    assert len(found) == 1, found
    assert message in found[0].message
    assert help_text in (found[0].help or "")
