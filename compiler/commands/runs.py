"""`pipec runs [list]|show RUN|diff RUN RUN`: the immutable run records of a project."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shlex
import sqlite3
import sys
from pathlib import Path
from typing import Any

from pipec.commands.run_report import gate_result, row_count, warning_lines
from pipec.render.text import as_typed, shown_lines


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action")
    # No action lists, as `git stash` does: what `pipec runs` alone is asked for.
    parser.set_defaults(action="list")
    parser.add_argument("--project", default=".", help="folder holding `.pipec/` (default: here)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    # `pipec runs --limit 5` lists too: without it argparse took `5` for an action word.
    # No default here: `run` tells a `--limit` given before `show` or `diff` (refused)
    # from none at all.
    parser.add_argument("--limit", type=_limit, default=argparse.SUPPRESS, metavar="N",
                        help="with list: the newest N runs (default 50; 0: all)")
    for name, help_text in (("list", "the latest runs"), ("show", "one run's record"),
                            ("diff", "what differs between two runs")):
        action = sub.add_parser(name, help=help_text)
        action.add_argument("--project", default=".",
                            help="folder holding `.pipec/` (default: here)")
        action.add_argument("--format", choices=("text", "json"), default="text")
        if name == "list":
            action.add_argument("--limit", type=_limit, default=50, metavar="N",
                                help="the newest N runs (default 50; 0: all)")
        if name == "show":
            action.add_argument("run", help="a run id (a unique prefix is enough)")
        if name == "diff":
            action.add_argument("first")
            action.add_argument("second")


def run(args: argparse.Namespace) -> int:
    from pipec.stdlib.runtime.errors import PipecRuntimeError
    from pipec.stdlib.runtime.records import RunRecords

    if args.action != "list" and "limit" in vars(args):
        # `pipec runs --limit 5 show RUN`: the option was read and then silently unused.
        print(f"pipec: `--limit` applies to `runs list` only, not `runs {args.action}`",
              file=sys.stderr)
        return 2
    store = Path(args.project) / ".pipec"
    if not store.is_dir():
        why = f"`.pipec` is a symlink to `{os.readlink(store)}`, which does not exist" \
            if store.is_symlink() else "no .pipec folder"
        print(f"pipec: no runs in `{args.project}` ({why})", file=sys.stderr)
        return 2
    try:
        records = RunRecords(Path(args.project))
        try:
            return ACTIONS[args.action](records, args)
        finally:
            records.close()
    except PipecRuntimeError as exc:
        print(f"pipec: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:  # a damaged run store: say so, not "internal error"
        # Full: opening a store no record was written to yet creates the records' table.
        problem = "is full" if "disk is full" in str(exc) else "cannot be read"
        print(f"pipec: the run store `{Path(args.project) / '.pipec'}` {problem} ({exc})",
              file=sys.stderr)
        return 2


def _limit(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"`{text}` is not a whole number of runs (0: all)")
    return int(text)


def _list(records: Any, args: argparse.Namespace) -> int:
    limit = getattr(args, "limit", 50) or None  # `pipec runs` alone lists with the default
    rows = records.list(limit)
    if limit is not None and len(rows) == limit and (total := records.count()) > limit:
        print(f"(the newest {limit:,} of {total:,} runs; `--limit 0` lists them all)",
              file=sys.stderr)
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:  # said, not an empty output that reads like a failure to find anything
        print(f"pipec: no runs recorded yet in `{Path(args.project) / '.pipec'}`",
              file=sys.stderr)
        return 0
    # At least 24 wide as before, wider when a name is longer: one store holds the runs
    # of every pipeline beside it, and a longer name pushed its line's columns out.
    width = max([24, *(len(row["pipeline"]) for row in rows)])
    for row in rows:
        print(f"{row['run_id']}  {row['pipeline']:<{width}} {row['status']:<10} "
              f"record {row['record_sha256'][:12]}")
    return 0


def _show(records: Any, args: argparse.Namespace) -> int:
    record = records.get(args.run)
    if record is None:
        print(f"pipec: {_no_record(records, args.run)}", file=sys.stderr)
        return 2
    print(json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False)
          if args.format == "json" else _record_text(record))
    return 0


def _no_record(records: Any, ref: str) -> str:
    """Why run `ref` has nothing to show: unknown (with the run it likely means), or a run
    without a record yet."""
    found = records.unrecorded(ref)
    if found is not None:
        run_id, status = found
        return (f"run {run_id} has no record: the run index says `{status}`; it is still "
                "running, or it was killed before it could write its record")
    # From the store's indexes: no record is read, however many runs it holds.
    unknown = f"no run `{as_typed(ref)}`"
    owners = records.recorded_as(ref)
    if len(owners) == 1:
        return (f"{unknown}: that is a record of run {owners[0]} "
                f"(`pipec runs show {owners[0]}`)")
    run_ids = records.run_ids()
    if not run_ids:
        return f"{unknown}: `{records.project / '.pipec'}` holds no run record yet"
    close = _close_run_ids(ref, run_ids)
    if not close:
        return unknown
    where = "" if str(records.project) == "." else f" --project {shlex.quote(str(records.project))}"
    return (f"{unknown}; did you mean {' or '.join(f'`{c}`' for c in close)}? "
            f"(`pipec runs list{where}` shows the runs)")


def _close_run_ids(ref: str, run_ids: list[str]) -> list[str]:
    """The runs `ref` likely means: the one it starts in another case (`786D` for
    `786d...`; ids are matched case-sensitively), else ids a typo or two away."""
    folded = ref.casefold()
    starting = [r for r in run_ids if folded and r.casefold().startswith(folded)]
    if len(starting) == 1:
        return starting
    return difflib.get_close_matches(ref, run_ids, n=3, cutoff=0.8)


def _record_text(record: dict[str, Any]) -> str:
    """`runs show` for a person: what ran on which data and code, and what came of it;
    `--format json` has the whole record."""
    code = record.get("code") or {}
    lines = [f"run {record['run_id']}  {record['pipeline']}  {record['status']}",
             f"  dag_hash  {record.get('dag_hash')}",
             f"  code      {_code(code)}",
             f"  image     {(record.get('environment') or {}).get('image')}"]
    if continues := record.get("continues"):  # the run went on after it had ended
        lines.append(f"  continues record {continues['record_sha256'][:12]} "
                     f"({continues['status']})")
    # A stage that did not run in this run (it failed, or one before it stopped the
    # run) leaves its fields None: say so rather than print "None rows" or "not blessed".
    lines += [f"  data      {name}: {_row_count(d.get('rows'))}, snapshot {_snapshot(d)}, "
              f"sha256 {d['content_hash'][:12]}" if d.get("content_hash") else
              f"  data      {name}: not read in this run"
              for name, d in sorted((record.get("data") or {}).items())]
    for name, m in sorted((record.get("models") or {}).items()):
        lines.append(f"  model     {name}: {m.get('model')} seed {m.get('seed')}, "
                     + (f"sha256 {m['model_sha256'][:12]}" if m.get("model_sha256")
                        else "not trained"))
        lines += [f"            {line}" for line in warning_lines(f"train.{name}", m)]
    for name, evaluation in sorted((record.get("evaluations") or {}).items()):
        verdict = {True: "blessed", False: "not blessed"}.get(evaluation.get("blessed"),
                                                             "not evaluated")
        lines.append(f"  evaluate  {name}: {verdict}")
        # Once each: a stage's own line and a gate set's may say the same.
        lines += list(dict.fromkeys(_failed_gate(gate) for gate in evaluation.get("gates")
                                    or [] if not gate.get("passed")))
        lines += [f"            {line}" for line in warning_lines(f"evaluate.{name}",
                                                                  evaluation)]
    lines += _registry_lines(record)
    report = record.get("report") or {}
    lines += [f"  {label:<9} {report[key]}" for key, label in
              (("reason", "stopped"), ("error", "failed")) if report.get(key)]
    lines.append("  stages")
    lines += [f"    {s['stage_id']}: {s['status']}" for s in record.get("stages") or []]
    return shown_lines(lines)


def _row_count(rows: Any) -> str:
    """`336,688 rows`, as `pipec run` says it; a record that counted none says so."""
    return row_count(rows) if isinstance(rows, int) else "rows not counted"


def _failed_gate(gate: dict[str, Any]) -> str:
    """A failed gate line with its note: why a comparison could not be made, or what
    was measured, is what a reader of a blocked run needs next."""
    mark = "failed" if gate.get("blocking", True) else "warned"
    return f"            {mark} {gate['line']}: {gate_result(gate)}"


def _code(code: dict[str, Any]) -> str:
    """The commit, and whether the run used uncommitted changes: then checking out the
    commit does not give back the code that ran."""
    shown = str(code.get("commit") or code.get("declared"))
    if code.get("dirty"):
        shown += " (with uncommitted changes)"
    if code.get("note"):
        shown += f" ({code['note']})"
    return shown


def _registry_lines(record: dict[str, Any]) -> list[str]:
    """What the register, approval and deploy stages did; one that did not run records
    None, one that stopped records why (a refused model has no version)."""
    lines = []
    for kind in ("register", "approval", "deploy"):
        for name, entry in sorted((record.get(kind) or {}).items()):
            if not entry or entry.get("version") is None:
                continue
            state = _approval_state(entry) if kind == "approval" else entry.get("state")
            if kind == "register" and state != "candidate":
                # As `pipec run` says it: the same bytes are the same version, found in
                # the state it is in now; this run did not archive or promote it.
                state = f"already registered ({state})"
            lines.append(f"  {kind:<9} {name}: v{entry['version']} {state}")
    return lines


def _approval_state(entry: dict[str, Any]) -> str:
    if entry.get("approved_by"):
        return f"approved by {entry['approved_by']}"
    if entry.get("rejected_by"):
        return f"rejected by {entry['rejected_by']} (approval by {entry.get('approver')})"
    if entry.get("already_production"):
        return "already in production: nothing to approve"
    return f"waiting for approval by {entry.get('approver')}"


def _diff(records: Any, args: argparse.Namespace) -> int:
    first, second = records.get(args.first), records.get(args.second)
    for ref, record in ((args.first, first), (args.second, second)):
        if record is None:
            print(f"pipec: {_no_record(records, ref)}", file=sys.stderr)
            return 2
    if first.get("pipeline") != second.get("pipeline"):
        # Said before the changes: every stage, model and gate of one is missing from the
        # other, and the one line that says why is lost among them.
        print(shown_lines([_other_pipelines(first, second)]), file=sys.stderr)
    changes = diff(first, second)
    if args.format == "json":
        print(json.dumps(changes, indent=2, sort_keys=True, default=str, ensure_ascii=False))
    elif changes:
        print(shown_lines([f"{path}: {_value(a)} -> {_value(b)}"
                           for path, (a, b) in changes.items()]))
    return 0


def _other_pipelines(first: dict[str, Any], second: dict[str, Any]) -> str:
    return (f"pipec: note: run {first['run_id']} is of pipeline `{first.get('pipeline')}`, "
            f"run {second['run_id']} of `{second.get('pipeline')}`: what only one has is "
            "null on the other side")


def _value(value: Any) -> str:
    """A changed value as JSON, with its letters as they are (`Zoë`, not `Zo\\u00eb`)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# Run ids and stage timings differ between any two runs. The environment (image,
# package versions), the report (validation results, why a run stopped) and each stage's
# status and cache key (which stages ran again, and whose key moved: why) are not
# ignored: they are what a user diffs two runs to find.
IGNORED = {"run_id", "report.run_id", "report.stages"}
STAGE_TIMINGS = ("duration_s", "cpu_s")


def diff(first: dict[str, Any], second: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Leaf paths whose values differ."""
    changes: dict[str, Any] = {}
    for key in sorted(set(first) | set(second)):
        path = f"{prefix}.{key}" if prefix else key
        if path in IGNORED or (prefix.startswith("stages.") and key in STAGE_TIMINGS):
            continue
        a, b = first.get(key), second.get(key)
        if isinstance(a, list) and isinstance(b, list):
            # Keyed only to compare two lists: a list on one side only (a stage that did
            # not run in the other run) is shown as the record has it.
            a, b = _keyed(a), _keyed(b)
        if isinstance(a, dict) and isinstance(b, dict):
            changes.update(diff(a, b, path))
        elif a != b:
            changes[path] = (a, b)
    return changes


def _keyed(value: Any) -> Any:
    """A list of validation checks or gates as a map by their line (of a feature view's
    aggregates, or a schema's columns, by their name; of stages, by id), so that a diff
    names the check whose result moved (`...checks.drift mean(amount) ....passed`) rather
    than printing both whole lists."""
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        return value
    for name in ("check", "line", "name", "stage_id"):
        keys = [v.get(name) for v in value]
        if all(isinstance(k, str) for k in keys):
            # A name can repeat (a schema's constraints): the second is `NAME #2`.
            seen: dict[str, int] = {}
            for i, key in enumerate(keys):
                seen[key] = seen.get(key, 0) + 1
                keys[i] = key if seen[key] == 1 else f"{key} #{seen[key]}"
            return dict(zip(keys, value, strict=True))
    return value


ACTIONS = {"list": _list, "show": _show, "diff": _diff}


def _snapshot(data: dict[str, Any]) -> str:
    """The snapshot a source was read at: the one it resolved to, else the date it
    declares (a table without a time column is not filtered, but declares one)."""
    declared = data.get("snapshot_declared")
    return str(data.get("snapshot") or (declared if declared != "latest" else None) or "none")
