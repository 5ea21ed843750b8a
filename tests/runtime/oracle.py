"""A plain-Python reference of labels, point-in-time features, as-of columns and the join,
written from language.md ("Semantics the runtime and the checker share") and the
readings documented in the runtime's modules. Slow and obvious on purpose.

Times are integers (units); the tests map them to timestamps one unit = one hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    key: str | None
    t: int
    value: int | None = None
    cat: str | None = None


def window_label(base: list[Row], events: list[Row], window: int) -> list[bool | None]:
    """True when the same key has an event in (t, t + W]; unknown (None) with no key."""
    return [
        None if b.key is None else any(e.key == b.key and b.t < e.t <= b.t + window
                                       for e in events)
        for b in base
    ]


def censored(base: list[Row], maturity: int, end: int, window: int | None = None) -> list[bool]:
    """t + M > end; for a windowed label also t + W >= end (the snapshot holds events
    strictly before `end`, so an event at t + W = end could not be seen)."""
    return [b.t + maturity > end or (window is not None and b.t + window >= end) for b in base]


def _visible(rows: list[Row], key: str | None, t: int, lag: int) -> list[Row]:
    """Rows of the same key with time + lag < t."""
    return [r for r in rows if key is not None and r.key == key and r.t + lag < t]


def aggregate(rows: list[Row], key: str | None, t: int, lag: int, window: int, agg: str) -> Any:
    """AGG(value) over visible rows with time in [t - W, t)."""
    chosen = [r for r in _visible(rows, key, t, lag) if t - window <= r.t < t]
    values = [r.value for r in chosen if r.value is not None]
    if agg == "count":
        return len(chosen)
    if agg == "count_col":
        return len(values)
    if agg == "distinct":
        return len(set(values))
    if not values:
        return None
    return {
        "sum": float(sum(values)),
        "mean": sum(values) / len(values),
        "min": min(values),
        "max": max(values),
    }[agg]


def _sort_key(row: Row) -> tuple[Any, ...]:
    # The runtime's tie-break: listed columns descending, NULL lowest.
    return tuple((v is not None, v if v is not None else 0) for v in (row.value, row.cat))


def as_of(rows: list[Row], key: str | None, t: int, lag: int) -> tuple[Any, Any]:
    """(value, cat) of the latest visible row; ties go to the row sorting last."""
    visible = _visible(rows, key, t, lag)
    if not visible:
        return (None, None)
    latest = max(r.t for r in visible)
    best = max((r for r in visible if r.t == latest), key=_sort_key)
    return (best.value, best.cat)
