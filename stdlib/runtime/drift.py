"""Drift verdicts, apart from the validation scan: a cached validate stage re-checks its
drift verdicts against today's baseline (`data_stages.validate_hit`) without loading
DuckDB and pyarrow, which would double the time of a fully cached run."""

from __future__ import annotations

from typing import Any


def drift_name(check: dict[str, Any]) -> str:
    """The report's name of a drift check (a cached report is matched to it by name)."""
    factor = float(check["factor"])
    return f"drift {check['stat']}({check['column']}) within {factor:g}x of baseline"


def within_factor(current: float | None, baseline: float | None, factor: float) -> bool:
    """Equal, or same sign and non-zero with a ratio (either way) of at most `factor`."""
    if current == baseline:
        return True
    if current is None or baseline is None or current == 0 or baseline == 0:
        return False
    if (current > 0) != (baseline > 0):
        return False
    ratio = current / baseline
    return max(ratio, 1 / ratio) <= factor


def drift_entry(check: dict[str, Any], current: float | None,
                baseline: tuple[bool, float | None]) -> dict[str, Any]:
    """A drift check's report entry: `current` against `baseline` (found, value), as the
    validation scan reports it and as a cached validation says it compared anew."""
    found, value = baseline
    if not found:
        # No value (no rows) is recorded as no baseline.
        return {"check": drift_name(check), "passed": True, "rows_failing": 0, "values": [],
                "detail": {"current": current, "baseline": None,
                           "recorded": current is not None}}
    passed = within_factor(current, value, float(check["factor"]))
    return {"check": drift_name(check), "passed": passed, "rows_failing": 0,
            "values": [] if passed else [str(current), str(value)],
            "detail": {"current": current, "baseline": value}}


def drift_summary(detail: dict[str, Any]) -> str:
    """How far a drift statistic moved, for the run's output: `177.78 against a baseline
    of 59.259 (3x)`; on a first run, that the value became the baseline."""
    current, baseline = detail.get("current"), detail.get("baseline")
    if baseline is None:
        return f"{_number(current)} recorded as the baseline" if detail.get("recorded") \
            else f"{_number(current)}, no baseline"
    moved = ""
    if current and baseline and (current > 0) == (baseline > 0):
        ratio = current / baseline
        moved = f" ({ratio:.3g}x)" if ratio >= 1 else f" (1/{1 / ratio:.3g}x)"
    return f"{_number(current)} against a baseline of {_number(baseline)}{moved}"


def _number(value: float | None) -> str:
    return "no value" if value is None else f"{value:.6g}"
