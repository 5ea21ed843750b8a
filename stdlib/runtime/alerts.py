"""`on_failure alert "MESSAGE"`: what a stage says when it fails (or, for a validate
stage, when a check fails and the run goes on, as with `warn`).

An alert is a line in the run's output and an entry in its run record (`alerts`),
naming the stage, its owning team and the message. Every target runs stages through
this runtime, so the same line reaches the terminal of `pipec run`, an Airflow task
log and an Argo pod log; sending it on (chat, paging) is the orchestrator's job.
A failed attempt that the orchestrator retries raises nothing (its log has no such line,
as the run record leaves it out): only a failure with no retry left does, so a failure
that a retry mends pages nobody.
"""

from __future__ import annotations

from typing import Any


def alert_for(stage: dict[str, Any], why: str) -> dict[str, Any] | None:
    """The alert `stage` raises for `why`, or None when its policy is not `alert`."""
    if stage.get("on_failure") != "alert":
        return None
    return {"stage": stage["id"], "owner": stage.get("owner"),
            "message": stage.get("alert") or "", "why": why}


def alert_line(alert: dict[str, Any]) -> str:
    owner = f" (owner {alert['owner']})" if alert.get("owner") else ""
    return f"ALERT {alert['stage']}{owner}: {alert['message']} [{alert['why']}]"
