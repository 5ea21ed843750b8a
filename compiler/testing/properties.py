"""The split properties: one function per property, one per split kind.

Every property takes the program's `SplitSpec` and a split implementation with the
runtime's signature, `impl(table, split, snapshot, *, on=None, identity=None) -> table`
with a `__side` column ('train' | 'valid' | 'test' | NULL = dropped); the default is the
runtime's `assign_sides`. A property draws inputs with hypothesis, and on a failure
raises `SplitPropertyFailure` carrying the shrunk counterexample's rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, Phase, Verbosity, given
from hypothesis import seed as hseed
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pipec.testing.report import cell
from pipec.testing.spec import HASHED, SplitSpec, shifted, time_bounds
from pipec.testing.strategies import (
    ROW,
    SplitCase,
    bulk_table,
    coerce,
    default_snapshot,
    split_cases,
    to_arrow,
    to_us,
)

SIDE = "__side"
SIDES = ("train", "valid", "test", None)
SIGMAS = 5.0
SHOWN = 12
PHASES = (Phase.explicit, Phase.generate, Phase.shrink)
Impl = Callable[..., pa.Table]
Tick = Callable[[], None]


class SplitPropertyFailure(AssertionError):
    """A split property does not hold; `rows` is the (shrunk) counterexample, `replay`
    how to draw the same examples again (set by `assert_split_properties`; `pipec test`
    prints its own after every failure)."""

    def __init__(self, prop: str, statement: str, message: str,
                 rows: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.prop, self.statement, self.message = prop, statement, message
        self.rows = rows or []
        self.replay = ""

    def __str__(self) -> str:
        from pipec.testing.report import plain_failure

        return plain_failure(self)


class Counterexample(Exception):
    """Raised inside one example; hypothesis shrinks the input that raises it."""

    def __init__(self, message: str, rows: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.message, self.rows = message, rows


@dataclass(frozen=True)
class Options:
    """How hard to look: `max_examples` per property, a fixed `seed` (default: the
    same examples every run), and a `tick` called per example (progress bars)."""

    max_examples: int = 25
    seed: int | None = None
    tick: Tick | None = None
    max_rows: int = 30
    share_keys: int = 3000
    share_examples: int = 4
    extra: dict[str, Any] = field(default_factory=dict)


def runtime_impl() -> Impl:
    from pipec.stdlib.runtime.splits import assign_sides

    return assign_sides


# ------------------------------------------------------------------ running


def statement(func: Callable[..., Any]) -> str:
    """The property as its docstring states it (the first paragraph)."""
    return " ".join((func.__doc__ or "").strip().split("\n\n")[0].split())


def _run(func: Callable[..., Any], strategy: st.SearchStrategy[Any],
         check: Callable[[Any], None], options: Options, max_examples: int | None = None) -> None:
    # Every setting that changes what is drawn or shown is given here: the ones left out
    # came from whatever hypothesis profile the user's conftest loaded, so a profile
    # without `shrink` showed an unshrunk counterexample, which its replay line (and
    # `pipec test`, where no profile applies) then did not show. `explain` is left out:
    # its report is never printed, and it took about half of a failure's time.
    config = hsettings(
        max_examples=max_examples or options.max_examples, deadline=None, database=None,
        derandomize=options.seed is None, report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
        print_blob=False, phases=PHASES, backend="hypothesis")

    failing: list[Any] = []

    def example(case: Any) -> None:
        if options.tick is not None:
            options.tick()
        try:
            check(case)
        except Counterexample:
            failing[:] = [case]  # hypothesis runs the shrunk input last
            raise

    test = config(given(strategy)(example))
    if options.seed is not None:
        test = hseed(_hypothesis_seed(options.seed))(test)
    try:
        test()
    except Counterexample as exc:
        found = _fewer_rows(check, failing[0], exc) if failing else exc
        raise SplitPropertyFailure(func.__name__, statement(func), found.message,
                                   found.rows) from None


def _hypothesis_seed(seed: int) -> int | str:
    """Hypothesis seeds Python's `Random`, which seeds with an int's absolute value, so
    `--seed -1` drew exactly the examples of `--seed 1`. A negative seed is given as its
    text, which `Random` turns into a stream of its own (through sha512, not the
    per-process `hash()`); the others keep the examples they always drew."""
    return seed if seed >= 0 else str(seed)


def _fewer_rows(check: Callable[[Any], None], case: Any,
                found: Counterexample) -> Counterexample:
    """The shrunk counterexample less every row it fails without, one row at a time.

    Hypothesis cannot delete the rows `split_cases` puts first (one per period of a time
    split, so that every example populates them); a failure that needs one row showed
    three or four. Only a plain `SplitCase` is cut: the other inputs pair it with a
    row order or a mask of the same length."""
    if not isinstance(case, SplitCase):
        return found
    for rid in case.table.column(ROW).to_pylist():
        if case.table.num_rows == 1:
            break
        smaller = SplitCase(_subset(case.table, set(case.table.column(ROW).to_pylist())
                                    - {rid}), case.snapshot)
        try:
            check(smaller)
        except Counterexample as still:
            case, found = smaller, still
    return found


def apply(spec: SplitSpec, impl: Impl, table: pa.Table, snapshot: date | None) -> pa.Table:
    """Run the implementation; its exceptions and malformed outputs are counterexamples."""
    try:
        # No identity column at all (no schema, no entity, no time): every column the
        # rows have, as the runtime hashes a schemaless source's rows.
        out = impl(table, dict(spec.split), snapshot, on=spec.on,
                   identity=list(spec.identity) or None)
    except Exception as exc:
        raise Counterexample(f"the split raised {type(exc).__name__}: {exc}",
                             _rows(spec, table)) from exc
    if not isinstance(out, pa.Table) or SIDE not in out.column_names \
            or ROW not in out.column_names:
        raise Counterexample(f"the split returned no `{SIDE}` column (or dropped the input's "
                             "columns)", _rows(spec, table))
    return out


def sides(spec: SplitSpec, impl: Impl, table: pa.Table, snapshot: date | None) -> dict[int, Any]:
    """Row number -> side."""
    out = apply(spec, impl, table, snapshot)
    return dict(zip(out.column(ROW).to_pylist(), out.column(SIDE).to_pylist(), strict=True))


def shown_columns(spec: SplitSpec) -> list[str]:
    names = [spec.on, spec.entity, spec.time]
    return [c for c in dict.fromkeys(names) if c and spec.column(c) is not None]


def _rows(spec: SplitSpec, table: pa.Table, focus: Iterable[int] = (),
          **side_maps: dict[int, Any]) -> list[dict[str, Any]]:
    """The counterexample as display rows: row number, key columns, sides; at most
    `SHOWN` rows, the `focus` rows among them."""
    cols = shown_columns(spec)
    rows = table.select([ROW, *cols]).to_pylist()
    focus = set(focus)
    if len(rows) > SHOWN:
        room = SHOWN - len(focus)
        rows = [r for r in rows if r[ROW] in focus or (room := room - 1) >= 0]
    out = []
    for row in rows:
        shown = {"row": row[ROW], **{c: row[c] for c in cols}}
        for label, mapping in side_maps.items():
            shown[label.replace("_", " ")] = mapping.get(row[ROW], "(missing)")
        out.append(shown)
    return out


def _subset(table: pa.Table, keep: Iterable[int]) -> pa.Table:
    keep = set(keep)
    mask = pa.array([r in keep for r in table.column(ROW).to_pylist()])
    return table.filter(mask)


def _norm(value: Any) -> Any:
    """A value as the properties compare it: equal values alike, however spelled (a
    NaN equals every NaN here, as in SQL's grouping, though not in Python)."""
    if isinstance(value, datetime):
        return ("instant", to_us(value))
    if isinstance(value, float) and value == 0:
        return 0.0
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return value


# ------------------------------------------------------------------ every kind


def partition(spec: SplitSpec, impl: Impl | None = None, options: Options | None = None) -> None:
    """Every kind: each input row comes out exactly once, unchanged, on one side (train,
    valid or test) or dropped, so the sides are disjoint and, together with the dropped
    rows, they are the input (an input of no rows too)."""
    impl, options = impl or runtime_impl(), options or Options()

    def check(case: SplitCase) -> None:
        out = apply(spec, impl, case.table, case.snapshot)
        given_rows = {r[ROW]: r for r in case.table.to_pylist()}
        seen: dict[int, int] = {}
        for row in out.to_pylist():
            rid = row[ROW]
            seen[rid] = seen.get(rid, 0) + 1
            fault = _row_fault(row, given_rows.get(rid), seen[rid])
            if fault:
                raise Counterexample(f"row {rid} {fault}",
                                     _rows(spec, case.table, side={rid: row[SIDE]}))
        missing = sorted(set(given_rows) - set(seen))
        if missing:
            raise Counterexample(f"row {missing[0]} of the input is on no side and not dropped "
                                 "(it is missing from the output)", _rows(spec, case.table))

    _run(partition, split_cases(spec, max_rows=options.max_rows), check, options)
    _no_rows(partition, spec, check)


def _no_rows(func: Callable[..., Any], spec: SplitSpec,
             check: Callable[[SplitCase], None]) -> None:
    """The property on an input of no rows, a day with no new data, which hypothesis
    never draws (`split_cases` draws at least one row, and a time split's tables start
    with one per period): a split that raises there passed every property. Checked
    after the drawn inputs, whose draws it leaves as they were."""
    columns = {c.name: [] for c in spec.columns}
    empty = SplitCase(to_arrow(list(spec.columns), {**columns, ROW: []}),
                      default_snapshot(spec))
    try:
        check(empty)
    except Counterexample as exc:
        raise SplitPropertyFailure(func.__name__, statement(func),
                                   f"on an input of no rows, {exc.message}", exc.rows) from None


def _row_fault(row: dict[str, Any], original: dict[str, Any] | None, count: int) -> str | None:
    if original is None:
        return "is in the output but not in the input"
    if count > 1:
        return "comes out more than once (on two sides, or twice on one)"
    if row[SIDE] not in SIDES:
        return f"has side {row[SIDE]!r}, which is not train, valid, test or dropped"
    changed = [c for c, v in original.items() if _norm(row.get(c)) != _norm(v)]
    return f"comes out with a changed `{changed[0]}`" if changed else None


def order_independent(spec: SplitSpec, impl: Impl | None = None,
                      options: Options | None = None) -> None:
    """Every kind: the result is the same for the same seed whatever the row order: each
    row gets the same side when the split runs again on the same rows shuffled."""
    impl, options = impl or runtime_impl(), options or Options()

    def check(drawn: tuple[SplitCase, list[int]]) -> None:
        case, order = drawn
        first = sides(spec, impl, case.table, case.snapshot)
        shuffled = sides(spec, impl, case.table.take(pa.array(order, pa.int64())), case.snapshot)
        for rid, side in first.items():
            if shuffled.get(rid) != side:
                raise Counterexample(
                    f"row {rid} is on {_side(side)}, but on {_side(shuffled.get(rid))} when "
                    "the same rows are split again in another order",
                    _rows(spec, case.table, {rid}, side=first, side_reordered=shuffled))

    cases = split_cases(spec, max_rows=options.max_rows).flatmap(
        lambda c: st.tuples(st.just(c), st.permutations(range(c.table.num_rows))))
    _run(order_independent, cases, check, options)


def stable(spec: SplitSpec, impl: Impl | None = None, options: Options | None = None) -> None:
    """Every kind (stable across retrains): a row's side, and so an entity's or group's,
    does not change when unrelated rows are added to or removed from the input."""
    impl, options = impl or runtime_impl(), options or Options()

    def check(drawn: tuple[SplitCase, list[bool]]) -> None:
        case, mask = drawn
        whole = sides(spec, impl, case.table, case.snapshot)
        kept = [rid for rid, keep in zip(case.table.column(ROW).to_pylist(), mask, strict=True)
                if keep]
        part = sides(spec, impl, _subset(case.table, kept), case.snapshot)
        for rid in kept:
            if part.get(rid) != whole.get(rid):
                others = case.table.num_rows - len(kept)
                raise Counterexample(
                    f"row {rid} is on {_side(part.get(rid))}, but on {_side(whole.get(rid))} "
                    f"once {others} other row(s) are added",
                    _rows(spec, case.table, {rid}, side_alone={r: part.get(r, "(absent)")
                                                         for r in whole},
                          side_with_others=whole))

    cases = split_cases(spec, max_rows=options.max_rows).flatmap(lambda c: st.tuples(
        st.just(c), st.lists(st.booleans(), min_size=c.table.num_rows,
                             max_size=c.table.num_rows)))
    _run(stable, cases, check, options)


def _side(side: Any) -> str:
    return "dropped" if side is None else f"`{side}`"


# ------------------------------------------------------------------ time


def time_bounds_hold(spec: SplitSpec, impl: Impl | None = None,
                     options: Options | None = None) -> None:
    """Time: every train (and valid) time < `train before` <= `test from` <= every test
    time (< `test until`); rows between, after `until` or without a time are dropped, and
    every row before `train before` is trained on."""
    impl, options = impl or runtime_impl(), options or Options()

    def check(case: SplitCase) -> None:
        bounds = time_bounds(spec, case.snapshot)
        if bounds.before is not None and bounds.before > bounds.start:
            raise Counterexample(f"`train before` {cell(bounds.before)} is after `test from` "
                                 f"{cell(bounds.start)}{_drawn_snapshot(spec, case.snapshot)}",
                                 [])
        got = sides(spec, impl, case.table, case.snapshot)
        times = dict(zip(case.table.column(ROW).to_pylist(),
                         case.table.column(spec.on).to_pylist(), strict=True))
        for rid, t in times.items():
            want = _expected_time_side(t, bounds)
            side = "train" if got.get(rid) == "valid" else got.get(rid)
            if side != want:
                raise Counterexample(
                    f"row {rid} at {cell(t)} is on {_side(got.get(rid))} but belongs on "
                    f"{_side(want)}: {_time_rule(bounds)}{_drawn_snapshot(spec, case.snapshot)}",
                    _rows(spec, case.table, {rid}, side=got,
                          expected={r: _expected_time_side(v, bounds)
                                    for r, v in times.items()}))

    _run(time_bounds_hold, split_cases(spec, max_rows=options.max_rows), check, options)


def _instant_us(t: Any) -> int | None:
    if t is None:
        return None
    if isinstance(t, datetime):
        return to_us(t)
    return to_us(datetime.combine(t, datetime.min.time()))


def _expected_time_side(t: Any, bounds: Any) -> str | None:
    us = _instant_us(t)
    if us is None:
        return None
    if bounds.before is not None and us < to_us(bounds.before):
        return "train"
    if us >= to_us(bounds.start) and (bounds.until is None or us < to_us(bounds.until)):
        return "test"
    return None


def _drawn_snapshot(spec: SplitSpec, snapshot: date | None) -> str:
    """The snapshot a failure was found at, where the split counts dates from a
    `snapshot latest` that the strategies drew: the message's dates are resolved ones,
    and `snapshot - 10d` cannot be traced back to `2025-06-21` without it."""
    relative = any(isinstance(spec.split.get(key), dict)
                   and "snapshot_minus_s" in spec.split[key]
                   for key in ("train_before", "test_from", "test_until"))
    if spec.snapshot is not None or snapshot is None or not relative:
        return ""
    return f" (with `snapshot latest` resolved to {snapshot.isoformat()})"


def _time_rule(bounds: Any) -> str:
    until = f" and t < {cell(bounds.until)}" if bounds.until else ""
    return f"train is t < {cell(bounds.before)}, test is t >= {cell(bounds.start)}{until}"


def labels_mature(spec: SplitSpec, impl: Impl | None = None,
                  options: Options | None = None) -> None:
    """Time: no train example's label matures after the test start: `train before` +
    the label maturity <= `test from` (so a declared gap covers the maturity), and every
    train time + maturity <= the test start."""
    impl, options = impl or runtime_impl(), options or Options()
    maturity = timedelta(seconds=spec.maturity_s)
    gap_s = spec.split.get("gap_s")

    def check(case: SplitCase) -> None:
        bounds = time_bounds(spec, case.snapshot)
        if gap_s is not None and float(gap_s) < spec.maturity_s:
            raise Counterexample(f"the declared gap ({_days(float(gap_s))}) is shorter than the "
                                 f"label maturity ({_days(spec.maturity_s)})", [])
        if bounds.before is not None and shifted(bounds.before, maturity) > bounds.start:
            raise Counterexample(
                f"train ends {cell(bounds.before)} and labels mature after "
                f"{_days(spec.maturity_s)}, so the last training labels are known "
                f"{cell(shifted(bounds.before, maturity))}, after the test start "
                f"{cell(bounds.start)}{_drawn_snapshot(spec, case.snapshot)}", [])
        got = sides(spec, impl, case.table, case.snapshot)
        start = to_us(bounds.start)
        for row in case.table.select([ROW, spec.on]).to_pylist():
            us = _instant_us(row[spec.on])
            if got.get(row[ROW]) in ("train", "valid") and us is not None \
                    and us + int(spec.maturity_s * 1_000_000) > start:
                raise Counterexample(
                    f"row {row[ROW]} at {cell(row[spec.on])} is on {_side(got[row[ROW]])}, "
                    f"but its label matures {_days(spec.maturity_s)} later, after the test start "
                    f"{cell(bounds.start)}{_drawn_snapshot(spec, case.snapshot)}",
                    _rows(spec, case.table, {row[ROW]}, side=got))

    _run(labels_mature, split_cases(spec, max_rows=options.max_rows), check, options)


def _days(seconds: float) -> str:
    days = seconds / 86_400
    return f"{days:g}d" if days >= 1 or seconds == 0 else f"{seconds / 3600:g}h"


def tested_after_trained(spec: SplitSpec, impl: Impl | None = None,
                         options: Options | None = None) -> None:
    """Random, where production predicts the future (LEAK001's reading): no train row is
    later than a test row, or the model learns from the future it is scored on. A random
    row split cannot hold this; it fails here even when LEAK001 is suppressed."""
    impl, options = impl or runtime_impl(), options or Options()
    time = spec.time

    def check(case: SplitCase) -> None:
        got = sides(spec, impl, case.table, case.snapshot)
        timed = [(us, row[ROW]) for row in case.table.select([ROW, time]).to_pylist()
                 if (us := _instant_us(row[time])) is not None]
        tests = [(us, rid) for us, rid in timed if got.get(rid) == "test"]
        trains = [(us, rid) for us, rid in timed if got.get(rid) in ("train", "valid")]
        if tests and trains and max(trains)[0] > min(tests)[0]:
            late_row, early_row = max(trains)[1], min(tests)[1]
            raise Counterexample(
                f"row {late_row} is on {_side(got[late_row])} and row {early_row} on test, "
                f"but the first is later: production predicts the future, and the model "
                f"would learn from rows after the ones it is tested on",
                _rows(spec, case.table, {late_row, early_row}, side=got))

    _run(tested_after_trained, split_cases(spec, max_rows=options.max_rows), check, options)


def _predicts_future(spec: SplitSpec) -> bool:
    """LEAK001's condition: `predicts future`, or a time column and no `predicts iid`."""
    return spec.predicts == "future" or (spec.predicts is None and spec.time is not None)


# ------------------------------------------------------------------ keys


def keys_one_side(spec: SplitSpec, impl: Impl | None = None,
                  options: Options | None = None) -> None:
    """Entity/group: no key is on two sides: every row of an entity (or group) is on the
    same side, so no key is both trained on and tested on."""
    impl, options = impl or runtime_impl(), options or Options()

    def check(case: SplitCase) -> None:
        got = sides(spec, impl, case.table, case.snapshot)
        seen: dict[Any, set[Any]] = {}
        rows = case.table.select([ROW, spec.on]).to_pylist()
        for row in rows:
            seen.setdefault(repr(_norm(row[spec.on])), set()).add(got.get(row[ROW]))
        for row in rows:
            key = repr(_norm(row[spec.on]))
            found = seen[key]
            if len(found) > 1:
                names = ", ".join(sorted(_side(s) for s in found))
                same = {r[ROW] for r in rows if repr(_norm(r[spec.on])) == key}
                raise Counterexample(f"{spec.on} = {cell(row[spec.on])} is on {names}",
                                     _rows(spec, case.table, same, side=got))

    _run(keys_one_side, split_cases(spec, max_rows=options.max_rows), check, options)


def entities_unseen(spec: SplitSpec, impl: Impl | None = None,
                    options: Options | None = None) -> None:
    """Time/random/market, where production predicts new entities (LEAK005's reading):
    no entity is both trained on (or validated) and tested on, or the test score measures
    recognition of entities the model has seen. Such a split cannot hold this; it fails
    here even when LEAK005 is suppressed."""
    impl, options = impl or runtime_impl(), options or Options()
    entity = spec.entity

    def check(case: SplitCase) -> None:
        got = sides(spec, impl, case.table, case.snapshot)
        rows = case.table.select([ROW, entity]).to_pylist()
        tested = {repr(_norm(r[entity])): r[ROW] for r in rows if got.get(r[ROW]) == "test"}
        for row in rows:
            test_row = tested.get(repr(_norm(row[entity])))
            if test_row is not None and got.get(row[ROW]) in ("train", "valid"):
                raise Counterexample(
                    f"{entity} = {cell(row[entity])} is on {_side(got[row[ROW]])} (row "
                    f"{row[ROW]}) and on test (row {test_row}): the pipeline predicts new "
                    "entities, and the model is tested on one it was trained on",
                    _rows(spec, case.table, {row[ROW], test_row}, side=got))

    _run(entities_unseen, split_cases(spec, max_rows=options.max_rows), check, options)


def _predicts_new_entities(spec: SplitSpec) -> bool:
    """LEAK005's condition, where the base source names the entity to compare."""
    return spec.predicts == "new_entities" and spec.kind not in ("entity", "group") \
        and spec.entity is not None


def holdout_is_test(spec: SplitSpec, impl: Impl | None = None,
                    options: Options | None = None) -> None:
    """Market: the test side is exactly the holdout values: a row is on `test` if and
    only if its market is in `holdout`, and every other row is trained on (or
    validated)."""
    impl, options = impl or runtime_impl(), options or Options()
    column = spec.column(spec.on)
    assert column is not None
    holdout = {repr(_norm(coerce(column, v))) for v in spec.split.get("holdout") or []}

    def check(case: SplitCase) -> None:
        got = sides(spec, impl, case.table, case.snapshot)
        for row in case.table.select([ROW, spec.on]).to_pylist():
            held = repr(_norm(row[spec.on])) in holdout
            side = got.get(row[ROW])
            if held != (side == "test") or (not held and side not in ("train", "valid")):
                want = "`test` (it is held out)" if held else "`train` or `valid`"
                raise Counterexample(f"row {row[ROW]} ({spec.on} = {cell(row[spec.on])}) is on "
                                     f"{_side(side)} but belongs on {want}",
                                     _rows(spec, case.table, {row[ROW]}, side=got))

    _run(holdout_is_test, split_cases(spec, max_rows=options.max_rows), check, options)


# ------------------------------------------------------------------ shares


def shares(spec: SplitSpec, impl: Impl | None = None, options: Options | None = None) -> None:
    """Random/entity/group: on inputs of thousands of keys (rows for random), the share
    of keys on test is within 5 binomial sigmas of `test` (and likewise `valid`); for
    time and market, the valid share of the trained-on rows is within 5 sigmas of
    `valid`."""
    impl, options = impl or runtime_impl(), options or Options()
    wanted = _wanted_shares(spec)

    def check(salt: int) -> None:
        snapshot = default_snapshot(spec)
        table = bulk_table(spec, options.share_keys, salt)
        got = sides(spec, impl, table, snapshot)
        units = _units(spec, table, got)
        for side, share in wanted.items():
            pool = [s for s in units.values() if s is not None] if spec.kind in HASHED \
                else [s for s in units.values() if s in ("train", "valid")]
            n = max(len(pool), 1)
            found = sum(s == side for s in pool) / n
            tol = SIGMAS * math.sqrt(share * (1 - share) / n) + 1e-9
            if abs(found - share) > tol:
                raise Counterexample(
                    f"{found:.1%} of {n} {_unit_name(spec)} are on `{side}`, but `{side}` is "
                    f"{share:.1%} (tolerance ±{tol:.1%}, {SIGMAS:g} sigma)",
                    _rows(spec, table.slice(0, 8), side=got))

    if wanted:
        # Each example is a table of thousands of keys: a few of them, and never more
        # than the `--max-examples` asked for (1 is a quick smoke run).
        count = min(options.share_examples, options.max_examples)
        _run(shares, st.integers(0, 2**31), check, options, count)


def _wanted_shares(spec: SplitSpec) -> dict[str, float]:
    if spec.kind in HASHED:
        wanted = {"test": spec.test_share, "valid": spec.valid_share}
        return {k: v for k, v in wanted.items() if v > 0 or k == "test"}
    valid = spec.valid_share
    return {"valid": valid} if valid > 0 else {}


def _units(spec: SplitSpec, table: pa.Table, got: dict[int, Any]) -> dict[Any, Any]:
    """Key (entity, group) or distinct row (random) -> its side (the first one seen)."""
    if spec.kind in ("entity", "group"):
        cols = [spec.on]
    elif spec.kind == "random":
        # With no identity column, the rows hash by every column they have (`apply`),
        # the row number among them: each row is its own unit.
        cols = list(spec.identity) or [ROW]
    else:
        return {r: got.get(r) for r in table.column(ROW).to_pylist()}
    units: dict[Any, Any] = {}
    for row in table.select([ROW, *cols]).to_pylist():
        units.setdefault(repr([_norm(row[c]) for c in cols]), got.get(row[ROW]))
    return units


def _unit_name(spec: SplitSpec) -> str:
    return {"entity": "entities", "group": "groups", "random": "rows"}.get(spec.kind, "rows")


# ------------------------------------------------------------------ per kind


@dataclass(frozen=True)
class Property:
    name: str
    func: Callable[..., None]

    @property
    def statement(self) -> str:
        return statement(self.func)

    def __call__(self, spec: SplitSpec, impl: Impl | None = None,
                 options: Options | None = None) -> None:
        self.func(spec, impl, options)


def _p(func: Callable[..., None]) -> Property:
    return Property(func.__name__.replace("_", " "), func)


COMMON = (_p(partition), _p(order_independent), _p(stable))
BY_KIND: dict[str, tuple[Property, ...]] = {
    "time": (*COMMON, _p(time_bounds_hold), _p(labels_mature), _p(entities_unseen),
             _p(shares)),
    "entity": (*COMMON, _p(keys_one_side), _p(shares)),
    "group": (*COMMON, _p(keys_one_side), _p(shares)),
    "random": (*COMMON, _p(tested_after_trained), _p(entities_unseen), _p(shares)),
    "market": (*COMMON, _p(holdout_is_test), _p(entities_unseen), _p(shares)),
}


def properties_for(spec: SplitSpec, *, cross_process: bool = True) -> tuple[Property, ...]:
    """The properties of `spec`'s split kind, in the order they are checked; with
    `cross_process`, also reproducibility in child interpreters (a few seconds)."""
    from pipec.testing.crossproc import reproducible_across_processes

    found = BY_KIND[spec.kind]
    if cross_process:
        found = (*found, _p(reproducible_across_processes))
    return tuple(p for p in found if (p.func is not shares or _wanted_shares(spec))
                 and (p.func is not tested_after_trained or _predicts_future(spec))
                 and (p.func is not entities_unseen or _predicts_new_entities(spec)))


def _check_all(spec: SplitSpec, impl: Impl | None, options: Options | None) -> None:
    for prop in properties_for(spec):
        prop(spec, impl, options)


def check_time_split(spec: SplitSpec, impl: Impl | None = None,
                     options: Options | None = None) -> None:
    """A time split: the sides are disjoint and with the dropped rows they are the input;
    same result whatever the row order; every train time < `before` <= `from` <= every
    test time (< `until`); train end + label maturity <= test start."""
    _check_all(spec, impl, options)


def check_entity_split(spec: SplitSpec, impl: Impl | None = None,
                       options: Options | None = None) -> None:
    """An entity split: disjoint sides that with the dropped rows are the input; same
    result whatever the row order; no entity on two sides; an entity's side does not
    change when unrelated rows are added or removed; the test share of entities is within
    5 sigma of `test` on thousands of entities."""
    _check_all(spec, impl, options)


def check_group_split(spec: SplitSpec, impl: Impl | None = None,
                      options: Options | None = None) -> None:
    """A group split: disjoint sides that with the dropped rows are the input; same
    result whatever the row order; no group on two sides; a group's side does not change
    when unrelated rows are added or removed; the test share of groups is within 5 sigma
    of `test` on thousands of groups."""
    _check_all(spec, impl, options)


def check_random_split(spec: SplitSpec, impl: Impl | None = None,
                       options: Options | None = None) -> None:
    """A random split: disjoint sides that with the dropped rows are the input; same
    result whatever the row order; a row's side does not change when other rows are
    added or removed; the test share of rows is within 5 sigma of `test` on thousands of
    rows."""
    _check_all(spec, impl, options)


def check_market_split(spec: SplitSpec, impl: Impl | None = None,
                       options: Options | None = None) -> None:
    """A market split: disjoint sides that with the dropped rows are the input; same
    result whatever the row order; the test side is exactly the rows whose market is in
    `holdout`."""
    _check_all(spec, impl, options)


CHECKS = {"time": check_time_split, "entity": check_entity_split,
          "group": check_group_split, "random": check_random_split,
          "market": check_market_split}


def check_split(spec: SplitSpec, impl: Impl | None = None, options: Options | None = None) -> None:
    """Every property of `spec`'s split kind; raises the first `SplitPropertyFailure`."""
    CHECKS[spec.kind](spec, impl, options)
