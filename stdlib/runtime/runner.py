"""The local runner: every stage of a manifest, in the manifest's order, in one run.

- `until=ID` runs only ID and its ancestors (through the stages' `inputs`).
- `from_stage=ID` starts at ID: the stages before it are not run but reuse the outputs
  of their latest successful execution in an earlier run ("reused").
- A blocking validation failure stops the run before anything downstream; the run
  result carries the validation report (which check failed, on how many rows).
- A stage that stops the run (blocked, waiting) or fails leaves out what lies behind it,
  and the stages of other branches still run, as an orchestrator runs them: with two
  models, the second trains and registers although the first one's gate failed. The
  run ends as the worst of those stages left it (`branches.worst_ending`).
- Two runs of one pipeline in one project take turns at each stage (`stage_turn`): the
  second reuses what the first made, rather than training and evaluating again beside it.
- Ctrl-C (SIGINT) or SIGTERM while a stage runs ends the run as a failure of that stage
  does, with its record; the result names the signal (`stopped_by`).
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from traceback import format_exc
from typing import Any

from pipec.spelling import number

from .alerts import alert_for
from .branches import (
    ENDINGS,
    can_still_run,
    downstream,
    ended_stages,
    ending_rank,
    stage_order,
    worst_ending,
)
from .context import USABLE, manifest_stage
from .errors import (
    RETRY_DELAY_S,
    ManifestError,
    MissingUpstream,
    NotBlessed,
    RunStopped,
    Terminated,
    TimedOut,
    failure_text,
    signals_stop_the_stage,
)
from .records import RunRecords, write_run_record
from .stage import StageResult, current_key, record_failure, run_stage, stop_queries
from .store import ArtifactStore, Execution, RunIndex, stage_turn

Progress = Callable[[str, str], None]  # (stage id, status)

# The status a stage shows while it waits for another run of the pipeline in the project
# (`pipec run`, or an orchestrator's `pipec stage run`) that runs it now (`store.stage_turn`).
QUEUED = "queued behind another run of this pipeline, which runs this stage now"

# What a stage stopped by a signal at `pipec run` records as its error.
RUN_SIGNALS = {signal.SIGINT: "interrupted by SIGINT", signal.SIGTERM: "stopped by SIGTERM"}


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: str
    status: str  # succeeded | blocked | failed
    stages: list[StageResult] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    # The failed stage's traceback, for `--debug`: the run records the failure, not this.
    traceback: str | None = None
    stopped_by: int | None = None  # the signal that stopped the run (SIGINT, SIGTERM)
    # The run ended as a stage before this one left it (`_carry_ending`): this stage's
    # own task exits as the stage ended (succeeded, or its own lesser stop), and must not
    # fail (or be retried) in the orchestrator for that other stage's ending.
    carried: bool = False
    # Why the other stages that ended the run did (a lesser ending, or an equal one
    # later in the run): the summary says them too, as a pending approval that a block
    # elsewhere outranks still needs its `pipec registry approve`.
    also_stopped: tuple[str, ...] = ()


def _unblessed(manifest: dict[str, Any], results: list[StageResult]) -> NotBlessed | None:
    """The first evaluation whose blocking gates failed, as the register stage would
    have refused it."""
    kinds = {s["id"]: s["kind"] for s in manifest["stages"]}
    for result in results:
        if kinds.get(result.stage_id) == "evaluate" and result.report.get("blessed") is False:
            return NotBlessed(result.stage_id, result.report)
    return None


def refused_unregistered(manifest: dict[str, Any], result: StageResult) -> NotBlessed | None:
    """An evaluation whose blocking gates failed and that no register stage reads: no
    stage behind it refuses the model, yet the run ends blocked by it (`_end_run`). Its
    orchestrator task, not the run's last, is the one to say so."""
    stage = manifest_stage(manifest, result.stage_id)
    registered = any(s["kind"] == "register" and result.stage_id in (s.get("inputs") or ())
                     for s in manifest["stages"])
    if stage["kind"] != "evaluate" or registered:
        return None
    return _unblessed(manifest, [result])


def ancestors(manifest: dict[str, Any], stage_id: str) -> set[str]:
    """`stage_id` and every stage it depends on, following `inputs`."""
    by_id = {s["id"]: s for s in manifest["stages"]}
    seen, todo = set(), [stage_id]
    while todo:
        sid = todo.pop()
        if sid not in seen:
            if sid not in by_id:
                raise ManifestError(f"the manifest has no stage {sid!r}")
            seen.add(sid)
            todo.extend(by_id[sid].get("inputs") or [])
    return seen


def planned_stages(manifest: dict[str, Any], until: str | None) -> list[dict[str, Any]]:
    wanted = ancestors(manifest, until) if until else None
    return [s for s in manifest["stages"] if wanted is None or s["id"] in wanted]


@dataclass(slots=True)
class _Outcome:
    """How the stage loop ended: what ran, and why it stopped if it did."""
    results: list[StageResult] = field(default_factory=list)
    status: str = "succeeded"
    error: str | None = None
    blocked: RunStopped | None = None
    failed_alerts: list[dict[str, Any]] = field(default_factory=list)  # one per failed stage
    traceback: str | None = None
    stopped_by: int | None = None
    carried: bool = False  # see RunResult.carried
    also_stopped: list[str] = field(default_factory=list)  # see RunResult.also_stopped
    reason: str = ""  # a failure's own words, without the stage's id: its alert's why


def run_pipeline(
    manifest: dict[str, Any],
    manifest_dir: Path,
    project: Path,
    *,
    from_stage: str | None = None,
    until: str | None = None,
    progress: Progress | None = None,
    run_id: str | None = None,
    options: dict[str, Any] | None = None,
    retry_delay_s: float = RETRY_DELAY_S,
) -> RunResult:
    """Run a pipeline locally; never raises for a data problem, returns its status.

    A failed stage is run again its `retries` times, `retry_delay_s` apart, and one past
    its `timeout` fails (`stage_deadline`), as the targets do.

    SIGINT and SIGTERM stop the stage that runs (see `signals_stop_the_stage`); a signal
    while the record is written waits for it, then is delivered."""
    run_id = run_id or uuid.uuid4().hex[:16]
    notify = progress or (lambda _sid, _status: None)
    # A signal the caller ignores (`pipec run &` in a script ignores SIGINT) stays ignored.
    reasons = {signum: reason for signum, reason in RUN_SIGNALS.items()
               if signal.getsignal(signum) != signal.SIG_IGN}
    index = RunIndex(project)
    try:
        with signals_stop_the_stage(reasons, stop_queries) as running:
            outcome = _Outcome()
            try:
                index.start_run(run_id, manifest.get("dag_hash"))
                _run_stages(manifest, manifest_dir, project, run_id, index,
                            from_stage, until, notify, options, outcome, retry_delay_s)
                running.clear()  # from here on, a signal waits for the record
            except Terminated as exc:  # between two stages: no stage failed
                outcome.status, outcome.error, outcome.stopped_by = \
                    "failed", str(exc), exc.signum
            return _end_run(manifest, manifest_dir, project, run_id, outcome, index)
    finally:
        index.close()


def _end_run(manifest: dict[str, Any], manifest_dir: Path, project: Path, run_id: str,
             outcome: _Outcome, index: RunIndex) -> RunResult:
    """Write the run's record, then mark it ended in the index."""
    if outcome.status in ("succeeded", "waiting") and \
            (unblessed := _unblessed(manifest, outcome.results)) is not None:
        # A pipeline without a register stage (or run `--until` evaluate) has no stage
        # that refuses the model, but a blocking gate failed all the same: exit 1, as
        # the evaluation's own task exits under an orchestrator (`refused_unregistered`,
        # so not this one, whichever stage ends the run). A block is worse than a wait
        # (`ENDINGS`): a pending approval in another branch does not hide it.
        if outcome.blocked is not None:  # the approval that waits
            outcome.also_stopped.insert(0, str(outcome.blocked))
        outcome.status, outcome.blocked, outcome.carried = "blocked", unblessed, True
    report = _final_report(outcome, run_id)
    base_dir = (Path(manifest_dir) / manifest.get("base_dir", ".")).resolve()
    # The record before the index says the run ended: a crash in between leaves a run
    # still `running`, never a succeeded run without its record.
    record_sha256 = write_run_record(manifest, base_dir, project, run_id, outcome.status,
                                     report)
    if record_sha256 is not None:  # else another stage ended the run first: it stands
        index.finish_run(run_id, outcome.status, report)
        report["record_sha256"] = record_sha256
    return RunResult(run_id, outcome.status, outcome.results, report, outcome.traceback,
                     outcome.stopped_by, outcome.carried, tuple(outcome.also_stopped))


def end_stage_run(manifest: dict[str, Any], manifest_dir: Path, project: Path, run_id: str,
                  stage_id: str, *, stopped: RunStopped | None = None,
                  error: str | None = None,
                  failed_alert: dict[str, Any] | None = None,
                  final: bool = False) -> RunResult | None:
    """After one stage of a run that an orchestrator drives stage by stage (`pipec stage
    run`): when this stage ended the run, its record and its end in the index, as
    `run_pipeline` writes them; None while the run goes on.

    The run ends at a stage that stops it (blocked, waiting), at a failure no retry
    follows (its `retries` are used up), or once no stage can run any more: every stage
    has succeeded, or lies behind one that ended the run (`branches`). Parallel branches
    finish in any order, so the manifest's last stage need not be the last to end, and a
    record never claims success for a stage that has not run; the branches that went on
    after a stop get a continuation record, with the stop's status, once they are done.
    The run keeps its worst ending (a failure, then a block, then a wait), whichever
    branch ends last, and every failure's alert. Two stages ending together both write:
    the first record stays (immutable).
    A run that ended and went on (its approval recorded and the task run again, a failed
    task cleared) gets a continuation record when it ends again (`RunRecords.write`).
    `final`: the failure ends the run whatever retries are left (a run stopped by hand).
    """
    index = RunIndex(project)
    try:
        executions = index.executions(run_id)  # once: read by each question below
        # The other stages that ended the run (this one's ending is `stopped` or `error`).
        others = {sid: execution for sid, execution in ended_stages(manifest, executions).items()
                  if sid != stage_id}
        outcome = _Outcome(results=_succeeded(manifest, executions))
        if stopped is not None:
            outcome.status, outcome.blocked = stopped.status, stopped
        elif error is not None:
            if not final and retry_follows(manifest, index, run_id, stage_id):
                return None
            outcome.status, outcome.error = "failed", error
        elif can_still_run(manifest, {r.stage_id for r in outcome.results}, set(others)):
            return None
        # The run ends as the worst stage that ended it left it, the first of equals in
        # the manifest's order, as in `pipec run` (`_keep_worst`): branches end in any
        # order, and a later stop that is lesser (a block after a failure) or no worse (a
        # second model's gate) must not make the latest record name it instead.
        if others and (outcome.status == "succeeded" or
                       _ended_first(manifest, others, stage_id, outcome.status)):
            _carry_ending(manifest, project, run_id, others, outcome)
        # Every failure's alert, not only this stage's: the latest record is the run's.
        outcome.failed_alerts = _failure_alerts(manifest, others) + \
            ([failed_alert] if failed_alert else [])
        return _end_run(manifest, manifest_dir, project, run_id, outcome, index)
    finally:
        index.close()


def end_stopped_run(manifest: dict[str, Any], manifest_dir: Path, project: Path,
                    run_id: str, stage_id: str, signum: int,
                    failed_alert: dict[str, Any] | None = None) -> RunResult | None:
    """The local target's script was stopped by `signum` at `stage_id` (while it ran, or
    waited to retry it, or was about to start it): the run's record, as `pipec run`
    writes it, unless the stage wrote it itself; None then. The stage is recorded as
    failed when it has no ending yet (it never started, or died before it could record
    one); a stage that ended (it succeeded, or stopped the run) is left as it is, and the
    run ends failed, stopped between two stages, when a stage could still have run.
    `failed_alert`: the alert of the stage's failed attempt, which held it back for a
    retry that the stopped script will not make; the record lists it."""
    reason = f"stopped by {signal.Signals(signum).name}"
    index = RunIndex(project)
    try:
        execution = index.execution(run_id, stage_id)
        if execution is None or execution.status == "running":
            failure = Terminated(f"{reason} before it could run or record its end", signum)
            record_failure(index, run_id, stage_id, failure)
            error = f"{stage_id}: {failure_text(failure)}"
        elif execution.status == "failed":  # its end recorded, with no retry left, or one
            error = f"{stage_id}: {execution.report.get('error') or reason}"
            if "signal" not in execution.report:
                error += f" (then {reason}, before a retry)"
        else:
            executions = index.executions(run_id)
            done = {r.stage_id for r in _succeeded(manifest, executions)}
            if not can_still_run(manifest, done, set(ended_stages(manifest, executions))):
                return None  # the stage was the run's last: it ended the run
            error = f"{reason} after {stage_id}, before the next stage"
    finally:
        index.close()
    return end_stage_run(manifest, manifest_dir, project, run_id, stage_id, error=error,
                         failed_alert=failed_alert, final=True)


def _ended_first(manifest: dict[str, Any], others: dict[str, Execution], stage_id: str,
                 status: str) -> bool:
    """Whether the run ended as one of `others` left it rather than as `stage_id` (which
    ended with `status`): a worse ending, or an equal one earlier in the manifest's
    order, which is the one `pipec run` meets first and keeps."""
    worst, first = worst_ending(manifest, others)
    order = stage_order(manifest)
    return ending_rank(order, worst, first) < ending_rank(order, status, stage_id)


def _failure_alerts(manifest: dict[str, Any],
                    ended: dict[str, Execution]) -> list[dict[str, Any]]:
    """The alert each failed stage among `ended` raised (`on_failure alert`), from the
    error its execution recorded, as `_run_one` made it."""
    found = []
    for stage_id, execution in ended.items():
        if execution.status == "failed" and (alert := alert_for(
                manifest_stage(manifest, stage_id), execution.report.get("error") or "")):
            found.append(alert)
    return found


def _carry_ending(manifest: dict[str, Any], project: Path, run_id: str,
                  ended: dict[str, Execution], outcome: _Outcome) -> None:
    """The run ends as the worst of the stages in `ended` left it, with the reason its
    first record gave: the branches that went on after it are done, or another stage
    stopped the run in a lesser way since (a block after a failure)."""
    status, stage_id = worst_ending(manifest, ended)
    records = RunRecords(project)
    try:
        earlier = (records.get(run_id) or {}).get("report") or {}
    finally:
        records.close()
    outcome.status, outcome.carried = status, True
    if status == "failed":
        outcome.blocked = None  # a stop of this stage's own is not why the run ended
        outcome.error = earlier.get("error") or ended[stage_id].report.get("error")
        return
    reason = earlier.get("reason") if earlier.get("blocked_by") == stage_id else None
    stop = RunStopped(stage_id, ended[stage_id].report, reason or f"{stage_id}: {status}")
    stop.status = status
    outcome.blocked = stop


def _succeeded(manifest: dict[str, Any],
               executions: dict[str, Execution]) -> list[StageResult]:
    """The stages that succeeded in this run so far (ran, cached or reused), in order."""
    found = []
    for stage in manifest["stages"]:
        execution = executions.get(stage["id"])
        if execution is not None and execution.status in USABLE:
            found.append(StageResult(stage["id"], stage["kind"], execution.status,
                                     execution.cache_key, execution.outputs, execution.report,
                                     execution.duration_s or 0.0))
    return found


def retry_follows(manifest: dict[str, Any], index: RunIndex, run_id: str,
                  stage_id: str) -> bool:
    """Whether the orchestrator will run the failed stage again: it retries a stage its
    `retries` times (the attempt is counted by `run_stage`)."""
    stage = manifest_stage(manifest, stage_id)
    execution = index.execution(run_id, stage_id)
    attempt = int((execution.report if execution else {}).get("attempt") or 1)
    return attempt <= int(stage.get("retries") or 0)


def _run_stages(manifest: dict[str, Any], manifest_dir: Path, project: Path, run_id: str,
                index: RunIndex, from_stage: str | None, until: str | None,
                notify: Progress, options: dict[str, Any] | None, outcome: _Outcome,
                retry_delay_s: float) -> None:
    """Each planned stage in order (those before `from_stage` reused), into `outcome`;
    a stage that stops the run (blocked, waiting) or fails leaves out the stages behind
    it, and a signal (Terminated) every stage after it."""
    reusing = from_stage is not None
    behind: set[str] = set()  # the stages behind one that ended the run
    # A `with`: the store's seals connection is closed however the loop ends.
    with closing(ArtifactStore(project)) as store:
        planned = planned_stages(manifest, until)
        unreusable: dict[str, str] = {}  # stage id -> why it cannot be reused
        for stage in planned:
            if reusing and stage["id"] == from_stage:
                reusing = False
                if (error := _nothing_to_reuse(manifest, planned, from_stage, unreusable)):
                    outcome.status, outcome.error = "failed", error
                    break
            if reusing:
                if _behind(manifest, stage["id"], unreusable):
                    continue  # its inputs are not in this run: nothing to key or reuse
                now = current_key(manifest, manifest_dir, stage["id"], project, run_id,
                                  options)
                previous = _reusable(index, store, stage, now)
                why = _why_not_reused(stage, previous, now)
                if why is not None or previous is None:
                    unreusable[stage["id"]] = why or ""
                    continue
                reused = _record_reuse(index, run_id, stage, previous)
                outcome.results.append(reused)
                notify(stage["id"], reused.status)
                continue
            if stage["id"] in behind:
                continue
            if not _run_one(manifest, manifest_dir, project, run_id, options, stage, notify,
                            outcome, retry_delay_s):
                if outcome.stopped_by is not None:
                    break
                behind = downstream(manifest, behind | {stage["id"]})


def _run_one(manifest: dict[str, Any], manifest_dir: Path, project: Path, run_id: str,
             options: dict[str, Any] | None, stage: dict[str, Any], notify: Progress,
             outcome: _Outcome, retry_delay_s: float) -> bool:
    """Run one stage into `outcome`, a failure again its `retries` times (after
    `retry_delay_s`), as the targets do; False when it stopped the run (blocked,
    waiting) or failed with no retry left (a signal stops it too, never retried:
    Terminated)."""
    retries = int(stage.get("retries") or 0)
    for attempt in range(retries + 1):
        ending = _Outcome()
        result = _attempt_stage(manifest, manifest_dir, project, run_id, options, stage,
                                notify, ending)
        if result is not None:
            outcome.results.append(result)
            notify(stage["id"], result.status)
            return True
        if ending.status != "failed" or ending.stopped_by is not None or attempt == retries:
            break
        if not _wait_to_retry(stage, attempt + 1, retries, retry_delay_s, notify, ending):
            break
    if ending.status == "failed":  # only a failure no retry mends alerts (`alerts`)
        alert = alert_for(stage, ending.reason)
        outcome.failed_alerts += [alert] if alert else []
    _keep_worst(outcome, ending)
    notify(stage["id"], ending.status)
    return False


def _attempt_stage(manifest: dict[str, Any], manifest_dir: Path, project: Path, run_id: str,
                   options: dict[str, Any] | None, stage: dict[str, Any], notify: Progress,
                   ending: _Outcome) -> StageResult | None:
    """One attempt at the stage: its result, or None with how it ended in `ending`."""
    try:
        # Another `pipec run` of this pipeline running the stage now goes first: this
        # run then finds its result in the cache instead of making a second one.
        with stage_turn(project, manifest["pipeline"]["name"], stage["id"],
                        lambda: notify(stage["id"], QUEUED)):
            notify(stage["id"], "running")
            # The deadline starts with the stage, not with the wait for its turn.
            return run_stage(manifest, manifest_dir, stage["id"], project, run_id, options,
                             timeout_s=stage.get("timeout_s"))
    except RunStopped as exc:
        ending.status, ending.blocked = exc.status, exc
    except (Exception, Terminated, TimedOut) as exc:  # recorded, not raised
        ending.status, ending.traceback = "failed", format_exc()
        ending.stopped_by = exc.signum if isinstance(exc, Terminated) else None
        ending.reason = failure_text(exc)
        ending.error = f"{stage['id']}: {ending.reason}"
    return None


def _wait_to_retry(stage: dict[str, Any], attempt: int, retries: int, delay_s: float,
                   notify: Progress, ending: _Outcome) -> bool:
    """Wait `delay_s` before retry `attempt` of `retries`; False when a signal stopped
    the run meanwhile (`ending` then says so: the failure, and the signal after it)."""
    try:  # a signal as the retry is announced stops the run as one while it waits does
        notify(stage["id"], f"failed ({ending.reason}); "
                            f"retry {attempt} of {retries} in {number(delay_s)} s")
        time.sleep(delay_s)
    except Terminated as exc:
        ending.error += f" (then {exc}, before a retry)"
        ending.stopped_by = exc.signum
        return False
    return True


def _keep_worst(outcome: _Outcome, ending: _Outcome) -> None:
    """The run ends as the worst stage that ended it left it (failed, then blocked, then
    waiting), the first of equals: a signal's ending always, as it ends the run there."""
    if outcome.status in ENDINGS and ending.stopped_by is None and \
            ENDINGS.index(ending.status) >= ENDINGS.index(outcome.status):
        outcome.also_stopped.append(_why_stopped(ending))
        return
    if outcome.status in ENDINGS:
        outcome.also_stopped.append(_why_stopped(outcome))
    outcome.status, outcome.blocked, outcome.error = ending.status, ending.blocked, ending.error
    outcome.traceback, outcome.stopped_by = ending.traceback, ending.stopped_by


def _why_stopped(ending: _Outcome) -> str:
    return str(ending.blocked) if ending.blocked is not None else str(ending.error)


def _why_not_reused(stage: dict[str, Any], previous: Execution | None,
                    now: str | None) -> str | None:
    """Why `--from` cannot hand on `previous` (see `_reusable`), or None. Outputs made
    from another definition, other inputs or other data (another version's approval,
    another pipeline's source, the split before an edit) are not reused: the run's
    record and the model's lineage would describe a program that did not make them.
    `now`: the key the stage has now (None when it cannot be made: not called changed)."""
    if previous is None:
        return "has no outputs (no success yet, or the store lost them)"
    if now not in (None, previous.cache_key):
        return ("was last approved for another candidate or report"
                if stage["kind"] == "approval" else
                "changed since its outputs were made (its definition, inputs or data differ)")
    return None


def _behind(manifest: dict[str, Any], stage_id: str, unreusable: Any) -> bool:
    """Whether a stage that cannot be reused is upstream of `stage_id`: its outputs would
    have been made from what that stage made before, which no longer holds."""
    return bool((ancestors(manifest, stage_id) - {stage_id}) & set(unreusable))


def _nothing_to_reuse(manifest: dict[str, Any], planned: list[dict[str, Any]],
                      from_stage: str, unreusable: dict[str, str]) -> str | None:
    """Why `--from` cannot start: a stage before it that a stage to run needs has no
    intact outputs from an earlier run (it never succeeded, or its objects are gone), or
    they are an approval of other inputs. Said before anything runs, rather than as a
    missing upstream half-way."""
    start = [s["id"] for s in planned].index(from_stage)
    needed = set().union(*(ancestors(manifest, s["id"]) for s in planned[start:]))
    missing = [sid for sid in unreusable if sid in needed]
    if not missing:
        return None
    why = "; ".join(f"{sid} {unreusable[sid]}" for sid in missing)
    return (f"`--from {from_stage}` reuses the outputs of earlier runs, but {why}: run "
            f"`pipec run` without `--from`, or `--from {missing[0]}`")


def _final_report(outcome: _Outcome, run_id: str) -> dict[str, Any]:
    report = run_report(outcome.results, outcome.status, outcome.error, outcome.blocked) | {
        "run_id": run_id}
    alerts = [r.report["alert"] for r in outcome.results if r.report.get("alert")] + \
        outcome.failed_alerts
    if alerts:
        report["alerts"] = alerts
    return report


def reuse_missing_upstream(manifest: dict[str, Any], project: Path, run_id: str,
                           stage_id: str, manifest_dir: Path,
                           options: dict[str, Any] | None = None) -> list[str]:
    """Before one stage runs on its own, give every ancestor that has no execution in
    this run its latest outputs ("reused"), so the stage finds its inputs.

    As `pipec run --from` does: an ancestor whose definition, inputs or data changed
    since those outputs were made (or whose latest success is another pipeline's stage
    of the same id) is not reused, and neither is what lies behind it; MissingUpstream
    names it, recorded as the stage's failure, rather than the stage running on stale
    inputs."""
    index, store = RunIndex(project), ArtifactStore(project)
    try:
        index.start_run(run_id, manifest.get("dag_hash"))
        needed = ancestors(manifest, stage_id) - {stage_id}
        missing = [stage for stage in manifest["stages"] if stage["id"] in needed
                   and index.execution(run_id, stage["id"]) is None]
        reused, stale = [], {}
        for stage in missing:
            if _behind(manifest, stage["id"], stale):
                continue  # said by the stage it is behind
            now = current_key(manifest, manifest_dir, stage["id"], project, run_id, options)
            why = _reuse_unchanged(index, store, run_id, stage, now)
            if why is None:
                reused.append(stage["id"])
            else:
                stale[stage["id"]] = why
        if stale:
            error = MissingUpstream(
                f"{stage_id}: the stages before it that did not run in run {run_id} reuse "
                "the outputs of earlier runs, but "
                f"{'; '.join(f'{sid} {why}' for sid, why in stale.items())}: run those "
                "stages in this run first")
            record_failure(index, run_id, stage_id, error)
            raise error
        return reused
    finally:
        index.close()


def _reuse_unchanged(index: RunIndex, store: ArtifactStore, run_id: str,
                     stage: dict[str, Any], now: str | None) -> str | None:
    """Record the stage's latest success with key `now` as reused in this run; or why it
    cannot be (see `_why_not_reused`)."""
    previous = _reusable(index, store, stage, now)
    why = _why_not_reused(stage, previous, now)
    if why is None and previous is not None:
        _record_reuse(index, run_id, stage, previous)
    return why


def _reusable(index: RunIndex, store: ArtifactStore, stage: dict[str, Any],
              key: str | None = None) -> Execution | None:
    """The stage's latest success with cache key `key` (what the stage would make now:
    another pipeline sharing the store, or a program edited and reverted since, may have
    run it last), else its latest success; unless its outputs were altered in the store:
    those are never handed on (the stage is left without an execution, and the stage
    that reads it stops on the missing upstream)."""
    previous = (key and index.latest_success(stage["id"], key)) or \
        index.latest_success(stage["id"])
    if previous is None or not all(store.intact(a) for a in previous.outputs.values()):
        return None
    return previous


def _record_reuse(index: RunIndex, run_id: str, stage: dict[str, Any],
                  previous: Execution) -> StageResult:
    index.start_stage(run_id, stage["id"], previous.cache_key)
    index.finish_stage(run_id, stage["id"], "reused", previous.outputs, previous.report)
    return StageResult(
        stage["id"], stage["kind"], "reused", previous.cache_key, previous.outputs, previous.report
    )


def run_report(
    results: list[StageResult], status: str, error: str | None, blocked: RunStopped | None
) -> dict[str, Any]:
    """The run's final report: stages, validation, examples, censoring, split sizes."""
    report: dict[str, Any] = {
        "status": status,
        "stages": [
            {"id": r.stage_id, "status": r.status, "duration_s": round(r.duration_s, 3)}
            for r in results
        ],
        "validation": {r.stage_id: r.report for r in results if r.kind == "validate"},
    }
    if blocked is not None:
        if blocked.stage_id.startswith("validate."):
            report["validation"][blocked.stage_id] = blocked.report
        report["blocked_by"] = blocked.stage_id
        report["reason"] = str(blocked)
    if error is not None:
        report["error"] = error
    for r in results:
        if r.kind == "join":
            report["examples"] = r.report.get("examples")
            report["censored"] = r.report.get("censored")
        if r.kind == "split":
            report["split"] = {k: r.report.get(k) for k in ("train", "valid", "test", "dropped")}
    return report
