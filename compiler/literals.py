"""Decoding of literal tokens: durations, sizes, dates, strings. Pure functions."""

from __future__ import annotations

import datetime as dt
import json
import math
import re

_DURATION_PART = re.compile(r"(\d+)(ms|d|h|m|s)")
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)([KMGT]?i?B)")
_SIZE_FACTOR = {
    "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}


# Longer durations are refused: no pipeline means them, and date arithmetic overflows.
MAX_DURATION_SECONDS = 1000 * 366 * 86400


def duration_seconds(text: str) -> float:
    """`1h30m` -> 5400.0; `250ms` -> 0.25."""
    parts = _DURATION_PART.findall(text)
    if any(len(number) > 15 for number, _unit in parts):
        raise ValueError(f"duration too long: {text}")
    total = sum(int(n) * _DURATION_SECONDS[unit] for n, unit in parts)
    if total > MAX_DURATION_SECONDS:
        raise ValueError(f"duration too long: {text}")
    return round(total, 3)


def finite(value: float) -> float:
    """`1e999` reads as infinity, which no output format can carry: refuse it."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    return value


def size_bytes(text: str) -> int:
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a size: {text}")
    return int(float(match.group(1)) * _SIZE_FACTOR[match.group(2)])


class StringProblem(ValueError):
    """Why a string literal cannot be read (`message`), and how to write it (`fix`)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


# The JSON escape of each control character that has a short one.
_SHORT_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROL_NAMES = {"\t": "a tab", "\r": "a carriage return"}


def decode_string(text: str) -> str:
    """Strings use JSON escapes; a lone surrogate (`"\\ud800"`) is refused, since no
    output (UTF-8 files, YAML, JSON) can carry it. StringProblem says what is wrong."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        char = exc.doc[exc.pos] if exc.pos < len(exc.doc) else ""
        if char and ord(char) < 0x20:  # JSON strings hold no raw control character
            name = _CONTROL_NAMES.get(char, "a control character")
            escape = _SHORT_ESCAPES.get(char, f"\\u{ord(char):04x}")
            raise StringProblem(f"a string cannot hold {name} (U+{ord(char):04X}) as it is",
                                f"write it as `{escape}`") from exc
        raise
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        half = f"\\u{ord(value[exc.start]):04x}"
        raise StringProblem(f"`{half}` is half of a surrogate pair, without its other half: "
                            "no UTF-8 file can hold it",
                            "write the character itself, or both halves of the pair "
                            "(`\\ud83d\\ude00` is U+1F600)") from exc
    return value


def parse_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def parse_timestamp(text: str) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
    try:
        stamp.astimezone(dt.UTC)  # `0001-01-01T00:00+14:00` has no UTC time
    except OverflowError as exc:
        raise ValueError(f"timestamp out of range: {text}") from exc
    return stamp


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
