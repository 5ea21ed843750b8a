"""Hostile but schema-valid data through a whole `pipec run`: empty tables, one row, one
class, NULL keys, times and features, duplicates, equal timestamps, extreme (finite)
floats, long and control-character strings, thousands of categories, events only after
the snapshot, split dates that empty a side.

Whatever the data, the run ends with a record, an exit status of 0-3 that matches the
record's status, no traceback and no "internal error"; a failed run (2) names its stage
and says why in one line, with one of the runtime's own errors, never a bare
ValueError from a library (that is a crash the runner caught, not an environment error).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from model.project import program, write_project

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
AFTER_SNAPSHOT = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)  # snapshot 2026-03-31 ends here
SCHEMA = pa.schema([("user", pa.string()), ("at", pa.timestamp("us", tz="UTC")),
                    ("amount", pa.float64()), ("country", pa.string()),
                    ("spend_next", pa.float64())])
EXTREME = [0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1.0, 100.0,
           100.00000000000001, 1e300, 1e308, 1.7976931348623157e308]
HOSTILE = ["", " ", "é", "𝔘ñí©ødé", "\u202eevil", "\x00", "a\x00b", "\x1b[2J\x1b[31m",
           "\r\n", "line\u2028sep", "\ufeff", "\U0001F600" * 3, "e\u0301", "'; DROP TABLE x;--",
           '"quoted"', "\\", "%s{}", "\ufffd", "x" * 20_000]

USER = ["pool", "unique", "hostile", "null", "some null"]
AT = ["spread", "equal", "after snapshot", "null", "some null", "edges", "train side only",
      "test side only"]
AMOUNT = ["ordinary", "extreme", "null", "some null"]
COUNTRY = ["few", "hostile", "many", "null"]
SPEND = ["ordinary", "one class", "extreme", "null", "some null"]
VALIDATE = ["strict", "lenient"]
SPLIT = ["default", "empty train", "late test"]
MODELS = {  # NaN imputed (linear), NaN taken as is (boosting), one class fitted (tree)
    "linear": ('"sklearn.linear_model.LogisticRegression"', "{ C: 1.0, max_iter: 300 }"),
    "boosting": ('"sklearn.ensemble.HistGradientBoostingClassifier"', "{ max_iter: 20 }"),
    "tree": ('"sklearn.tree.DecisionTreeClassifier"', "{ max_depth: 3 }"),
}


@dataclass(frozen=True)
class Case:
    rows: int
    user: str = "pool"
    at: str = "spread"
    amount: str = "ordinary"
    country: str = "few"
    spend: str = "ordinary"
    duplicates: bool = False
    validate: str = "lenient"
    split: str = "default"
    model: str = "linear"
    seed: int = 0


def _user(kind: str, i: int, rng: random.Random) -> str | None:
    if kind == "null" or (kind == "some null" and rng.random() < 0.3):
        return None
    if kind == "unique":
        return f"u{i}"
    if kind == "hostile":
        return rng.choice(HOSTILE) + str(rng.randrange(5))
    return f"u{rng.randrange(5)}"


def _at(kind: str, rng: random.Random) -> dt.datetime | None:
    if kind == "null" or (kind == "some null" and rng.random() < 0.3):
        return None
    if kind == "equal":
        return T0 + dt.timedelta(days=45)
    if kind == "after snapshot":
        return AFTER_SNAPSHOT + dt.timedelta(seconds=rng.randrange(30 * 86400))
    if kind == "train side only":  # before the default split's `train before`
        return T0 + dt.timedelta(seconds=rng.randrange(59 * 86400))
    if kind == "test side only":  # on or after its `test from`
        return dt.datetime(2026, 3, 3, tzinfo=dt.UTC) + dt.timedelta(
            seconds=rng.randrange(28 * 86400))
    if kind == "edges":  # the split dates, the gap, the snapshot's last microsecond
        return rng.choice([dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                           dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
                           dt.datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=dt.UTC),
                           AFTER_SNAPSHOT - dt.timedelta(microseconds=1), T0])
    return T0 + dt.timedelta(seconds=rng.randrange(89 * 86400))


def _float(kind: str, rng: random.Random, ordinary: float) -> float | None:
    if kind == "null" or (kind == "some null" and rng.random() < 0.3):
        return None
    if kind == "extreme":
        return rng.choice(EXTREME)
    return ordinary


def _country(kind: str, i: int, rng: random.Random) -> str | None:
    if kind == "null":
        return None
    if kind == "hostile":
        return rng.choice(HOSTILE)
    if kind == "many":
        return f"c{i}\u00e9"
    return rng.choice(["FR", "DE", "US"])


def table(case: Case) -> pa.Table:
    rng = random.Random(case.seed)
    rows = []
    for i in range(case.rows):
        spend = rng.uniform(0, 250) if case.spend != "one class" else 7.0
        rows.append((_user(case.user, i, rng), _at(case.at, rng),
                     _float(case.amount, rng, round(rng.expovariate(1 / 60), 2)),
                     _country(case.country, i, rng), _float(case.spend, rng, spend)))
    if case.duplicates and rows:
        rows += [rows[rng.randrange(len(rows))] for _ in range(max(1, len(rows) // 2))]
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in SCHEMA]
    return pa.table([pa.array(list(c), f.type) for c, f in zip(columns, SCHEMA, strict=True)],
                    schema=SCHEMA)


def pipe_text(case: Case) -> str:
    text = program()
    if case.validate == "lenient":  # let NULLs and duplicates reach the later stages
        text = text.replace("    require user, at, amount\n", "")
        text = text.replace("    unique user, at\n", "")
    model, params = MODELS[case.model]
    text = text.replace('"sklearn.linear_model.LogisticRegression"', model)
    text = text.replace("params { C: 1.0, max_iter: 300 }", f"params {params}")
    if case.split == "empty train":
        text = text.replace("train before 2026-03-01", "train before 2025-06-01")
        text = text.replace("test from 2026-03-03", "test from 2025-06-03")
    elif case.split == "late test":  # the last days of the snapshot: often no test row
        text = text.replace("train before 2026-03-01", "train before 2026-03-27")
        text = text.replace("test from 2026-03-03", "test from 2026-03-29")
    return text


def run_case(case: Case, folder: Path) -> tuple[int, str]:
    from pipec.cli import main

    path = write_project(folder)
    pq.write_table(table(case), folder / "data" / "events.parquet")
    path.write_text(pipe_text(case), "utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["run", str(path)])
    return code, out.getvalue()


def _runtime_errors() -> set[str]:
    """Names of the runtime's own error classes: what a failed run may name."""
    import pipec.stdlib.runtime.stage  # noqa: F401  (loads every runner's module)
    from pipec.stdlib.runtime.errors import PipecRuntimeError

    found, todo = set(), [PipecRuntimeError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo += cls.__subclasses__()
    return found


def problems(folder: Path, code: int, output: str) -> list[str]:
    from pipec.commands._runtime import EXIT_CODES
    from pipec.stdlib.runtime.records import RunRecords

    found = [f"{word!r} in the output" for word in ("Traceback", "internal error")
             if word in output]
    if code not in (0, 1, 2, 3):
        found.append(f"exit status {code}")
    records = RunRecords(folder)
    try:
        listed = records.list()
        record = records.get(listed[0]["run_id"]) if len(listed) == 1 else None
    finally:
        records.close()
    if record is None:
        return [*found, f"{len(listed)} run records, not 1"]
    if EXIT_CODES.get(record["status"]) != code:
        found.append(f"exit {code} but the record says {record['status']}")
    if code == 2:
        found += _failure_problems(record)
    return found


def _failure_problems(record: dict[str, Any]) -> list[str]:
    error = (record.get("report") or {}).get("error") or ""
    stage, _, rest = error.partition(": ")
    # The runtime's own errors read as their message; anything else keeps its class
    # (`ValueError: ...`), which is how a crash the runner caught shows.
    kind = rest.partition(": ")[0]
    found = []
    if "\n" in error or stage not in _stage_ids():
        found.append(f"a failure that does not name its stage in one line: {error!r}")
    if kind.isidentifier() and kind not in _runtime_errors():
        found.append(f"a crash recorded as an environment error: {error[:300]!r}")
    return found


def _stage_ids() -> set[str]:
    return {"source.events", "validate.events", "label.big_spender", "features.history",
            "join", "split", "train.model", "evaluate.model", "register.model",
            "deploy.model"}


def check(case: Case) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        code, output = run_case(case, folder)
        found = problems(folder, code, output)
    assert not found, f"{case}: {found}\n{output[-3000:]}"




def _mostly(usual: str, kinds: list[str]) -> st.SearchStrategy[str]:
    """`usual` half of the time: a case with every column hostile mostly stops at the
    first check, and the later stages would rarely see hostile data."""
    return st.one_of(st.just(usual), st.sampled_from(kinds))


cases = st.builds(
    Case,
    rows=st.one_of(st.integers(0, 40), st.sampled_from([300, 300, 2500])),
    user=_mostly("pool", USER), at=_mostly("spread", AT), amount=_mostly("ordinary", AMOUNT),
    country=_mostly("few", COUNTRY), spend=_mostly("ordinary", SPEND),
    duplicates=st.booleans(), validate=_mostly("lenient", VALIDATE),
    split=_mostly("default", SPLIT), model=st.sampled_from(sorted(MODELS)),
    seed=st.integers(0, 2**32 - 1))


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@example(Case(rows=0))
@example(Case(rows=0, validate="strict"))
@example(Case(rows=1))
@example(Case(rows=300, spend="one class"))
@example(Case(rows=300, spend="one class", model="tree"))
@example(Case(rows=300, amount="null", country="null", model="boosting"))
@example(Case(rows=300, amount="extreme", spend="extreme", model="boosting"))
@example(Case(rows=300, amount="null"))
@example(Case(rows=300, user="null", at="null"))
@example(Case(rows=300, user="some null", at="some null", duplicates=True))
@example(Case(rows=300, at="equal", user="unique"))
@example(Case(rows=300, amount="extreme", spend="extreme"))
@example(Case(rows=300, user="hostile", country="hostile"))
@example(Case(rows=300, user="hostile", country="hostile", validate="strict"))
@example(Case(rows=300, duplicates=True))
@example(Case(rows=2500, country="many", user="unique"))
@example(Case(rows=300, at="after snapshot"))
@example(Case(rows=300, split="empty train"))
@example(Case(rows=300, at="train side only"))
@example(Case(rows=300, at="test side only"))
@example(Case(rows=300, split="late test"))
@example(Case(rows=300, at="edges", duplicates=True, validate="strict"))
@given(cases)
def test_hostile_data_ends_in_a_recorded_status(case: Case) -> None:
    check(case)
