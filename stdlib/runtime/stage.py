"""The stage entry point every backend calls: `pipec stage run --manifest ... --stage ID`.

`run_stage` finds the stage's runner in `STAGE_RUNNERS` (keyed by stage kind), computes
its cache key, and either reuses a cached result or runs it and stores its outputs.

    cache_key = sha256(canonical JSON of {
        stage definition_hash,
        definition_hash of every stage it reads,
        definition_hash of every stage upstream of it, however far,
        the artifact ids of everything it reads (except `report` outputs),
        the runtime code version and its libraries' versions })

Upstream definitions count even when an edit leaves the data as it was (a new feature
`version`, a tightened check): an edited stage re-runs with everything downstream of
it, and nothing else, so a cached result never carries a lineage it was not made with.

A runner may add a `salt`: state outside the store that its result depends on (the
bytes of a source's files, the registry a register stage writes to). A `sql` source,
whose inputs cannot be listed, is not cacheable: it always runs, and returns the same
artifact ids for the same data, so everything downstream of it stays cached.

To add a kind (train, evaluate, ...): write `run(ctx) -> StageOutput` and
`reads(ctx) -> [stage ids]`, and register `StageRunner(run, reads)` under the kind.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from . import data_stages as ds
from . import model_stages as ms
from . import release_stages as rs
from .context import StageContext, StageOutput, upstream_ids
from .errors import (
    ManifestError,
    PipecRuntimeError,
    RunStopped,
    StageNotAvailable,
    Terminated,
    TimedOut,
    failure_text,
    stage_deadline,
    stops_kept,
)
from .store import ArtifactStore, Execution, RunIndex, canonical_json

RUNTIME_VERSION = "0.1.0"
NOT_CACHEABLE = ds.NOT_CACHEABLE


def _manifest_inputs(ctx: StageContext) -> list[str]:
    """Default `reads`: the stage's upstream stages as the manifest lists them."""
    return sorted(ctx.stage.get("inputs") or [])


@dataclass(frozen=True, slots=True)
class StageRunner:
    """A kind's runner: callable like a function, plus what it reads and if it caches."""

    run: Callable[[StageContext], StageOutput]
    reads: Callable[[StageContext], list[str]] = _manifest_inputs
    cacheable: bool = True
    salt: Callable[[StageContext], Any] | None = None
    # Called with a cache hit's report: False when the report no longer holds (the
    # stage runs instead); also re-applies what the stage records in the index.
    on_hit: Callable[[StageContext, dict[str, Any]], bool] | None = None

    def __call__(self, ctx: StageContext) -> StageOutput:
        return self.run(ctx)


STAGE_RUNNERS: dict[str, StageRunner] = {
    "source": StageRunner(ds.run_source, lambda ctx: [], salt=ds.source_salt),
    "validate": StageRunner(ds.run_validate, ds.reads_validate, on_hit=ds.validate_hit),
    "label": StageRunner(ds.run_label, ds.reads_label),
    "features": StageRunner(ds.run_features, ds.reads_features),
    "join": StageRunner(ds.run_join, ds.reads_join),
    "split": StageRunner(ds.run_split, ds.reads_split),
    "train": StageRunner(ms.run_train, salt=ms.train_salt),
    "evaluate": StageRunner(ms.run_evaluate, salt=ms.evaluate_salt, on_hit=ms.evaluate_hit),
    "register": StageRunner(rs.run_register, salt=rs.registry_salt, on_hit=rs.register_hit),
    "approval": StageRunner(rs.run_approval, salt=rs.registry_salt),
    "deploy": StageRunner(rs.run_deploy, salt=rs.registry_salt, on_hit=rs.deploy_hit),
}


@dataclass(frozen=True, slots=True)
class StageResult:
    stage_id: str
    kind: str
    status: str  # ran | skipped (cached) | reused | blocked | failed
    cache_key: str | None
    outputs: dict[str, str] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0


# The libraries whose versions decide what a stage computes and the bytes it stores:
# upgrading one must not reuse results the old one made.
LIBRARIES = ("duckdb", "numpy", "pyarrow", "scikit-learn", "skops")


@cache
def code_version() -> str:
    """sha256 over this package's sources and the versions of LIBRARIES: editing the
    runtime or upgrading one of them invalidates the cache. Once per process."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(RUNTIME_VERSION.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for library in LIBRARIES:
        try:
            installed = version(library)
        except PackageNotFoundError:
            installed = "absent"
        digest.update(f"{library}=={installed}\0".encode())
    return digest.hexdigest()


def cache_key(ctx: StageContext, runner: StageRunner) -> str | None:
    salt = runner.salt(ctx) if runner.salt is not None else None
    if not runner.cacheable or salt is NOT_CACHEABLE:
        return None
    reads = runner.reads(ctx)
    by_id = {stage["id"]: stage for stage in ctx.manifest["stages"]}
    payload = {
        "salt": salt,
        "stage": ctx.stage["definition_hash"],
        "reads": {
            sid: {
                "definition_hash": ctx.stage_def(sid).get("definition_hash"),
                "outputs": _data_outputs(ctx.outputs_of(sid)),
            }
            for sid in reads
        },
        "upstream": {sid: (by_id.get(sid) or ctx.stage_def(sid)).get("definition_hash")
                     for sid in upstream_ids(ctx.manifest, ctx.stage["id"])},
        "code": code_version(),
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def _data_outputs(outputs: dict[str, str]) -> dict[str, str]:
    # A `report` output describes a run (a validate report holds this run's drift
    # statistics), it is not data a downstream stage computes from: keep it out of keys.
    return {name: aid for name, aid in outputs.items() if name != "report"}


def make_context(
    manifest: dict[str, Any], manifest_dir: Path, stage_id: str, project: Path, run_id: str,
    options: dict[str, Any] | None = None,
) -> StageContext:
    store, index = ArtifactStore(project), RunIndex(project)
    ctx = StageContext(manifest, Path(manifest_dir), {}, run_id, store, index, options or {})
    ctx.stage = ctx.stage_def(stage_id)
    return ctx


def run_stage(
    manifest: dict[str, Any], manifest_dir: Path, stage_id: str, project: Path, run_id: str,
    options: dict[str, Any] | None = None, *, timeout_s: float | None = None,
) -> StageResult:
    """Run (or reuse from the cache) one stage of run `run_id`; record it in the index.

    `options`: project settings the `.pipe` file does not carry (allowed model modules).
    `timeout_s`: fail the stage past it (`pipec run`; an orchestrator stops the process).
    """
    ctx = make_context(manifest, manifest_dir, stage_id, project, run_id, options)
    try:
        return _run(ctx, _execute, timeout_s)
    finally:
        ctx.close()


def current_key(manifest: dict[str, Any], manifest_dir: Path, stage_id: str, project: Path,
                run_id: str, options: dict[str, Any] | None = None) -> str | None:
    """The cache key the stage would have now in run `run_id` (its definition as the
    manifest says, the outputs its inputs have in this run, its data), without running
    it: `pipec run --from` compares it with the key of the outputs it reuses. None when
    the stage has no key, or it cannot be made now (a data file is gone): a stage that
    cannot say is not called changed."""
    ctx = make_context(manifest, manifest_dir, stage_id, project, run_id, options)
    try:
        runner = STAGE_RUNNERS.get(ctx.stage["kind"])
        return cache_key(ctx, runner) if runner is not None else None
    except (OSError, ValueError, PipecRuntimeError):
        return None
    finally:
        ctx.close()


def reject_stage(manifest: dict[str, Any], manifest_dir: Path, stage_id: str, project: Path,
                 run_id: str, reviewer: str) -> StageResult:
    """Record that the reviewer rejected the candidate at the human step before approval
    stage `stage_id` (an orchestrator's approval step; `pipec stage run --rejected-by`
    refuses any other kind): the stage ends blocked, never from the cache, and raises
    ApprovalRejected like any stage that stops the run."""
    ctx = make_context(manifest, manifest_dir, stage_id, project, run_id)
    try:
        return _run(ctx, lambda c: rs.reject_approval(c, reviewer))
    finally:
        ctx.close()


def approval_given(manifest: dict[str, Any], manifest_dir: Path, register_id: str,
                   project: Path, run_id: str) -> bool:
    """Whether the approval stage that guards register stage `register_id` would pass
    now in run `run_id` (its registration done): the registry already holds the approval
    it checks for that candidate. Nothing is recorded; False when no approval stage
    guards it, or the registration cannot be read."""
    guard = rs.guarding_approval(manifest, register_id)
    if guard is None:
        return False
    try:
        ctx = make_context(manifest, manifest_dir, guard["id"], project, run_id)
        try:
            return rs.approval_given(ctx)
        finally:
            ctx.close()
    except (OSError, KeyError, ValueError, sqlite3.Error, PipecRuntimeError):
        return False  # not known to be given: the human is asked, as before


def _run(ctx: StageContext, execute: Callable[[StageContext], Any],
         timeout_s: float | None = None) -> StageResult:
    """The stage, recorded in the index however it ends: a failure records its error and
    which attempt of the stage in this run it was (`pipec stage run` writes the run's
    record when no retry follows, see `runner.end_stage_run`)."""
    stage = ctx.stage
    ctx.index.start_run(ctx.run_id, ctx.manifest.get("dag_hash"))
    attempt = _attempt(ctx.index.execution(ctx.run_id, stage["id"]))
    # Started before anything can fail (the cache key reads files), so that every
    # failure has its execution; running it, or a cache hit, starts it again.
    ctx.index.start_stage(ctx.run_id, stage["id"], None)
    try:
        with stops_kept(), stage_deadline(timeout_s, stop_queries):
            return execute(ctx)
    except RunStopped as exc:
        ctx.index.finish_stage(ctx.run_id, stage["id"], exc.status, {}, exc.report)
        raise
    except (Exception, Terminated, TimedOut) as exc:
        ctx.index.finish_stage(ctx.run_id, stage["id"], "failed", {},
                               failure_report(exc, attempt))
        raise


def stop_queries() -> None:
    """Stop the stage's DuckDB queries (its timeout passed, or a signal came: from
    another thread); none when it opened none."""
    db = sys.modules.get(f"{__package__}.db")
    if db is not None:
        db.interrupt_queries()


def record_failure(index: RunIndex, run_id: str, stage_id: str, error: Exception) -> None:
    """A stage that failed before it could start, recorded as a failure inside it is."""
    attempt = _attempt(index.execution(run_id, stage_id))
    index.start_stage(run_id, stage_id, None)
    index.finish_stage(run_id, stage_id, "failed", {}, failure_report(error, attempt))


def failure_report(exc: BaseException, attempt: int) -> dict[str, Any]:
    """A failed stage's report: what went wrong, which attempt, and the signal that
    stopped it when one did (which decides whether the run's record names a retry)."""
    report: dict[str, Any] = {"error": failure_text(exc), "attempt": attempt}
    if isinstance(exc, Terminated):
        report["signal"] = exc.signum
    return report


def _attempt(previous: Execution | None) -> int:
    """1, or one more than the attempt of this stage that failed (or died before it could
    say so, a SIGKILL or a lost pod: it stays `running`; a timeout's SIGTERM is recorded as
    a failure) earlier in the same run: the orchestrator retried it."""
    if previous is None or previous.status not in ("failed", "running"):
        return 1
    return int(previous.report.get("attempt") or 1) + 1


def _execute(ctx: StageContext) -> StageResult:
    stage = ctx.stage
    runner = STAGE_RUNNERS.get(stage["kind"])
    if runner is None:
        raise StageNotAvailable(stage["kind"], stage["id"])
    if "definition_hash" not in stage:
        raise ManifestError(f"stage {stage['id']!r} has no definition_hash")
    key = cache_key(ctx, runner)
    hit = _cached(ctx, key, runner)
    if hit is not None:
        return hit
    started = ctx.index.start_stage(ctx.run_id, stage["id"], key)
    out = runner(ctx)
    ctx.index.finish_stage(ctx.run_id, stage["id"], "ran", out.outputs, out.report)
    if key is not None:
        ctx.index.cache_put(key, stage["id"], ctx.run_id, out.outputs, out.report)
    return StageResult(
        stage["id"], stage["kind"], "ran", key, out.outputs, out.report, time.time() - started
    )


def _cached(ctx: StageContext, key: str | None, runner: StageRunner) -> StageResult | None:
    """A cache hit whose artifacts are all intact in the store and whose report still
    holds, recorded for this run; otherwise the stage runs (and rewrites its objects)."""
    if key is None or (hit := ctx.index.cache_get(key)) is None:
        return None
    outputs, report = hit
    if not all(ctx.store.intact(a) for a in outputs.values()):
        return None
    if runner.on_hit is not None and not runner.on_hit(ctx, report):
        return None
    status = "skipped (cached)"
    ctx.index.start_stage(ctx.run_id, ctx.stage["id"], key)
    ctx.index.finish_stage(ctx.run_id, ctx.stage["id"], status, outputs, report)
    return StageResult(ctx.stage["id"], ctx.stage["kind"], status, key, outputs, report)
