"""Human-readable one-line summaries of manifest entries (checks, gates, retraining,
splits). They are computed when the docs manifest is built and stored in it, so that
every reader of `manifest.json` (and every renderer) shows the same words."""

from __future__ import annotations

from typing import Any

from pipec.spelling import duration, gate_line, share, value


def gate(entry: dict[str, Any]) -> str:
    text = gate_line(entry)
    return text if entry.get("blocking", True) else f"{text} (warn)"


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
