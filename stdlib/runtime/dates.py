"""Dates and instants as the manifest writes them.

Every instant inside the runtime is an aware UTC `datetime` or, inside SQL, an integer of
epoch microseconds: comparing integers sidesteps DuckDB's session time zone and the
TIMESTAMP / TIMESTAMPTZ / DATE mix a user's files bring.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .errors import ManifestError

US_PER_S = 1_000_000


def micros(seconds: float | int | None) -> int:
    """A manifest's seconds (`lag_s`, `window_s`, `gap_s`, ...) as whole microseconds.
    Rounded, never truncated: `lag 1500ms` is 1.5 s, and cutting it to 1 s would let a
    row be seen half a second before it is visible."""
    return round(float(seconds or 0) * US_PER_S)


def midnight(day: date) -> datetime:
    """A date means 00:00 UTC of that day (language.md, "Splits")."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def snapshot_end(snapshot: date) -> datetime:
    """`snapshot DATE` includes rows with time < DATE + 1d; this is that bound."""
    return midnight(snapshot) + timedelta(days=1)


def to_us(instant: datetime) -> int:
    """Epoch microseconds of an aware datetime, exact (no float rounding)."""
    delta = instant - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * US_PER_S + delta.microseconds


def parse_date_object(obj: dict[str, Any] | None, snapshot: date | None) -> datetime | None:
    """Resolve a manifest date object (`date`, `timestamp`, `snapshot_minus_s`).

    `snapshot - D` counts from 00:00 UTC of the (resolved) snapshot date, the same
    reading as any other date.
    """
    if obj is None:
        return None
    if "date" in obj:
        return midnight(date.fromisoformat(obj["date"]))
    if "timestamp" in obj:
        return datetime.fromisoformat(obj["timestamp"].replace("Z", "+00:00")).astimezone(UTC)
    if "snapshot_minus_s" in obj:
        if snapshot is None:
            raise ManifestError("a date relative to the snapshot needs a resolved snapshot")
        return midnight(snapshot) - timedelta(seconds=obj["snapshot_minus_s"])
    raise ManifestError(f"unknown date object {obj!r}")


def sql_us(expr: str) -> str:
    """SQL for epoch microseconds of a DATE / TIMESTAMP / TIMESTAMPTZ expression."""
    return f"epoch_us(CAST({expr} AS TIMESTAMP))"
