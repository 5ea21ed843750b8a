"""`pipec stage run --manifest lineage.json --stage ID`: run one stage, the entry point
every generated task calls. Stages of the same run share a run id: `--run-id`, else
PIPEC_RUN_ID, else the orchestrator's run id (AIRFLOW_CTX_DAG_RUN_ID, which Airflow sets
and the generated DAG passes to its pods; PIPEC_WORKFLOW_UID, which the generated Argo
workflow sets to its uid), else a new one. Upstream stages that did not run under that
id reuse their latest outputs. The stage that ends the run (it stops it, fails with no
retry left, or is the last stage that could still run, in whatever order the branches
end) writes the run's record, as `pipec run` does. Exit: 0 done, 1 blocked, 2 failed
(or a usage or environment error), 3 waiting for approval. An argument typed with bytes
that are not UTF-8 (`$'\\xff'`) is shown as typed (`\\xff`); as a reviewer, or as the
path of the run store or of the pipeline's folder, it is refused (exit 2) before any
stage runs: the run's record, UTF-8 JSON, and DuckDB take no other.

`--rejected-by REVIEWER` (an approval stage only) records instead that the reviewer
rejected the candidate at the orchestrator's human step (Airflow's HITL Reject, or Argo's
suspend step resumed with decision `reject`, skips the approval stage, and a task after
it calls this): the run ends blocked there, with its record, and the exit is 0 once
that is recorded: the rejection is an answer, not a failure of the task.

`--approval-given PATH` (a register stage that an approval stage guards) writes JSON
`true` to PATH when, once the stage succeeded, the registry already holds the approval that
approval stage checks for this run's candidate (a re-run of an approved version), else
`false`: the generated workflows then skip the human step before it (Airflow's
HumanApproval reads it as the task's XCom, Argo's suspend step has a `when` on it), as
`pipec run` asks nobody. The approval stage still checks the registry itself.

`--record-stop SIGNAL` runs nothing: the local target's script, stopped by SIGNAL at this
stage, records the stop (the stage as failed when it had no ending yet, and the run's
record) unless the stage wrote it; the exit is 128 + the signal. A stage's `on_failure
alert` line is printed for a failed attempt only when no retry follows; the script
stopped retries nothing, so `--record-stop` prints the one an attempt held back.

The stage that writes the run's record says so: `run RUN: STATUS, record SHA`. The local
script, where every stage that stops a branch rewrites the record, passes `--no-run-line`
to each, then once at its end `--say-run-end`, which runs nothing and prints that line
from the run's latest record (exit 2 when the run has none)."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import sys
import traceback
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipec.commands._runtime import EXIT_CODES, resolve_stage

if TYPE_CHECKING:
    from pipec.stdlib.runtime.errors import RunStopped

# What a run id the user chose may hold: it names the run in `pipec runs show RUN`.
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,119}")
# Run ids the orchestrator chose (Airflow's `manual__2026-04-01T00:00:00+00:00`): kept,
# their odd characters replaced.
ORCHESTRATOR_RUN_IDS = ("AIRFLOW_CTX_DAG_RUN_ID", "PIPEC_WORKFLOW_UID")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("run", help="run one stage")
    run_parser.add_argument("--manifest", required=True, help="the build's lineage.json")
    run_parser.add_argument("--stage", required=True,
                            help="a stage id, or a kind or name only one stage has")
    run_parser.add_argument("--run-id", help="the run this stage belongs to")
    run_parser.add_argument("--project", help="run store folder (default: PIPEC_PROJECT, "
                            "else PIPEC_STATE_DIR, else the .pipe folder)")
    run_parser.add_argument("--manifest-dir", metavar="DIR",
                            help="read the manifest's relative paths (its `base_dir`) as if "
                            "it were in DIR (default: its own folder); the generated pods "
                            "that mount it from a ConfigMap pass `.`, the image's working "
                            "directory")
    run_parser.add_argument("--dag-hash", metavar="HASH",
                            help="the build's dag hash: refuse a manifest of another build "
                            "(the generated workflows pass it)")
    run_parser.add_argument("--rejected-by", metavar="REVIEWER",
                            help="record that REVIEWER rejected the candidate at the "
                            "orchestrator's human step (an approval stage only)")
    run_parser.add_argument("--approval-given", metavar="PATH",
                            help="write JSON true or false to PATH: whether the registry "
                            "already holds the approval the approval stage after this "
                            "register stage checks for (a register stage an approval "
                            "stage guards only)")
    # The local target's script, stopped: the stage it was at may have died before it
    # could record its end (still starting, or between two attempts), and a SIGTERM
    # leaves the run's record to a retry that will not come.
    run_parser.add_argument("--record-stop", type=_stop_signal, choices=STOP_SIGNALS,
                            metavar="SIGNAL",
                            help="do not run the stage: record that SIGNAL stopped the "
                            "run at it (the local script does, when it is stopped)")
    # The local script runs every stage of one run and says the run's end once itself:
    # each stage that stops a branch rewrites the record, and would say so each time.
    run_parser.add_argument("--no-run-line", action="store_true",
                            help="do not print `run RUN: STATUS, record SHA` when this "
                            "stage ends the run (the local script says the run's end once)")
    run_parser.add_argument("--say-run-end", action="store_true",
                            help="do not run the stage: print `run RUN: STATUS, record SHA` "
                            "from the run's latest record (the local script does, once, "
                            "after its last stage)")


STOP_SIGNALS = ("SIGINT", "SIGTERM")


def _stop_signal(written: str) -> str:
    """`--record-stop`'s SIGNAL: argparse's own refusal quotes the argument with `repr`,
    which shows bytes that are not UTF-8 as surrogates (`'\\udcff'`), not as typed."""
    from pipec.render.text import as_typed

    if written not in STOP_SIGNALS:
        raise argparse.ArgumentTypeError(
            f"invalid choice: '{as_typed(written)}' (choose from "
            f"{', '.join(repr(name) for name in STOP_SIGNALS)})")
    return written


def _same_build(manifest: dict[str, Any], path: Path, expected: str | None) -> None:
    """A workflow runs the stages of the build that wrote it: a `lineage.json` of another
    build (an older one baked into the image, another pipeline's) would run other
    definitions and record them as this workflow's, so it is refused."""
    if expected is not None and manifest.get("dag_hash") != expected:
        raise ValueError(
            f"{path} is the manifest of another build (dag hash "
            f"{str(manifest.get('dag_hash'))[:12]}, this workflow was built with "
            f"{expected[:12]}): give its tasks the lineage.json written beside it")


def run(args: argparse.Namespace) -> int:
    from pipec.render.text import as_typed, visible

    manifest_path = Path(args.manifest)
    try:
        manifest = _load_manifest(manifest_path)
        _same_build(manifest, manifest_path, getattr(args, "dag_hash", None))
        stage_id = resolve_stage(manifest, args.stage)
        run_id = _run_id(args.run_id)
        rejected_by = _rejected_by(manifest, stage_id, getattr(args, "rejected_by", None))
        approval_given = _approval_given_path(manifest, stage_id,
                                              getattr(args, "approval_given", None))
        manifest_dir, base_dir, project = _folders(args, manifest_path, manifest)
    except ValueError as exc:
        # An argument typed with bytes that are not UTF-8 is shown as those bytes.
        print(as_typed(f"pipec: {exc}"), file=sys.stderr)
        return 2
    if getattr(args, "say_run_end", False):
        return _say_run_end(project, run_id)
    if getattr(args, "record_stop", None):
        return _record_stop(manifest, manifest_dir, project, stage_id, run_id,
                            signal.Signals[args.record_stop],
                            say_run=not getattr(args, "no_run_line", False))
    try:
        status = _run_one(manifest, manifest_dir, base_dir, project, stage_id, run_id,
                          getattr(args, "debug", False), rejected_by,
                          say_run=not getattr(args, "no_run_line", False))
    except (sqlite3.DatabaseError, OSError) as exc:
        # The run store itself (not a stage's work, which is recorded): said as `pipec
        # run` says it, not as an internal error.
        from pipec.commands._runtime import store_problem
        from pipec.stdlib.runtime.store import STORE_DIR

        if (problem := store_problem(exc, project / STORE_DIR)) is None:
            raise
        print(visible(f"pipec: {problem}"), file=sys.stderr)
        return 2
    if approval_given is not None:
        _write_approval_given(approval_given, status == "succeeded" and _given(
            manifest, manifest_dir, project, stage_id, run_id))
    if rejected_by is not None and status == "blocked":
        return 0  # the rejection is recorded
    return EXIT_CODES.get(status, 2)


def _rejected_by(manifest: dict[str, Any], stage_id: str, reviewer: str | None) -> str | None:
    """The reviewer of `--rejected-by`, checked: an approval stage's only. Empty (the
    orchestrator could not say who) reads "a reviewer"."""
    from pipec.stdlib.runtime.context import manifest_stage
    from pipec.stdlib.runtime.records import is_text

    if reviewer is None:
        return None
    if not is_text(reviewer):  # the run's record, UTF-8 JSON, could not hold it
        raise ValueError(f"`--rejected-by {reviewer}` is not UTF-8 text, which is all a "
                         "run's record holds")
    kind = manifest_stage(manifest, stage_id)["kind"]
    if kind != "approval":
        raise ValueError(f"--rejected-by: stage {stage_id!r} is a {kind} stage; only an "
                         "approval stage's candidate can be rejected")
    return reviewer.strip() or "a reviewer"


def _approval_given_path(manifest: dict[str, Any], stage_id: str,
                         path: str | None) -> Path | None:
    """The path of `--approval-given`, checked: a register stage that an approval stage
    guards is the only one whose candidate a human step waits for."""
    from pipec.stdlib.runtime.context import manifest_stage
    from pipec.stdlib.runtime.release_stages import guarding_approval

    if path is None:
        return None
    kind = manifest_stage(manifest, stage_id)["kind"]
    if kind != "register" or guarding_approval(manifest, stage_id) is None:
        raise ValueError(f"--approval-given: stage {stage_id!r} is not a register stage "
                         "that an approval stage guards")
    return Path(path)


def _given(manifest: dict[str, Any], manifest_dir: Path, project: Path, stage_id: str,
           run_id: str) -> bool:
    from pipec.stdlib.runtime.stage import approval_given

    return approval_given(manifest, manifest_dir, stage_id, project, run_id)


def _write_approval_given(path: Path, given: bool) -> None:
    """Written whatever the stage's end (`false` unless the approval is known to be
    given), so the orchestrator always finds it. A file that cannot be written leaves
    the stage's exit as it is: the orchestrator then asks the human, as before."""
    from pipec.render.text import as_typed

    try:
        path.write_text(json.dumps(given), "utf-8")
    except OSError as exc:
        print(as_typed(f"pipec: cannot write --approval-given `{path}`: "
                       f"{exc.strerror or exc}"), file=sys.stderr)


def _folders(args: argparse.Namespace, manifest_path: Path,
             manifest: dict[str, Any]) -> tuple[Path, Path, Path]:
    """The manifest's folder, the pipeline's (its relative paths start there) and the run
    store's, each refused when its path is not UTF-8."""
    from pipec.stdlib.runtime.state import STATE_DIR_ENV

    # A manifest mounted from a ConfigMap sits apart from the project it describes:
    # `--manifest-dir` says where its relative paths start instead.
    given = getattr(args, "manifest_dir", None)
    manifest_dir = Path(given).resolve() if given else manifest_path.resolve().parent
    base_dir = (manifest_dir / manifest.get("base_dir", ".")).resolve()
    _utf8_folder(base_dir, "the pipeline's folder (from "
                 f"{'--manifest-dir' if given else '--manifest'})")
    for origin, chosen in (("--project", args.project),
                           ("PIPEC_PROJECT", os.environ.get("PIPEC_PROJECT")),
                           (STATE_DIR_ENV, os.environ.get(STATE_DIR_ENV))):
        if chosen:
            return manifest_dir, base_dir, _utf8_folder(Path(chosen).resolve(), origin)
    return manifest_dir, base_dir, base_dir


def _utf8_folder(folder: Path, origin: str) -> Path:
    """`folder`, unless its path holds bytes that are not UTF-8 (surrogates in Python):
    the run's record, UTF-8 JSON, names the files in it, and DuckDB, which reads and
    writes the stages' data, opens no such path; the stage would fail half-way."""
    from pipec.stdlib.runtime.records import is_text

    if not is_text(str(folder)):
        raise ValueError(f"{origin} `{folder}` is not a UTF-8 path, which the stages need "
                         "(the run's record names the files in it): use a folder whose "
                         "path is UTF-8")
    return folder


def _load_manifest(path: Path) -> dict[str, Any]:
    """The build's lineage.json, or a ValueError saying why it is not one."""
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no manifest `{path}`: give the lineage.json `pipec build` "
                         "wrote") from None
    except OSError as exc:
        raise ValueError(f"cannot read the manifest `{path}`: {exc.strerror or exc}") from None
    except ValueError as exc:  # not JSON, or not UTF-8
        raise ValueError(f"`{path}` is not a lineage manifest ({exc})") from None
    stages = manifest.get("stages") if isinstance(manifest, dict) else None
    if not isinstance(stages, list) or not stages or not isinstance(
            manifest.get("pipeline"), dict) or not all(
            isinstance(s, dict) and isinstance(s.get("id"), str) and "kind" in s
            for s in stages):
        raise ValueError(f"`{path}` is not a lineage manifest (no pipeline and stages): "
                         "give the lineage.json `pipec build` wrote")
    if not isinstance(manifest.get("base_dir", "."), str):  # a hand-edited manifest
        raise ValueError(f"`{path}` is not a lineage manifest (its `base_dir` is not a "
                         "folder path): give the lineage.json `pipec build` wrote")
    return manifest


def _run_id(written: str | None) -> str:
    """`--run-id`, else PIPEC_RUN_ID (both the user's: an odd one is refused), else the
    orchestrator's run id (made safe), else a new one."""
    if written is not None:
        return _checked(written, "--run-id")
    if os.environ.get("PIPEC_RUN_ID"):
        return _checked(os.environ["PIPEC_RUN_ID"], "PIPEC_RUN_ID")
    for name in ORCHESTRATOR_RUN_IDS:
        if os.environ.get(name):
            return _safe(os.environ[name])
    return uuid.uuid4().hex[:16]


def _checked(run_id: str, origin: str) -> str:
    if not RUN_ID.fullmatch(run_id):
        raise ValueError(f"{origin} '{run_id}' is not a run id: use at most 120 letters, "
                         "digits and `.` `_` `:` `+` `-`, starting with a letter or digit")
    return run_id


def _safe(run_id: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.:+") else "_"
                   for ch in run_id)[:120]


def _record_stop(manifest: dict[str, Any], manifest_dir: Path, project: Path,
                 stage_id: str, run_id: str, signum: int, say_run: bool = True) -> int:
    """`--record-stop`: the run's record, when the stage did not write it (said unless
    `say_run` is off); 128 + the signal, the stopped script's own exit status."""
    from pipec.render.text import visible
    from pipec.stdlib.runtime.alerts import alert_line
    from pipec.stdlib.runtime.runner import end_stopped_run

    withheld = _withheld_alert(manifest, project, run_id, stage_id)
    ended = end_stopped_run(manifest, manifest_dir, project, run_id, stage_id, signum,
                            failed_alert=withheld)
    if withheld is not None:
        print(visible(alert_line(withheld)), file=sys.stderr)
    if ended is not None and say_run:
        _say_record(run_id, ended)
    return 128 + signum


def _withheld_alert(manifest: dict[str, Any], project: Path, run_id: str,
                    stage_id: str) -> dict[str, Any] | None:
    """The alert the stage's last attempt held back because a retry was to follow
    (`_end`): the local script, stopped, retries nothing, so it is due now. None when
    that attempt said its alert (no retry was left, or SIGINT stopped it) or had none."""
    from pipec.stdlib.runtime.alerts import alert_for
    from pipec.stdlib.runtime.context import manifest_stage
    from pipec.stdlib.runtime.runner import retry_follows
    from pipec.stdlib.runtime.store import RunIndex

    index = RunIndex(project)
    try:
        execution = index.execution(run_id, stage_id)
        if execution is None or execution.status != "failed":
            return None
        error = str(execution.report.get("error") or "")
        if execution.report.get("signal") == signal.SIGINT or \
                not retry_follows(manifest, index, run_id, stage_id):
            return None
    finally:
        index.close()
    return alert_for(manifest_stage(manifest, stage_id), error)


def _retried(manifest: dict[str, Any], project: Path, run_id: str, stage_id: str) -> bool:
    """Whether the orchestrator runs the failed stage again (its `retries` are not used
    up): the same answer that leaves the attempt out of the run's record."""
    from pipec.stdlib.runtime.runner import retry_follows
    from pipec.stdlib.runtime.store import RunIndex

    index = RunIndex(project)
    try:
        return retry_follows(manifest, index, run_id, stage_id)
    finally:
        index.close()


def _say_run_end(project: Path, run_id: str) -> int:
    """`--say-run-end`: the run's end as its latest record says it, the line a stage that
    ends the run prints; 2 when the run has no record."""
    from pipec.render.text import visible
    from pipec.stdlib.runtime.records import RunRecords
    from pipec.stdlib.runtime.store import STORE_DIR

    ending = None
    # Only read: a project no run was recorded in is left without a `.pipec` folder.
    if (project / STORE_DIR / "index.sqlite").is_file():
        records = RunRecords(project)
        try:
            ending = records.ending(run_id)
        finally:
            records.close()
    if ending is None:
        print(visible(f"pipec: run {run_id} has no record"), file=sys.stderr)
        return 2
    status, sha = ending
    print(visible(f"run {run_id}: {status}, record {sha[:12]}"))
    return 0


def _say_record(run_id: str, ended: Any) -> None:
    """The record the run's end wrote, if this process wrote one (not another stage)."""
    from pipec.render.text import visible

    if "record_sha256" in ended.report:
        print(visible(f"run {run_id}: {ended.status}, record "
                      f"{ended.report['record_sha256'][:12]}"))


def _run_one(manifest: dict[str, Any], manifest_dir: Path, base_dir: Path, project: Path,
             stage_id: str, run_id: str, debug: bool, rejected_by: str | None = None,
             say_run: bool = True) -> str:
    """Run the stage (or record its rejection), say how it ended (and the run, when it
    ended the run): the status."""
    from pipec.config import load_config
    from pipec.stdlib.runtime.alerts import alert_for
    from pipec.stdlib.runtime.context import manifest_stage
    from pipec.stdlib.runtime.errors import (
        RunStopped,
        Terminated,
        failure_text,
        signals_stop_the_stage,
    )
    from pipec.stdlib.runtime.runner import refused_unregistered, reuse_missing_upstream
    from pipec.stdlib.runtime.stage import reject_stage, run_stage, stop_queries

    options = {"allowed_model_modules": list(load_config(base_dir).allowed_model_modules)}
    stopped, error, alert = None, None, None
    final = False  # stopped by SIGINT: the whole run stops, no retry follows
    with signals_stop_the_stage(_STOP_REASONS, stop_queries) as stage_running:
        try:
            # An upstream stage changed since its outputs were made: the stage fails,
            # naming it (recorded), rather than run on stale inputs.
            reuse_missing_upstream(manifest, project, run_id, stage_id, manifest_dir, options)
            if rejected_by is not None:
                result = reject_stage(manifest, manifest_dir, stage_id, project, run_id,
                                      rejected_by)
            else:
                with _turn(manifest, project, stage_id):
                    result = run_stage(manifest, manifest_dir, stage_id, project, run_id,
                                       options)
            status, message, alert = "succeeded", _said(stage_id, result), \
                result.report.get("alert")
            if (refused := refused_unregistered(manifest, result)) is not None:
                status, message = "blocked", _stopped_message(stage_id, refused)
        except RunStopped as exc:
            status, message, stopped = exc.status, _stopped_message(stage_id, exc), exc
        except (Exception, Terminated) as exc:  # recorded in the index by run_stage
            if debug:
                traceback.print_exc()
            status = "failed"
            final = isinstance(exc, Terminated) and exc.signum == signal.SIGINT
            message = error = f"{stage_id}: {failure_text(exc)}"
            alert = alert_for(manifest_stage(manifest, stage_id), failure_text(exc))
        finally:
            stage_running.clear()  # from here on, a SIGTERM waits for the record
        return _end(manifest, manifest_dir, project, run_id, stage_id, status, message,
                    stopped, error, alert, final, say_run)


def _turn(manifest: dict[str, Any], project: Path, stage_id: str) -> Any:
    """The stage's turn in the project (`store.stage_turn`), as `pipec run` takes it: a
    task of an orchestrator's run and a `pipec run` of the same pipeline, or two runs'
    tasks, do not make the same stage side by side; the second finds it cached."""
    from pipec.render.text import visible
    from pipec.stdlib.runtime.runner import QUEUED
    from pipec.stdlib.runtime.store import stage_turn

    return stage_turn(project, manifest["pipeline"]["name"], stage_id,
                      lambda: print(visible(f"{stage_id}: {QUEUED}"), file=sys.stderr,
                                    flush=True))


def _said(stage_id: str, result: Any) -> str:
    """`STAGE: ran`, and each warning a model stage counted: into the task's log, where
    Python's own printing of them no longer goes."""
    from pipec.commands.run_report import warning_lines

    return "\n".join([f"{stage_id}: {result.status}",
                      *warning_lines(stage_id, result.report or {}, result.status)])


def _end(manifest: dict[str, Any], manifest_dir: Path, project: Path, run_id: str,
         stage_id: str, status: str, message: str, stopped: RunStopped | None,
         error: str | None, alert: dict[str, Any] | None, final: bool = False,
         say_run: bool = True) -> str:
    """Say how the stage ended; write the run's record when it ended the run (and say
    so, unless `say_run` is off: the caller says the run's end)."""
    from pipec.render.text import visible
    from pipec.stdlib.runtime.alerts import alert_line
    from pipec.stdlib.runtime.runner import end_stage_run

    print(visible(message))  # an error may quote data or a file name
    # Into the task's log, where the orchestrator's alerting looks: for a failure, only
    # once no retry follows, or a failure that a retry then mended would page someone.
    if alert is not None and (error is None or final or not _retried(
            manifest, project, run_id, stage_id)):
        print(visible(alert_line(alert)), file=sys.stderr)
    ended = end_stage_run(manifest, manifest_dir, project, run_id, stage_id, stopped=stopped,
                          error=error, failed_alert=alert if error else None, final=final)
    if ended is None:
        return status
    if say_run:
        _say_record(run_id, ended)
    # The run ended as another stage left it (a branch that went on after a stop, or a
    # lesser stop after a failure): this task exits as its own stage ended.
    return status if ended.carried else ended.status


# What a stage stopped by a signal records (`signals_stop_the_stage`). SIGTERM: the
# orchestrator's timeout or cancel, which its retries may follow. SIGINT (Ctrl-C, or the
# local script stopped): the whole run stops, so the run's record is written at once.
_STOP_REASONS = {signal.SIGINT: "interrupted by SIGINT: the run stops here, not retried",
                 signal.SIGTERM: "stopped by SIGTERM (the orchestrator's timeout, or a "
                                    "cancel)"}


def _stopped_message(stage_id: str, stopped: Exception) -> str:
    """Why the stage stopped the run; said once by stage id (the runtime's messages
    begin with the id of the stage that stopped it)."""
    message = str(stopped)
    said_by = getattr(stopped, "stage_id", stage_id)
    return message if message.startswith(f"{said_by}: ") else f"{stage_id}: {message}"
