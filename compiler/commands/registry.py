"""`pipec registry [list]|show|approve|promote|rollback`: the local model registry."""

from __future__ import annotations

import argparse
import getpass
import json
import sqlite3
import sys
from datetime import UTC, datetime
from typing import Any

from pipec.commands._runtime import (
    add_project_options,
    no_registry,
    parse_model_ref,
    registry_dir,
)
from pipec.render.text import shown_lines


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action")
    # No action lists every version: what `pipec registry` alone is asked for.
    parser.set_defaults(action="list")
    add_project_options(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    listing = sub.add_parser("list", help="every version and its state")
    show = sub.add_parser("show", help="one version, its transitions and approvals")
    show.add_argument("model", help="MODEL or MODEL@VERSION")
    approve = sub.add_parser("approve", help="approve a candidate (bound to its report)")
    approve.add_argument("model", help="MODEL@VERSION")
    approve.add_argument("--by", required=True, help="the approving team")
    approve.add_argument("--approver", default=None, help="who approves (default: $USER)")
    promote = sub.add_parser("promote", help="make a version the production one")
    promote.add_argument("model", help="MODEL@VERSION")
    rollback = sub.add_parser("rollback", help="restore the previous production version (or "
                              "the one its register stage pins with `rollback VERSION`)")
    rollback.add_argument("model", help="MODEL")
    for action in (promote, rollback):
        # Kept in the version's history: the audit trail says why, not only who and when.
        action.add_argument("--reason", default=None, help="why (recorded in the history)")
    for action in (listing, show, approve, promote, rollback):
        add_project_options(action)
        action.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from pipec.stdlib.runtime.errors import PipecRuntimeError
    from pipec.stdlib.runtime.registry import Registry
    from pipec.stdlib.runtime.serialize import ModelIntegrityError

    folder = registry_dir(args)
    if not (folder / "registry.sqlite").is_file():
        print(f"pipec: {no_registry(args, folder)}", file=sys.stderr)
        return 2
    try:
        registry = Registry(folder)
    except PipecRuntimeError as exc:
        print(f"pipec: {exc}", file=sys.stderr)
        return 2
    try:
        return ACTIONS[args.action](registry, args)
    except (PipecRuntimeError, ModelIntegrityError, ValueError) as exc:
        print(f"pipec: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:  # damage found past the header, mid-query
        print(f"pipec: the registry `{folder}` {_why_unusable(exc)}", file=sys.stderr)
        return 2
    finally:
        registry.close()


def _why_unusable(exc: sqlite3.DatabaseError) -> str:
    """A change that waited past the busy timeout for another process is not damage."""
    from pipec.stdlib.runtime.store import held_elsewhere

    held = held_elsewhere(exc)
    return f"is locked: {held}" if held is not None else f"cannot be read ({exc})"


def _version(registry: Any, ref: str) -> Any:
    name, version = parse_model_ref(ref)
    if version is None:
        production = registry.production(name)
        versions = registry.versions(name)
        if production is None and not versions:
            raise ValueError(f"no model `{name}` in the registry")
        return production or versions[-1]
    return registry.get(name, version)


def _list(registry: Any, args: argparse.Namespace) -> int:
    versions = registry.versions()
    if args.format == "json":
        print(json.dumps([v.as_json() for v in versions], indent=2, sort_keys=True))
        return 0
    # Pad the whole `model@version` to the widest one: a registry holds several models
    # whose names differ in length, and padding only the version left the state column
    # ragged between them.
    refs = [f"{v.model}@{v.version}" for v in versions]
    width = max(map(len, refs), default=0)
    for ref, v in zip(refs, versions, strict=True):
        print(shown_lines([f"{ref:<{width}}  {v.state:<11} sha256 {v.sha256[:12]}  "
                           f"run {v.run_id}"]))
    return 0


def _show(registry: Any, args: argparse.Namespace) -> int:
    entry = _version(registry, args.model)
    shown = entry.as_json() | {
        "approval": registry.approval(entry.model, entry.version),
        "transitions": [t for t in registry.transitions(entry.model)
                        if t["version"] == entry.version]}
    print(json.dumps(shown, indent=2, sort_keys=True) if args.format == "json"
          else _show_text(shown))
    return 0


def _show_text(shown: dict[str, Any]) -> str:
    """`registry show` for a person: the version, what it was trained on and scored, who
    approved it, and its history; `--format json` has every field."""
    info = shown["info"]
    metrics = ", ".join(f"{k} {v:g}" for k, v in sorted((info.get("metrics") or {}).items())
                        if isinstance(v, int | float))
    features = info.get("features") or []
    lines = [f"{shown['model']}@{shown['version']}  {shown['state']}",
             f"  sha256      {shown['sha256']}",
             # The run is the latest that evaluated these bytes (a re-run binds the
             # version to its newer report), not necessarily the one that registered it.
             f"  registered  {_when(shown['created_at'])}",
             f"  run         {shown['run_id']} (its evaluation report is the one below)",
             f"  report      sha256 {shown['report_sha256']}",
             f"  pipeline    {info.get('pipeline')} (dag_hash {str(info.get('dag_hash'))[:12]})",
             f"  label       {info.get('label')} ({info.get('task')})",
             f"  features    {len(features)}: {', '.join(features)}",
             f"  metrics     {metrics or '-'}",
             f"  approval    {_approval_text(info.get('approval_by'), shown['approval'])}",
             f"  rollback    {info.get('rollback', 'previous')}",
             "  history"]
    lines += [f"    {_when(t['at'])}  {t['from_state'] or '-'} -> {t['to_state']}  "
              f"{t['actor']}: {t['reason']}" for t in shown["transitions"]]
    return shown_lines(lines)


def _approval_text(required: str | None, approval: dict[str, Any] | None) -> str:
    if approval is not None:
        return f"approved by {approval['approver']} ({approval['team']})"
    return f"waiting for team {required}" if required else "none required"


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _named(registry: Any, ref: str, action: str) -> Any:
    """The version a state change applies to, always named: with a bare MODEL, a
    concurrent run's new version could be the one approved or promoted."""
    name, version = parse_model_ref(ref)
    if version is None:
        raise ValueError(f"`registry {action}` needs a version, as in `{name}@3` "
                         "(`pipec registry list` shows them)")
    return registry.get(name, version)


def _done(args: argparse.Namespace, text: str, shown: dict[str, Any]) -> int:
    """What a state change did: a line, or with `--format json` the JSON it accepted.
    The line can carry names others stored (an earlier approver): a control character in
    one is shown as its picture, never sent to the terminal."""
    print(json.dumps(shown, indent=2, sort_keys=True) if args.format == "json"
          else shown_lines([text]))
    return 0


def _why(args: argparse.Namespace) -> str | None:
    """`--reason` as one line (a history row is one line in `registry show`)."""
    return " ".join((args.reason or "").split()) or None


def _approve(registry: Any, args: argparse.Namespace) -> int:
    entry = _named(registry, args.model, "approve")
    approver = args.approver or getpass.getuser()
    given = registry.approve(entry.model, entry.version, approver=approver, team=args.by)
    if given is not None:
        return _done(args, f"{entry.model}@{entry.version} was already approved by "
                           f"{given['approver']} ({given['team']}) on {_when(given['at'])} "
                           f"for report {entry.report_sha256[:12]}; nothing recorded",
                     {"model": entry.model, "version": entry.version,
                      "approver": given["approver"], "team": given["team"],
                      "report_sha256": entry.report_sha256})
    return _done(args, f"{entry.model}@{entry.version} approved by {approver} ({args.by}) "
                       f"for report {entry.report_sha256[:12]}; to promote it, run the "
                       "pipeline again (`pipec run`) or, in Airflow or Argo, resume the "
                       "run's approval step",
                 {"model": entry.model, "version": entry.version, "approver": approver,
                  "team": args.by, "report_sha256": entry.report_sha256})


def _promote(registry: Any, args: argparse.Namespace) -> int:
    entry = _named(registry, args.model, "promote")
    why = _why(args)
    done = registry.promote(entry.model, entry.version, actor=getpass.getuser(),
                            reason=f"promoted by hand: {why}" if why else "promoted by hand")
    return _done(args, f"{done.model}@{done.version} is production", done.as_json())


def _rollback(registry: Any, args: argparse.Namespace) -> int:
    name, version = parse_model_ref(args.model)
    if version is not None:  # ignoring it would restore a version the user did not name
        raise ValueError(f"rollback restores the version the production one names (the "
                         f"previous one, or its `rollback VERSION`) and takes "
                         f"`{name}`, not `{args.model}`; to make v{version} production: "
                         f"`pipec registry promote {name}@{version}`")
    done = registry.rollback(name, actor=getpass.getuser(), reason=_why(args))
    if (mark := done.info.get("unblessed")):  # restored all the same: an incident comes first
        print(f"warning: {done.model} v{done.version} failed its gates in its latest "
              f"evaluation (run {mark.get('run_id')}: {', '.join(mark.get('failed') or [])})",
              file=sys.stderr)
    return _done(args, f"{done.model}@{done.version} is production again", done.as_json())


ACTIONS = {"list": _list, "show": _show, "approve": _approve, "promote": _promote,
           "rollback": _rollback}
