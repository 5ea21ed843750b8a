"""Decoding of literal tokens: durations, sizes, dates, strings. Pure functions."""

from __future__ import annotations

import datetime as dt
import json
import re

_DURATION_PART = re.compile(r"(\d+)(ms|d|h|m|s)")
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)([KMGT]?i?B)")
_SIZE_FACTOR = {
    "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}


def duration_seconds(text: str) -> float:
    """`1h30m` -> 5400.0; `250ms` -> 0.25."""
    total = sum(int(n) * _DURATION_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))
    return round(total, 3)


def size_bytes(text: str) -> int:
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a size: {text}")
    return int(float(match.group(1)) * _SIZE_FACTOR[match.group(2)])


def decode_string(text: str) -> str:
    """Strings use JSON escapes."""
    return json.loads(text)


def encode_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def parse_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def parse_timestamp(text: str) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def format_duration(seconds: float) -> str:
    """The shortest canonical spelling: 2764800 -> `32d`, 5400 -> `1h30m`."""
    if seconds <= 0:
        return "0s"
    millis = round(seconds * 1000)
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    if millis:
        parts.append(f"{millis}ms")
    return "".join(parts)
