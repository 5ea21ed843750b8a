"""Values as a `.pipe` file spells them, for every report that quotes a line back to
its author: 20000000 bytes is `20MB`, 0.05 seconds `50ms`. Kept free of heavy imports:
the runtime's evaluation report and the docs manifest both use it, so a gate reads the
same in `pipec run`, `runs show`, `lineage` and the docs."""

from __future__ import annotations

import json
import math
from typing import Any

from pipec.literals import format_duration

# Exact spellings try binary units first: 1073741824 is `1GiB`, not `1073741824B`.
_EXACT_SIZES = (("GiB", 1 << 30), ("GB", 10**9), ("MiB", 1 << 20), ("MB", 10**6),
                ("KiB", 1 << 10), ("KB", 10**3))
_MEASURED_SIZES = (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3))


def number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def value(data: Any) -> str:
    """A literal as the `.pipe` file would spell it (maps and lists as compact JSON)."""
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, int | float):
        return number(data)
    if isinstance(data, dict | list):
        return json.dumps(data, sort_keys=True, ensure_ascii=False)
    return "" if data is None else str(data)


def duration(seconds: float | None) -> str:
    return "" if seconds is None else format_duration(seconds)


def size(count: float) -> str:
    """The largest unit that divides the byte count exactly: 20000000 -> `20MB`."""
    for unit, scale in _EXACT_SIZES:
        if count and count % scale == 0:
            return f"{int(count // scale)}{unit}"
    return f"{number(count)}B"


def share(amount: float | None) -> str:
    return "" if amount is None else f"{number(round(amount * 100, 6))}%"


def check_line(entry: dict[str, Any]) -> str:
    """A check line of the lineage manifest as its author wrote it, without `warn`."""
    kind = entry["kind"]
    if kind == "schema":
        count = len(entry["columns"])
        return f"schema: {count} typed column{'' if count == 1 else 's'}"
    if kind in ("require", "unique"):
        return f"{kind} {', '.join(entry['columns'])}"
    if kind == "range":
        if "in" in entry:
            low, high = entry["in"]
            return f"range {entry['column']} in {value(low)}..{value(high)}"
        return f"range {entry['column']} {entry['op']} {value(entry['value'])}"
    if kind == "completeness":
        return f"completeness {entry['column']} {entry['op']} {share(entry['value'])}"
    if kind == "drift":
        return (f"drift {entry['stat']}({entry['column']}) within "
                f"{value(entry['factor'])}x of baseline")
    if kind == "freshness":
        return f"freshness {entry['column']} within {duration(entry['within_s'])}"
    return kind


def gate_line(entry: dict[str, Any]) -> str:
    """A gate line of the lineage manifest as its author wrote it, without `warn`:
    `latency p99 <= 50ms`, not the manifest's 0.05 seconds."""
    kind, metric, op = entry["kind"], entry.get("metric"), entry.get("op")
    amount = value(entry.get("value"))
    if kind == "slice":
        return f"slice {entry['column']} min {entry['min']}: {metric} {op} {amount}"
    if kind == "latency":
        return f"latency {metric} {op} {duration(entry['value'])}"
    if kind == "size":
        return f"size {op} {size(entry['value'])}"
    if kind == "compare_champion":
        return f"compare champion {metric} {op} {amount}"
    if kind == "features_compatible":
        return "features compatible"
    return f"{kind} {metric} {op} {amount}"


def measured(kind: str, observed: Any) -> str:
    """A gate's observed value for a reader: a latency in the unit its line uses
    (`12.2ms`) and a size in bytes' decimal units (`1.23MB`), three significant digits;
    any other value as it is."""
    if isinstance(observed, bool) or not isinstance(observed, int | float) \
            or not math.isfinite(observed):
        return str(observed)
    if kind == "latency":
        return _latency(observed)
    if kind == "size":
        return _bytes(observed)
    return str(observed)


def _latency(seconds: float) -> str:
    if seconds >= 1:
        return f"{_significant(seconds)}s"
    if seconds >= 0.001 or seconds == 0:
        return f"{_significant(seconds * 1000)}ms"
    return f"{_significant(seconds * 1_000_000)}µs"


def _bytes(count: float) -> str:
    for unit, scale in _MEASURED_SIZES:
        if count >= scale:
            return f"{_significant(count / scale)}{unit}"
    return f"{number(count)}B"


def _significant(amount: float) -> str:
    """Three significant digits, no exponent: 12.2449 -> `12.2`, 1225.4 -> `1225`."""
    if amount >= 100:
        return str(round(amount))
    return f"{amount:.3g}"
