"""Human-readable one-line summaries of manifest entries (checks, gates, retraining,
splits). They are computed when the docs manifest is built and stored in it, so that
every reader of `manifest.json` (and every renderer) shows the same words."""

from __future__ import annotations

import json
from typing import Any

from pipec.literals import format_duration

_SIZES = (("GiB", 1 << 30), ("GB", 10**9), ("MiB", 1 << 20), ("MB", 10**6),
          ("KiB", 1 << 10), ("KB", 10**3))


def duration(seconds: float | None) -> str:
    return "" if seconds is None else format_duration(seconds)


def size(count: float) -> str:
    """The largest unit that divides the byte count exactly: 20000000 -> `20MB`."""
    for unit, scale in _SIZES:
        if count and count % scale == 0:
            return f"{int(count // scale)}{unit}"
    return f"{_number(count)}B"


def value(data: Any) -> str:
    """A literal as the `.pipe` file would spell it (maps and lists as compact JSON)."""
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, int | float):
        return _number(data)
    if isinstance(data, dict | list):
        return json.dumps(data, sort_keys=True, ensure_ascii=False)
    return "" if data is None else str(data)


def _number(number: float) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def share(number: float | None) -> str:
    return "" if number is None else f"{_number(round(number * 100, 6))}%"


def check(entry: dict[str, Any]) -> str:
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


def gate(entry: dict[str, Any]) -> str:
    kind, metric, op = entry["kind"], entry.get("metric"), entry.get("op")
    text = _gate_body(kind, metric, op, entry)
    return text if entry.get("blocking", True) else f"{text} (warn)"


def _gate_body(kind: str, metric: str | None, op: str | None, entry: dict[str, Any]) -> str:
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


def retrain(entry: dict[str, Any]) -> str:
    kind = entry["kind"]
    if kind == "scheduled":
        return f"scheduled \"{entry['cron']}\""
    if kind == "triggered" and entry.get("on") == "drift":
        return f"triggered on drift({entry['column']}) {entry['op']} {value(entry['value'])}"
    if kind == "triggered":
        return f"triggered on {entry['on']}"
    return kind


def backfill(entry: dict[str, Any] | None) -> str:
    """A feature view's `backfill FROM..UNTIL [validated]`: the range whose rows were
    recomputed, which a reader of the reproducibility contract must see."""
    if not entry:
        return ""
    text = f"{entry['from']}..{entry['until']}"
    return f"{text}, validated" if entry.get("validated") else text


def marked_columns(schema: list[dict[str, Any]] | None) -> str:
    """A source's columns marked `pii` (personal data) and `after_event` (known only
    after the prediction time): what governance and leakage reviews look for."""
    parts = []
    for marker in ("pii", "after_event"):
        names = [column["name"] for column in schema or () if column.get(marker)]
        if names:
            parts.append(f"{marker}: {', '.join(names)}")
    return "; ".join(parts)


def date(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return ""
    if "snapshot_minus_s" in entry:
        minus = entry["snapshot_minus_s"]
        return f"snapshot - {duration(minus)}" if minus else "snapshot"
    return str(entry.get("date") or entry.get("timestamp"))


def split(entry: dict[str, Any]) -> str:
    parts = [f"by {entry['by']}" + (f" on {entry['on']}" if entry.get("on") else "")]
    if entry.get("train_before"):
        parts.append(f"train before {date(entry['train_before'])}")
    if entry.get("gap_s"):
        parts.append(f"gap {duration(entry['gap_s'])}")
    if entry.get("test_from"):
        until = f" until {date(entry['test_until'])}" if entry.get("test_until") else ""
        parts.append(f"test from {date(entry['test_from'])}{until}")
    for key in ("test", "valid"):
        if entry.get(key) is not None:
            parts.append(f"{key} {share(entry[key])}")
    if entry.get("seed") is not None:
        parts.append(f"seed {entry['seed']}")
    if entry.get("holdout"):
        parts.append(f"holdout {value(entry['holdout'])}")
    return "; ".join(parts)
