"""When an orchestrated run is over: every stage has succeeded, or ended it (blocked,
waiting for an approval, failed with no retry left), or lies behind one that did.

An orchestrator (Airflow, Argo, the local script) drives a run stage by stage, and goes
on with the branches that do not depend on a stage that stopped (as `pipec run` does):
with two models, the second trains and registers although the first one's gate failed.
The run's record is written when the first stage ends it, and again (a continuation)
when another stage ends it or once nothing more can run, so that what the other
branches did is in a record too; the run keeps the worst ending (`ENDINGS`).
"""

from __future__ import annotations

from typing import Any

from .store import Execution

# How a stage that ended the run left it, the worst first: the run's status.
ENDINGS = ("failed", "blocked", "waiting")


def ended_stages(manifest: dict[str, Any],
                 executions: dict[str, Execution]) -> dict[str, Execution]:
    """Among a run's `executions`, the stages that ended the run and still do (an approval
    recorded since, or a failed task cleared and run again, is no longer one)."""
    found = {}
    for stage in manifest["stages"]:
        execution = executions.get(stage["id"])
        if execution is not None and _ends_the_run(stage, execution):
            found[stage["id"]] = execution
    return found


def _ends_the_run(stage: dict[str, Any], execution: Execution) -> bool:
    if execution.status in ("blocked", "waiting"):
        return True
    # A failure the orchestrator retries is not an ending: the stage may still succeed.
    attempt = int(execution.report.get("attempt") or 1)
    return execution.status == "failed" and attempt > int(stage.get("retries") or 0)


def can_still_run(manifest: dict[str, Any], done: set[str], ended: set[str]) -> bool:
    """Whether a stage has neither succeeded nor ended the run, and is not behind one that
    ended it: the orchestrator will still run it (or runs it now, in parallel)."""
    behind = downstream(manifest, ended)
    return any(s["id"] not in done and s["id"] not in behind for s in manifest["stages"])


def downstream(manifest: dict[str, Any], roots: set[str]) -> set[str]:
    """`roots` and every stage that depends on one of them, following `inputs`."""
    children: dict[str, list[str]] = {}
    for stage in manifest["stages"]:
        for parent in stage.get("inputs") or ():
            children.setdefault(parent, []).append(stage["id"])
    found, todo = set(), list(roots)
    while todo:
        sid = todo.pop()
        if sid not in found:
            found.add(sid)
            todo.extend(children.get(sid, ()))
    return found


def worst_ending(manifest: dict[str, Any], ended: dict[str, Execution]) -> tuple[str, str]:
    """(status, stage id) of the run that these stages ended: the worst ending, at its
    first stage in the manifest's order."""
    order = stage_order(manifest)
    stage_id = min(ended, key=lambda sid: ending_rank(order, ended[sid].status, sid))
    return ended[stage_id].status, stage_id


def stage_order(manifest: dict[str, Any]) -> dict[str, int]:
    return {s["id"]: i for i, s in enumerate(manifest["stages"])}


def ending_rank(order: dict[str, int], status: str, stage_id: str) -> tuple[int, int]:
    """How a stage's ending ranks among the run's (lowest first: the one the run ends
    as): the worse ending, then the earlier stage in the manifest's order."""
    return ENDINGS.index(status), order[stage_id]
