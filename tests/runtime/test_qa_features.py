"""A differential test of the data stages against a brute-force reading of language.md
("Semantics the runtime and the checker share"), written from the spec text alone.

Each example writes small random parquet tables and a `.pipe` (a base source, an event
source with a lag, a windowed label from it, a view over it with aggregates and
`columns`, a view over the base itself), compiles it and runs it until `join`, then
compares every examples row (which rows survive censoring, the label, every feature)
with the oracle below. Unlike test_oracle.py (SQL builders over fixed types) this goes
through `load_source` and the stage runners: snapshots (`DATE` and `latest`), `date`
time columns, tz-aware and naive timestamps, NULL times, int / int32 / float / decimal
value columns, string and integer keys, NULL keys, keys only in the base or only in the
source, lags off the grid (1ms, 30m), windows of seconds to 400 days, grids of seconds
crossing a UTC midnight, NaN, -0.0, 1/3, tiny (1.6e-19) and huge (1e300, 1.5e308)
values, and 2**62 integers.

Readings the oracle takes from the runtime's documented choices where language.md is
silent: an empty window's sum / mean / min / max is NULL (counts 0); a NaN is a missing
value (sources.py); a windowed label with a NULL entity is NULL, not false; a windowed
label is also censored when t + W >= the snapshot's end (labels.py); ties of `columns`
rows at the same time may resolve to any of them; sums agree to 1e-6 of the sum of the
|values| (the runtime keeps 7 significant digits of a column's smallest value).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from pipec.check import compile as pipec_compile
from pipec.manifest import build_manifest
from pipec.stdlib.runtime import features as F
from pipec.stdlib.runtime.db import connect
from pipec.stdlib.runtime.runner import run_pipeline
from pipec.stdlib.runtime.store import ArtifactStore

US = 1_000_000
DAY_US = 86_400 * US
UNITS = {"s": US, "h": 3600 * US, "d": DAY_US}
# Epochs chosen so that a grid of ~13 units crosses a UTC midnight (snapshot boundaries).
EPOCHS = {
    "s": datetime(2026, 1, 1, 23, 59, 54, tzinfo=UTC),
    "h": datetime(2026, 1, 1, 18, tzinfo=UTC),
    "d": datetime(2026, 1, 1, tzinfo=UTC),
}
EPOCH0 = datetime(1970, 1, 1, tzinfo=UTC)


def us_of(dt: datetime) -> int:
    d = dt - EPOCH0
    return (d.days * 86400 + d.seconds) * US + d.microseconds


@dataclass
class Table:
    name: str
    time_kind: str  # ts_naive | ts_tz | date | date_as_ts
    rows: list[dict[str, Any]]  # values: key, t (grid int or None), v, c, ...
    value_kind: str = "float"  # int | int32 | float | decimal
    snapshot: str = "latest"  # latest | YYYY-MM-DD
    lag: int = 0  # in units
    lag_extra: str = ""  # "", "1ms", "30m": a lag off the grid
    key_col: str = "k"


@dataclass
class Case:
    unit: str
    key_kind: str  # string | int
    base: Table
    ev: Table
    label_window: int  # units
    label_big: bool
    fwin: tuple[int, int]  # units
    self_win: int
    self_key: str  # k or g
    with_label: bool = True
    with_self: bool = True
    with_ev_view: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def u(self) -> int:
        return UNITS[self.unit]

    def epoch_us(self) -> int:
        return us_of(EPOCHS[self.unit])

    def t_us(self, t: int | None) -> int | None:
        return None if t is None else self.epoch_us() + t * self.u

    def dur(self, n: int) -> str:
        return f"{n}{self.unit}"

    def win_us(self, n: int) -> int:
        return n * self.u

    def lag_us(self, table: Table) -> int:
        extra = {"": 0, "1ms": 1000, "30m": 1800 * US}[table.lag_extra]
        return table.lag * self.u + extra

    def lag_text(self, table: Table) -> str:
        if table.lag_extra and not table.lag:
            return table.lag_extra
        return f"{self.dur(table.lag)}{table.lag_extra}"


BIG_WINDOW_D = 400  # a window of more than a year


def _pa_time(case: Case, table: Table) -> pa.Array:
    vals = [case.t_us(r["t"]) for r in table.rows]
    dts = [None if v is None else EPOCH0 + timedelta(microseconds=v) for v in vals]
    if table.time_kind in ("date", "date_as_ts"):
        return pa.array([None if d is None else d.date() for d in dts], pa.date32())
    if table.time_kind == "ts_tz":
        return pa.array(dts, pa.timestamp("us", tz="America/New_York"))
    return pa.array([None if d is None else d.replace(tzinfo=None) for d in dts],
                    pa.timestamp("us"))


def _pa_values(kind: str, vals: list[Any]) -> pa.Array:
    if kind == "int":
        return pa.array(vals, pa.int64())
    if kind == "int32":
        return pa.array(vals, pa.int32())
    if kind == "decimal":
        return pa.array([None if v is None else Decimal(v) for v in vals], pa.decimal128(30, 12))
    return pa.array(vals, pa.float64())


def _key_array(case: Case, keys: list[Any]) -> pa.Array:
    return pa.array(keys, pa.string() if case.key_kind == "string" else pa.int64())


def write(case: Case, folder: Path) -> None:
    b = case.base
    pq.write_table(pa.table({
        "rid": pa.array(range(len(b.rows)), pa.int64()),
        "k": _key_array(case, [r["k"] for r in b.rows]),
        "g": _key_array(case, [r["g"] for r in b.rows]),
        "t": _pa_time(case, b),
        "x": _pa_values(b.value_kind, [r["x"] for r in b.rows]),
    }), folder / "base.parquet")
    e = case.ev
    pq.write_table(pa.table({
        "k": _key_array(case, [r["k"] for r in e.rows]),
        "ts": _pa_time(case, e),
        "v": _pa_values(e.value_kind, [r["v"] for r in e.rows]),
        "c": pa.array([r["c"] for r in e.rows], pa.string()),
    }), folder / "ev.parquet")


def _decl(kind: str) -> str:
    return "int" if kind in ("int", "int32") else "float"


def _time_decl(kind: str) -> str:
    return "date" if kind == "date" else "timestamp"


def pipe_text(case: Case) -> str:
    b, e = case.base, case.ev
    key = "string" if case.key_kind == "string" else "int"
    lw = f"{BIG_WINDOW_D}d" if case.label_big else case.dur(case.label_window)
    w1, w2 = case.fwin
    lines = [
        'team t { contact "#t"; role ml }',
        "pipeline p {",
        "  owner t",
        "  on_failure block",
        "  predicts iid",
        "  examples from base",
        "  source base {",
        '    from parquet "base.parquet"',
        f"    snapshot {b.snapshot}",
        "    entity k",
        "    time t",
        f"    lag {case.lag_text(b)}",
        f"    schema {{ rid: int; k: {key}; g: {key}; t: {_time_decl(b.time_kind)}; "
        f"x: {_decl(b.value_kind)} }}",
        "  }",
        "  source ev {",
        '    from parquet "ev.parquet"',
        f"    snapshot {e.snapshot}",
        "    entity k",
        "    time ts",
        f"    lag {case.lag_text(e)}",
        f"    schema {{ k: {key}; ts: {_time_decl(e.time_kind)}; v: {_decl(e.value_kind)}; "
        "c: string }",
        "  }",
    ]
    if case.with_label:
        lines.append(f"  label y {{ from ev; window {lw} }}")
    if case.with_ev_view:
        big = f"{BIG_WINDOW_D}d"
        lines += [
            "  features fe version 1 {",
            "    from ev", "    entity k", "    time ts", "    point_in_time",
            f"    feature n1 = count() over {case.dur(w1)}",
            f"    feature s1 = sum(v) over {case.dur(w1)}",
            f"    feature m1 = mean(v) over {case.dur(w1)}",
            f"    feature lo1 = min(v) over {case.dur(w1)}",
            f"    feature hi1 = max(v) over {case.dur(w1)}",
            f"    feature d1 = distinct(v) over {case.dur(w1)}",
            f"    feature n2 = count() over {case.dur(w2)}",
            f"    feature s2 = sum(v) over {case.dur(w2)}",
            f"    feature m2 = mean(v) over {case.dur(w2)}",
            f"    feature dc2 = distinct(c) over {case.dur(w2)}",
            f"    feature nbig = count() over {big}",
            f"    feature sbig = sum(v) over {big}",
            "    columns [v, c]",
            "  }",
        ]
    if case.with_self:
        lines += [
            "  features fs version 1 {",
            "    from base", f"    entity {case.self_key}", "    time t", "    point_in_time",
            f"    feature n = count() over {case.dur(case.self_win)}",
            f"    feature s = sum(x) over {case.dur(case.self_win)}",
            f"    feature m = mean(x) over {case.dur(case.self_win)}",
            f"    feature lo = min(x) over {case.dur(case.self_win)}",
            f"    feature hi = max(x) over {case.dur(case.self_win)}",
            f"    feature d = distinct(x) over {case.dur(case.self_win)}",
            "    columns [x]",
            "  }",
        ]
    lines += [
        "  split by random { test 0.2; seed 1 }",
        '  train m { model "sklearn.dummy.DummyClassifier"; seed 1 }',
        "}",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the runtime side
def run_runtime(case: Case) -> tuple[list[dict], dict] | None:
    """Write the case's parquet files and `.pipe`, compile it, run it until `join`; None
    when a snapshot keeps no row of a source's timed rows, which stops its stage."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write(case, folder)
        (folder / "p.pipe").write_text(pipe_text(case))
        program = pipec_compile(folder / "p.pipe")
        # No validate stage (VAL001) is on purpose, and so is a window within the lag
        # (FEAT001: always empty, which the oracle checks the runtime agrees on); any
        # other error is the harness's.
        errors = [d.code for d in program.diagnostics if d.severity == "error"
                  and not d.code.startswith("VAL") and d.code != "FEAT001"]
        assert not errors, errors
        result = run_pipeline(build_manifest(program), folder, folder, until="join")
        if any(snapshot_keeps_nothing(case, table) for table in (case.base, case.ev)):
            assert result.status == "failed", result.report
            assert "keeps no row" in result.report["error"], result.report
            return None
        assert result.status == "succeeded", result.report
        join = next(s for s in result.stages if s.stage_id == "join")
        store = ArtifactStore(folder)
        table = store.get_table(join.outputs["examples"])
        store.close()
        return table.to_pylist(), join.report


# ---------------------------------------------------------------- the oracle side
def _value(kind: str, v: Any) -> Any:
    """A stored value as the declared type reads it: decimal and int32 -> float / int;
    NaN is missing (sources.py's documented reading)."""
    if v is None:
        return None
    if kind == "decimal":
        return float(Decimal(v))
    if kind in ("int", "int32"):
        return int(v)
    f = float(v)
    return None if math.isnan(f) else f


def snapshot_end_us(case: Case, table: Table) -> int | None:
    """`snapshot DATE` includes rows with time < DATE + 1d; latest: newest time's date."""
    times = [case.t_us(r["t"]) for r in table.rows if r["t"] is not None]
    if table.snapshot == "latest":
        if not times:
            return None
        newest = max(times)
        day = newest - newest % DAY_US
        return day + DAY_US
    d = date.fromisoformat(table.snapshot)
    return us_of(datetime(d.year, d.month, d.day, tzinfo=UTC)) + DAY_US


def snapshot_keeps_nothing(case: Case, table: Table) -> bool:
    """A `snapshot DATE` before every timed row: the source stage stops (sources.py)."""
    timed = [r for r in table.rows if r["t"] is not None]
    return table.snapshot != "latest" and bool(timed) and not in_snapshot(case, table)


def _time_us(case: Case, table: Table, t: int | None) -> int | None:
    us = case.t_us(t)
    if us is None:
        return None
    if table.time_kind in ("date", "date_as_ts"):
        return us - us % DAY_US  # the column holds the date: 00:00 UTC of that day
    return us


def in_snapshot(case: Case, table: Table) -> list[dict[str, Any]]:
    end = snapshot_end_us(case, table)
    out = []
    for i, r in enumerate(table.rows):
        t = _time_us(case, table, r["t"])
        if t is None:
            continue
        if end is not None and not t < end:
            continue
        out.append(r | {"_t": t, "rid": i})
    return out


def _agg(kind: str, vals: list[Any]) -> Any:
    present = [v for v in vals if v is not None]
    if kind == "count":
        return len(vals)
    if kind == "distinct":
        return len(set(present))
    if not present:
        return None
    if kind == "sum":
        return ("sum", sum(Fraction(v) for v in present), sum(abs(Fraction(v)) for v in present))
    if kind == "mean":
        n = len(present)
        return ("sum", sum(Fraction(v) for v in present) / n,
                sum(abs(Fraction(v)) for v in present) / n)
    return min(present) if kind == "min" else max(present)


def window_rows(rows: list[dict], key: Any, t: int, lag_us: int, w_us: int,
                key_col: str = "k") -> list[dict]:
    """Visible rows (time + lag < t) of the same key with time in [t - W, t)."""
    if key is None:
        return []
    return [r for r in rows if r[key_col] is not None and r[key_col] == key
            and r["_t"] + lag_us < t and t - w_us <= r["_t"] < t]


def asof_candidates(rows: list[dict], key: Any, t: int, lag_us: int, cols: list[str],
                    key_col: str = "k") -> set[tuple]:
    if key is None:
        return {tuple(None for _ in cols)}
    vis = [r for r in rows if r[key_col] is not None and r[key_col] == key
           and r["_t"] + lag_us < t]
    if not vis:
        return {tuple(None for _ in cols)}
    latest = max(r["_t"] for r in vis)
    return {tuple(r["_val"][c] for c in cols) for r in vis if r["_t"] == latest}


def oracle(case: Case) -> tuple[dict[int, dict[str, Any]], int]:
    """rid -> expected values of every kept example; and the censored count."""
    base = in_snapshot(case, case.base)
    ev = in_snapshot(case, case.ev)
    for r in base:
        r["_val"] = {"x": _value(case.base.value_kind, r["x"])}
    for r in ev:
        r["_val"] = {"v": _value(case.ev.value_kind, r["v"]), "c": r["c"]}
    ev_lag, base_lag = case.lag_us(case.ev), case.lag_us(case.base)
    lw = BIG_WINDOW_D * DAY_US if case.label_big else case.win_us(case.label_window)
    maturity = lw + ev_lag
    ev_end = snapshot_end_us(case, case.ev)
    out: dict[int, dict[str, Any]] = {}
    censored = 0
    for b in base:
        t, key = b["_t"], b["k"]
        row: dict[str, Any] = {}
        if case.with_label:
            end = ev_end if ev_end is not None else 0
            # t + M > end; and (documented reading, labels.py) t + W >= end.
            if t + maturity > end or t + lw >= end:
                censored += 1
                continue
            if key is None:
                row["y"] = None  # labels.py: NULL entity -> unknown
            else:
                row["y"] = any(e["k"] is not None and e["k"] == key and t < e["_t"] <= t + lw
                               for e in ev)
        if case.with_ev_view:
            w1, w2 = case.win_us(case.fwin[0]), case.win_us(case.fwin[1])
            big = BIG_WINDOW_D * DAY_US
            r1 = [e["_val"] for e in window_rows(ev, key, t, ev_lag, w1)]
            r2 = [e["_val"] for e in window_rows(ev, key, t, ev_lag, w2)]
            rb = [e["_val"] for e in window_rows(ev, key, t, ev_lag, big)]
            v1, v2, c2, vb = ([r["v"] for r in r1], [r["v"] for r in r2],
                              [r["c"] for r in r2], [r["v"] for r in rb])
            row |= {
                "fe__n1": _agg("count", v1), "fe__s1": _agg("sum", v1),
                "fe__m1": _agg("mean", v1), "fe__lo1": _agg("min", v1),
                "fe__hi1": _agg("max", v1), "fe__d1": _agg("distinct", v1),
                "fe__n2": _agg("count", v2), "fe__s2": _agg("sum", v2),
                "fe__m2": _agg("mean", v2), "fe__dc2": _agg("distinct", c2),
                "fe__nbig": _agg("count", vb), "fe__sbig": _agg("sum", vb),
                ("fe__v", "fe__c"): asof_candidates(ev, key, t, ev_lag, ["v", "c"]),
            }
        if case.with_self:
            sk = b[case.self_key]
            ws = case.win_us(case.self_win)
            xs = [r["_val"]["x"] for r in window_rows(base, sk, t, base_lag, ws, case.self_key)]
            row |= {
                "fs__n": _agg("count", xs), "fs__s": _agg("sum", xs), "fs__m": _agg("mean", xs),
                "fs__lo": _agg("min", xs), "fs__hi": _agg("max", xs),
                "fs__d": _agg("distinct", xs),
                ("fs__x",): asof_candidates(base, sk, t, base_lag, ["x"], case.self_key),
            }
        out[b["rid"]] = row
    return out, censored


def same(want: Any, got: Any) -> bool:
    if isinstance(want, tuple) and want and want[0] == "sum":
        _, exact, mag = want
        if got is None or not isinstance(got, float) or math.isnan(got):
            return False
        if math.isinf(got):
            return abs(exact) > Fraction(1.7e308)
        return abs(Fraction(got) - exact) <= Fraction(1, 10**6) * mag + Fraction(1, 10**300)
    if isinstance(want, float) and isinstance(got, float) and (math.isnan(want)
                                                               or math.isnan(got)):
        return math.isnan(want) and math.isnan(got)
    if type(want) is bool or type(got) is bool:
        return want is got
    if (want is None) != (got is None):
        return False
    return want == got


def compare(case: Case, got_rows: list[dict], report: dict) -> list[str]:
    want, censored = oracle(case)
    problems = []
    got = {r["rid"]: r for r in got_rows}
    if set(got) != set(want):
        problems.append(f"rows: runtime {sorted(got)} oracle {sorted(want)}")
    if case.with_label and report.get("censored") != censored:
        problems.append(f"censored: runtime {report.get('censored')} oracle {censored}")
    for rid in sorted(set(got) & set(want)):
        g, w = got[rid], want[rid]
        for col, wv in w.items():
            if isinstance(col, tuple):
                gv = tuple(g.get(c) for c in col)
                ok = any(all(same(a, b) for a, b in zip(cand, gv, strict=True)) for cand in wv)
                if not ok:
                    problems.append(f"rid {rid} {col}: runtime {gv} oracle one of {wv}")
                continue
            if col not in g:
                problems.append(f"rid {rid}: column {col} missing")
                continue
            if not same(wv, g[col]):
                shown = float(wv[1]) if isinstance(wv, tuple) else wv
                problems.append(f"rid {rid} {col}: runtime {g[col]!r} oracle {shown!r}")
    return problems


# Random cases -------------------------------------------------------------------------------
FLOATS = [0.1, 0.2, 0.3, 1e-9, 1e15, -1e15, -0.0, 0.0, 2.5, -7.25, 1e-12, float("nan"),
          1e20, -3.0, 1.0, 1 / 3, 1.6e-19, 1e300, -1e300, 1.5e308]
INTS = [-3, -1, 0, 1, 2, 5, 2**62, -(2**62), 10**15, 7]
DECIMALS = ["0.1", "0.000000001", "123456789.123456789", "-0.5", "2", "0"]
STRS = ["x", "y", "B", "é", ""]


def values(kind: str) -> st.SearchStrategy:
    pool = {"int": INTS, "int32": [-3, -1, 0, 1, 2, 5, 2**31 - 1, -(2**31)],
            "float": FLOATS, "decimal": DECIMALS}[kind]
    return st.one_of(st.none(), st.sampled_from(pool))


@st.composite
def cases(draw: Any, n_base: int = 10, n_ev: int = 14) -> Case:
    unit = draw(st.sampled_from(["s", "h", "d"]))
    key_kind = draw(st.sampled_from(["string", "int"]))
    ks = ["a", "b", "c"] if key_kind == "string" else [1, 2, 3]
    ev_ks = ["a", "b", "d"] if key_kind == "string" else [1, 2, 4]
    grid = st.integers(0, draw(st.sampled_from([2, 13, 13])))
    times = st.one_of(grid, grid, grid, grid, grid, st.none())
    bkind = draw(st.sampled_from(["int", "int32", "float", "decimal"]))
    ekind = draw(st.sampled_from(["int", "int32", "float", "decimal"]))
    base_rows = draw(st.lists(st.fixed_dictionaries({
        "k": st.one_of(st.sampled_from(ks), st.none()),
        "g": st.one_of(st.sampled_from(ks), st.none()),
        "t": times,
        "x": values(bkind),
    }), min_size=1, max_size=n_base))
    ev_rows = draw(st.lists(st.fixed_dictionaries({
        "k": st.one_of(st.sampled_from(ev_ks), st.none()),
        "t": times,
        "v": values(ekind),
        "c": st.one_of(st.none(), st.sampled_from(STRS)),
    }), max_size=n_ev))
    epoch = EPOCHS[unit].date()
    snaps = st.one_of(st.just("latest"), st.sampled_from(
        [(epoch + timedelta(days=d)).isoformat() for d in
         ((0, 1) if unit != "d" else (3, 6, 9, 12))]))
    tkinds = st.sampled_from(["ts_naive", "ts_tz", "date", "date_as_ts"]) if unit == "d" \
        else st.sampled_from(["ts_naive", "ts_tz", "ts_naive", "ts_tz", "date_as_ts"])
    extras = st.sampled_from(["", "", "", "1ms", "30m"])
    base = Table("base", draw(tkinds), base_rows, bkind, draw(snaps), draw(st.integers(0, 3)),
                 draw(extras))
    ev = Table("ev", draw(tkinds), ev_rows, ekind, draw(snaps), draw(st.integers(0, 3)),
               draw(extras))
    return Case(
        unit=unit, key_kind=key_kind, base=base, ev=ev,
        label_window=draw(st.integers(1, 6)), label_big=draw(st.booleans()) and
        draw(st.booleans()),
        fwin=(draw(st.integers(1, 6)), draw(st.integers(1, 14))),
        self_win=draw(st.integers(1, 6)),
        self_key=draw(st.sampled_from(["k", "g"])),
    )


# The property ----------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases())
def test_examples_match_a_brute_force_reading_of_the_spec(case: Case) -> None:
    ran = run_runtime(case)
    if ran is not None:
        assert compare(case, *ran) == []


# Regressions it found ---------------------------------------------------------------------
HOUR_US = 3_600 * US


def _tiny_sums(values: list[float], grouped: bool, same: bool,
               hours: int = 5) -> list[tuple]:
    """(sum, mean) over `hours` of one key's rows at 0h, 1h, ..., seen from the row after
    them."""
    con = connect()
    con.execute("CREATE TABLE src (__row_id BIGINT, k VARCHAR, t TIMESTAMP, v DOUBLE)")
    rows = [(i, "a", i, v) for i, v in enumerate(values)]
    rows.append((len(values), "a", len(values), None))
    if grouped:  # every (key, time) three times, the copies NULL: the grouped plan
        rows = [(3 * i + j, k, t, None if j else v)
                for i, (_, k, t, v) in enumerate(rows) for j in range(3)]
    con.executemany("INSERT INTO src VALUES (?, ?, TIMESTAMP '2026-01-01' + to_hours(?), ?)",
                    rows)
    aggs = (F.Aggregate("s", "sum", "v", hours * HOUR_US),
            F.Aggregate("m", "mean", "v", hours * HOUR_US))
    view = F.ViewSpec("view", "k", "t", "t", 0, aggs, ())
    assert F.times_repeat(con, "src", "k", "t") == grouped
    if not same:  # another table: the union route instead of the single pass
        con.execute("CREATE TABLE src_copy AS SELECT * FROM src")
    F.build_features(con, view, "src", "src" if same else "src_copy", "f")
    return con.execute("SELECT view__s, view__m FROM f ORDER BY __row_id DESC LIMIT 1").fetchall()


def test_values_below_1e_18_are_not_summed_to_zero() -> None:
    """Exact sums had at most 18 places: a window of 1.6e-19 and 3.2e-19 summed to 0.0
    and its mean was 0.0 while its min was 1.6e-19."""
    for grouped in (False, True):
        for same in (False, True):
            ((total, mean),) = _tiny_sums([1.6e-19, 3.2e-19], grouped, same)
            assert math.isclose(total, 4.8e-19, rel_tol=1e-9), (grouped, same, total)
            assert math.isclose(mean, 2.4e-19, rel_tol=1e-9), (grouped, same, mean)


def test_a_value_too_small_for_its_column_is_summed_as_double() -> None:
    """Beside 1e20, 38 digits leave 16 places: 1e-30 would be 0. Such a column is summed
    as DOUBLE, so a window holding only the tiny value keeps it."""
    for grouped in (False, True):
        ((total, mean),) = _tiny_sums([1e20, 1e-30, 1e-30, 1e-30, 1e-30], grouped, True, 4)
        assert total == 4e-30 or math.isclose(total, 4e-30, rel_tol=1e-12), total
        assert math.isclose(mean, 1e-30, rel_tol=1e-12), mean
