"""Which of two lines on the same measure bounds it more tightly. A stage's own gate or
check lines add to or tighten those of the sets it `use`s: an own line that a set's
line outranks can never be what passes or stops a run (GATE011, VAL005)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pipec import nodes as n

AT_MOST, AT_LEAST = "at most", "at least"
_DIRECTION = {"<=": AT_MOST, "<": AT_MOST, ">=": AT_LEAST, ">": AT_LEAST}


@dataclass(frozen=True)
class Bound:
    """One side of a line: `measure` names what it bounds (the kind of line, its
    metric or column...), `direction` which way, `strict` for `<` and `>`."""

    measure: tuple[Any, ...]
    direction: str
    value: Any
    strict: bool
    blocking: bool


def powerless_lines(lines: Iterable[tuple[n.Stmt, str | None]],
                    bounds_of: Callable[[Any], Iterator[Bound]],
                    ) -> Iterator[tuple[n.Stmt, n.Stmt, str]]:
    """Of a stage's lines, each with the set it comes from (None: its own), every own
    line a set's line makes powerless, with that line and its set's name."""
    lines = list(lines)
    kept = [(bound, (line, origin)) for line, origin in lines if origin is not None
            for bound in bounds_of(line)]
    for own, origin in lines:
        bounds = list(bounds_of(own)) if origin is None else []
        found = powerless(bounds, kept) if bounds else None
        if found is not None:
            yield own, *found


def powerless(own: list[Bound], kept: list[tuple[Bound, Any]]) -> Any | None:
    """The line of `kept` (each bound with its line) that shows an own line with bounds
    `own` to be powerless: every own bound is at least as loose as a kept one, which
    blocks whenever it does, and one strictly looser (an exact repeat is harmless).
    None when the own line still bounds something."""
    looser_than = None
    for bound in own:
        tighter = [(other, line) for other, line in kept if _implies(other, bound)]
        if not tighter:
            return None
        strictly = next((line for other, line in tighter if other.value != bound.value
                         or other.strict != bound.strict), None)
        looser_than = looser_than or strictly
    return looser_than


def _implies(kept: Bound, own: Bound) -> bool:
    """True when `kept` bounds the same measure at least as tightly as `own`, and blocks
    whenever `own` does (a stage's blocking line beside a set's warning is not
    powerless: it is the one that blocks)."""
    if (kept.measure, kept.direction) != (own.measure, own.direction):
        return False
    if own.blocking and not kept.blocking:
        return False
    try:
        if kept.value != own.value:
            return bool(kept.value < own.value if kept.direction == AT_MOST
                        else kept.value > own.value)
    except TypeError:  # a date beside a number: a T003 of its own, no comparison
        return False
    return kept.strict or not own.strict


def gate_bounds(gate: n.Gate) -> Iterator[Bound]:
    direction = _DIRECTION.get(gate.op or "")
    if direction is None or gate.value is None:
        return  # `features compatible`, or `==`/`!=`: no order to compare
    measure = (gate.kind, gate.metric.name if gate.metric else None,
               gate.column.name if gate.column else None,
               gate.min_rows.value if gate.min_rows else None)
    yield Bound(measure, direction, gate.value.py, gate.op in ("<", ">"), not gate.warn)


def check_bounds(check: n.Stmt) -> Iterator[Bound]:
    """A check's bounds: a `range COL in A..B` has two, one per end."""
    blocking = not (isinstance(check, n.Check) and check.warn)
    if isinstance(check, n.Completeness):
        yield from _directed(("completeness", check.column.name), check.op, check.value.py,
                             blocking)
    elif isinstance(check, n.FreshnessCheck):
        yield Bound(("freshness", check.column.name), AT_MOST, check.within.seconds, False,
                    blocking)
    elif isinstance(check, n.Drift):
        yield Bound(("drift", check.stat.name, check.column.name), AT_MOST,
                    check.factor.factor, False, blocking)
    elif isinstance(check, n.RangeCheck) and check.range is not None:
        low, high = check.range.py
        yield Bound(("range", check.column.name), AT_LEAST, low, False, blocking)
        yield Bound(("range", check.column.name), AT_MOST, high, False, blocking)
    elif isinstance(check, n.RangeCheck) and check.op is not None and check.value is not None:
        yield from _directed(("range", check.column.name), check.op, check.value.py, blocking)


def _directed(measure: tuple[Any, ...], op: str, value: Any, blocking: bool) -> Iterator[Bound]:
    direction = _DIRECTION.get(op)
    if direction is not None:
        yield Bound(measure, direction, value, op in ("<", ">"), blocking)
