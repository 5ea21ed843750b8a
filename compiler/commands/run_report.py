"""The end of `pipec run`: validation, examples and censoring, split sizes, the model's
gates and what happened in the registry, as plain text."""

from __future__ import annotations

from typing import Any

from pipec.render.text import visible
from pipec.spelling import measured
from pipec.stdlib.runtime.alerts import alert_line
from pipec.stdlib.runtime.drift import drift_summary


def print_report(result: Any) -> None:
    report = result.report
    for line in report_lines(result.status, report, {s.stage_id: s for s in result.stages}):
        # Sample values come from the data and messages from the file: a control
        # character in either is shown, never sent to the terminal.
        print(visible(line))
    for why in result.also_stopped:  # outranked by the stop or failure said above
        print(visible(f"also stopped: {why}"))


def report_lines(status: str, report: dict[str, Any], stages: dict[str, Any]) -> list[str]:
    lines = ["", f"run {_run_id(report, stages)}: {status}"]
    lines += _validation(report.get("validation") or {}, stages)
    if "examples" in report:
        lines.append(f"examples: {report['examples']:,} ({report.get('censored') or 0:,} "
                     "censored: label not yet mature at the snapshot)")
    if "split" in report:
        sizes = ", ".join(f"{side} {count:,}" for side, count in report["split"].items()
                          if count is not None)
        lines.append(f"split: {sizes}")
    for stage in stages.values():
        lines += _model_lines(stage)
    for stage_id, stage in stages.items():  # after every stage's own lines, together
        lines += warning_lines(stage_id, stage.report or {}, getattr(stage, "status", "ran"))
    lines += [alert_line(alert) for alert in report.get("alerts", [])]
    if report.get("reason"):
        lines.append(f"stopped: {report['reason']}")
    if report.get("error"):
        lines.append(f"failed: {report['error']}")
    return lines


def _run_id(report: dict[str, Any], stages: dict[str, Any]) -> str:
    return report.get("run_id") or "(local)"


def _validation(validation: dict[str, Any], stages: dict[str, Any]) -> list[str]:
    lines = []
    for stage_id, entry in sorted(validation.items()):
        checks = entry.get("checks", [])
        failed = [c for c in checks if not c["passed"]]
        verdict = "passed" if not failed else f"{len(failed)} failed"
        dropped = entry.get("rows_without_time")
        left_out = f" ({dropped:,} more without a time left out)" if dropped else ""
        lines.append(f"{stage_id}: {len(checks)} checks on {entry.get('rows', 0):,} rows"
                     f"{left_out}, {verdict}")
        # Under `on_failure warn|alert` no check stops the run, whatever its severity.
        policy = entry.get("policy", "block")
        for check in failed:
            severity = check.get("severity", "block") if policy == "block" else policy
            lines.append(f"  ✗ {check['check']}: {_failure(check)} [{severity}]")
        # A first baseline is news once: a cached report still says it was recorded.
        ran = getattr(stages.get(stage_id), "status", None) == "ran"
        lines += [f"  drift {check['check'].split()[1]}: {drift_summary(check['detail'])}"
                  for check in checks if ran and check.get("kind") == "drift"
                  and check["passed"] and (check.get("detail") or {}).get("recorded")]
    return lines


def _failure(check: dict[str, Any]) -> str:
    """What failed: a drift statistic's move, a share, the newest value's age, else the
    rows that fail and some of their values."""
    detail = check.get("detail") or {}
    if check.get("kind") == "drift":
        return drift_summary(detail)
    if check.get("kind") == "completeness" and detail.get("reason"):
        return detail["reason"]
    if check.get("kind") == "completeness" and "observed" in detail:
        return f"{detail['observed']:.4%} present ({check['rows_failing']:,} rows missing)"
    if check.get("kind") == "freshness":
        if "age_s" in detail:
            return f"newest {detail['newest']}, {detail['age_s'] / 86400:.1f} days before the " \
                "end of the snapshot"
        return detail.get("reason", "not measured")
    if check.get("kind") == "type" and detail.get("columns"):
        # Which columns: "4 rows" of values that fit no declared type says nothing of where.
        return "; ".join(_rows(f"`{c['column']}` ({c.get('type', '?')})", c["rows"],
                               _placed(c)) for c in detail["columns"])
    return _rows("", check["rows_failing"], check.get("values", []))


def _placed(column: dict[str, Any]) -> list[Any]:
    """A type error's sample values, each with where it first is (`0x10 at line 4`) when
    the source stage found it in its file."""
    at = column.get("at") or []
    return [f"{v} at {a}" for v, a in zip(column["values"], at, strict=True)] if at \
        else column["values"]


def _rows(where: str, rows: int, values: list[Any]) -> str:
    """`where 4 rows (e.g. 12,5, n/a)`: a count of failing rows and some of their values."""
    shown = ", ".join(str(v) for v in values[:5])
    prefix = f"{where} " if where else ""
    return f"{prefix}{row_count(rows)}" + (f" (e.g. {shown})" if shown else "")


def row_count(rows: int) -> str:
    """`336,688 rows`, `1 row`: how every run output says a count of rows."""
    return f"{rows:,} row{'' if rows == 1 else 's'}"


def _left_out(report: dict[str, Any]) -> str:
    """The rows a model stage left out for want of a label (a cancelled flight has no
    arrival delay): neither fitted nor scored, which the split's counts do not show."""
    count = report.get("unlabelled_dropped") or 0
    return f" ({count:,} without a label left out)" if count else ""


# The longest first line of a warning's message that a run's report quotes whole.
WARNING_CHARS = 120


def warning_lines(stage_id: str, report: dict[str, Any], status: str = "ran") -> list[str]:
    """Each distinct warning a model stage counted (`model_warnings`), once, with how
    often it was raised and what to do: `train.m: warning (ConvergenceWarning, 1x): lbfgs
    failed to converge after 2 iteration(s) (status=1) ...; raise `max_iter` in its params
    (now 2)`. A stage taken from the cache says that its warnings were raised then."""
    when = "" if status == "ran" else "; in the run that made it"
    lines = [f"{stage_id}: warning ({entry['category']}, {entry['count']:,}x{when}): "
             f"{_first_line(entry['message'])}" + (f"; {entry['hint']}" if entry.get("hint")
                                                  else "")
             for entry in report.get("warnings") or []]
    if omitted := report.get("warnings_omitted"):
        lines.append(f"{stage_id}: {omitted:,} more distinct warning"
                     f"{'' if omitted == 1 else 's'}, not kept")
    return lines


def _first_line(message: str) -> str:
    """A warning's first line, cut at WARNING_CHARS, with ` ...` when more follows
    (scikit-learn's go on with advice and links for several lines)."""
    first, _, rest = message.strip().partition("\n")
    first, more = first.rstrip(" :"), bool(rest)
    if len(first) > WARNING_CHARS:
        first, more = first[:WARNING_CHARS].rstrip(), True
    return first + (" ..." if more else "")


def _gate_lines(gates: list[dict[str, Any]]) -> list[str]:
    lines, shown = [], set()
    for gate in gates:
        # A stage's own line and a gate set's that say the same (`features compatible`
        # in both) are one line to a reader; the record keeps both.
        if (gate["line"], gate["blocking"]) in shown:
            continue
        shown.add((gate["line"], gate["blocking"]))
        mark = "✓" if gate["passed"] else ("✗" if gate["blocking"] else "!")
        lines.append(f"  {mark} {gate['line']}: {gate_result(gate)}")
    return lines


def gate_result(gate: dict[str, Any]) -> str:
    """What a gate line measured, with its note: `12.2ms`, `per slice (3 slices gated)`;
    the note alone when nothing was measured (`no champion in production: passes`)."""
    observed, note = gate.get("observed"), gate.get("note") or ""
    if observed is None:
        return note or "not measured"
    shown = "per slice" if isinstance(observed, dict) else measured(gate.get("kind", ""),
                                                                    observed)
    return f"{shown} ({note})" if note else shown


def _model_lines(stage: Any) -> list[str]:
    report = stage.report or {}
    if stage.kind == "evaluate":
        verdict = "blessed" if report.get("blessed") else "NOT blessed"
        return [f"{stage.stage_id}: {verdict} on {report.get('test_rows', 0):,} test rows"
                f"{_left_out(report)}", *_gate_lines(report.get("gates", []))]
    if stage.kind == "train":
        # Said where the run is read: the model sees these columns' rarer values as one.
        lines = [f"{stage.stage_id}: {entry['note']}"
                 for entry in (report.get("grouped_categories") or {}).values()]
        if report.get("unlabelled_dropped"):
            lines.insert(0, f"{stage.stage_id}: fitted on {report.get('rows', 0):,} train rows"
                         f"{_left_out(report)}")
        return lines
    if stage.kind == "register" and report:
        # The same model bytes are the same version: registering them again finds the
        # version in whatever state it is now (archived after a newer one took over).
        state = report["state"] if report["state"] == "candidate" else \
            f"already registered ({report['state']})"
        return [f"{stage.stage_id}: {report['model']} v{report['version']} {state} "
                f"(sha256 {report['sha256'][:12]})"]
    if stage.kind in ("deploy", "approval") and report:
        state = report.get("state") or ("already in production: nothing to approve"
                                        if report.get("already_production") else
                                        f"approved by {report.get('approved_by')}")
        if stage.kind == "deploy" and state != "production":
            # A cached deploy of a version rolled back (or replaced by hand) since.
            state += (": not deployed again, the registry was changed by hand since "
                      f"(`pipec registry promote {report['model']}@{report['version']}` "
                      "deploys it)")
        return [f"{stage.stage_id}: {report['model']} v{report['version']} {state}"]
    return []
