"""`pipec registry [list]|show|approve|promote|rollback`: the local model registry."""

from __future__ import annotations

import argparse
import difflib
import getpass
import json
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipec.commands._runtime import (
    add_project_options,
    no_registry,
    parse_model_ref,
    recorded_registries,
    registry_dir,
)
from pipec.render.text import as_typed, shown_lines
from pipec.spelling import measured

# `registry show` hashes a model file up to this size unasked (well under a second, as
# `lineage` and `promote` hash it anyway); a larger one is hashed with `--verify`.
# `registry list` looks at presence and size only: hashing every version of many large
# models is what `list --verify` asks for.
HASHED_UP_TO = 64_000_000


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action")
    # No action lists every version: what `pipec registry` alone is asked for.
    parser.set_defaults(action="list")
    add_project_options(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    listing = sub.add_parser("list", help="every version and its state")
    show = sub.add_parser("show", help="one version, its transitions and approvals")
    show.add_argument("model", help="MODEL or MODEL@VERSION")
    for action in (parser, listing, show):  # the parser itself: a bare `registry` lists
        # No default: `run` tells a `--verify` given before another action (refused)
        # from none at all.
        action.add_argument("--verify", action="store_true", default=argparse.SUPPRESS,
                            help="hash every model file shown against its sha256 (`show` "
                                 f"does unasked up to {measured('size', HASHED_UP_TO)}; "
                                 "`list` looks at presence and size only)")
    approve = sub.add_parser("approve", help="approve a candidate (bound to its report)")
    approve.add_argument("model", help="MODEL@VERSION")
    approve.add_argument("--by", required=True, help="the approving team")
    approve.add_argument("--approver", default=None,
                         help="who approves (default: your login name, else `uid N`)")
    approve.add_argument("--report", default=None, metavar="HASH",
                         help="the evaluation report reviewed (at least the first 12 hex "
                              "digits of the sha256 `registry show` prints): refused when "
                              "a run has evaluated the version again since")
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

    if args.action not in ("list", "show") and "verify" in vars(args):
        # `pipec registry --verify promote M@3`: the option was read, then silently unused.
        print(f"pipec: `--verify` applies to `registry list` and `registry show` only, not "
              f"`registry {args.action}`", file=sys.stderr)
        return 2
    if args.action == "list" and len(folders := known_registries(args)) > 1:
        return _list_several(folders, args)
    try:
        folder = registry_for(args)
    except ValueError as exc:
        print(as_typed(f"pipec: {exc}"), file=sys.stderr)
        return 2
    if not (folder / "registry.sqlite").is_file():
        print(f"pipec: {no_registry(args, folder)}", file=sys.stderr)
        return 2
    try:
        registry = Registry(folder)
    except PipecRuntimeError as exc:
        print(f"pipec: {exc}", file=sys.stderr)
        return 2
    try:
        _refuse_untextual(args)
        return ACTIONS[args.action](registry, args)
    except (PipecRuntimeError, ModelIntegrityError, ValueError) as exc:
        # A message may carry names others stored (a model name edited into a row), or
        # an argument typed with bytes that are not UTF-8 (shown as those bytes).
        print(as_typed(f"pipec: {exc}"), file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:  # damage found past the header, mid-query
        print(f"pipec: the registry `{folder}` {_why_unusable(exc)}", file=sys.stderr)
        return 2
    finally:
        registry.close()


def known_registries(args: argparse.Namespace) -> list[Path]:
    """The registries a command without `--registry` may read: `registry_dir`'s, then
    every other one the project's runs registered to. A pipeline's register stages may
    name different folders (`register lr` and `register gbm` each their own)."""
    if args.registry:
        return [Path(args.registry)]
    folders = [registry_dir(args)] + [Path(r) for r in recorded_registries(Path(args.project))]
    unique: dict[Path, Path] = {}
    for folder in folders:
        if (folder / "registry.sqlite").is_file():
            unique.setdefault(folder.resolve(), folder)
    return list(unique.values())


def registry_for(args: argparse.Namespace) -> Path:
    """`registry_dir`, or for a command that names a model (`show`, `approve`,
    `promote`, `rollback`, `lineage`) the first of `known_registries` that holds it: the
    model another register stage keeps in its own folder is found, not reported
    missing from the other folder. A model none of several holds raises ValueError,
    naming the models of them all (a typo is compared with every one)."""
    folder = registry_dir(args)
    try:
        name = parse_model_ref(args.model)[0] if getattr(args, "model", None) else None
    except ValueError:
        name = None  # the action says what is wrong with it
    if args.registry or name is None:
        return folder
    folders = known_registries(args)
    everything: dict[str, list[Any]] = {}
    unreadable: list[Path] = []
    for known in folders:
        names = _names(known)
        if names is None:
            unreadable.append(known)
        elif name in names:
            return known
        else:
            everything |= names
    if unreadable or len(folders) < 2:
        # The action says what is wrong: the registry that may hold the model cannot be
        # read, or the one registry there is does not hold it, as it always said.
        return unreadable[0] if unreadable else folder
    raise ValueError(_unknown(everything, name, None))


def _names(folder: Path) -> dict[str, list[Any]] | None:
    """The registry's models and their versions; None when it cannot be read."""
    from pipec.stdlib.runtime.errors import PipecRuntimeError
    from pipec.stdlib.runtime.registry import Registry

    try:
        registry = Registry(folder)
    except PipecRuntimeError:
        return None
    try:
        return registry.names()
    except sqlite3.DatabaseError:
        return None
    finally:
        registry.close()


def _list_several(folders: list[Path], args: argparse.Namespace) -> int:
    """`registry list` over several registries: each one's versions under its folder
    (in JSON, each entry names its `registry`). One that cannot be read is said on
    stderr and the others are listed all the same (exit 2)."""
    listed: list[dict[str, Any]] = []
    problems = [problem for folder in folders
                if (problem := _listed_from(folder, args, listed)) is not None]
    for problem in problems:
        print(as_typed(f"pipec: {problem}"), file=sys.stderr)
    if args.format == "json":
        print(json.dumps([_listed_json(r["entry"], r["check"]) | {"registry": r["registry"]}
                          for r in listed], indent=2, sort_keys=True))
        return 2 if problems else 0
    width = max((len(f"{r['entry'].model}@{r['entry'].version}") for r in listed), default=0)
    for folder in folders:
        print(shown_lines([f"{folder}/"]))
        for row in (r for r in listed if r["registry"] == str(folder)):
            print(shown_lines(["  " + _list_line(row["entry"], row["check"], width)]))
    return 2 if problems else 0


def _listed_from(folder: Path, args: argparse.Namespace,
                 listed: list[dict[str, Any]]) -> str | None:
    """Add the registry's versions to `listed`; why it cannot be read, if it cannot."""
    from pipec.stdlib.runtime.errors import PipecRuntimeError
    from pipec.stdlib.runtime.registry import Registry

    try:
        registry = Registry(folder)
    except PipecRuntimeError as exc:
        return str(exc)
    try:
        listed += [{"registry": str(folder), "entry": e,
                    "check": _file_check(registry, e, args, 0)} for e in registry.entries()]
    except sqlite3.DatabaseError as exc:  # damage found past the header, mid-query
        return f"the registry `{folder}` {_why_unusable(exc)}"
    finally:
        registry.close()
    return None


# The options whose text the registry stores (an approval's approver, a history row's
# reason); the other arguments only name what is looked up, and match nothing.
STORED_OPTIONS = ("approver", "reason")


def _refuse_untextual(args: argparse.Namespace) -> None:
    """Refuse a stored option typed with bytes that are not UTF-8 (`$'\\xff'`): Python
    holds them as surrogates, which SQLite cannot store."""
    from pipec.stdlib.runtime.records import is_text

    for option in STORED_OPTIONS:
        value = getattr(args, option, None)
        if value is not None and not is_text(value):
            raise ValueError(f"`--{option} {as_typed(value)}` is not UTF-8 text, which "
                             "is all the registry records")


def _current_user() -> str:
    """Who types the command, for the registry's history: the login name, else `uid N`.
    A container started with a uid the system does not name has no login name
    (`getpass` raises), and a name that is not UTF-8 SQLite cannot store."""
    from pipec.stdlib.runtime.records import is_text

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = ""
    if name and is_text(name):
        return name
    return f"uid {os.getuid()}" if hasattr(os, "getuid") else "an unnamed user"


def _why_unusable(exc: sqlite3.DatabaseError) -> str:
    """A change that waited past the busy timeout for another process is not damage."""
    from pipec.stdlib.runtime.store import held_elsewhere

    held = held_elsewhere(exc)
    return f"is locked: {held}" if held is not None else f"cannot be read ({exc})"


def _version(registry: Any, ref: str) -> Any:
    """The version MODEL@VERSION names (MODEL: its production version, else its latest);
    a damaged entry raises RegistryError."""
    return _usable(_entry(registry, ref))


def _usable(entry: Any) -> Any:
    """The entry, unless it is damaged: then RegistryError, naming it and why."""
    from pipec.stdlib.runtime.registry import DamagedEntry, RegistryError

    if isinstance(entry, DamagedEntry):
        raise RegistryError(entry.message)
    return entry


def _entry(registry: Any, ref: str) -> Any:
    """As `_version`, a damaged entry returned as such: a damaged sibling version does
    not stop the one asked for from being shown."""
    name, version = parse_model_ref(ref)
    if version is not None:
        return _known(registry, name, version)
    entries = registry.entries(name)
    if not entries:
        raise ValueError(_unknown(registry.names(), name, None))
    return next((e for e in entries if e.state == "production"), entries[-1])


def _known(registry: Any, name: str, version: int) -> Any:
    entry = registry.entry(name, version)
    if entry is None:
        raise ValueError(_unknown(registry.names(), name, version))
    return entry


def _unknown(names: dict[str, list[Any]], name: str, version: int | None) -> str:
    """No such model or version, and the ones there are: a typo is seen at once."""
    if name in names:
        return (f"model `{name}` has no version {version}; its versions are "
                f"{_numbers(names[name])} (`pipec registry list` shows them)")
    if not names:
        return f"no model `{name}` in the registry: it holds no version yet"
    close = difflib.get_close_matches(name, list(names), n=3)
    guess = f"did you mean {' or '.join(f'`{c}`' for c in close)}? " if close else ""
    held = sorted(names)
    shown = ", ".join(f"`{n}`" for n in held[:10]) + (f" and {len(held) - 10} more"
                                                      if len(held) > 10 else "")
    return f"no model `{name}` in the registry; {guess}it holds {shown}"


def _numbers(versions: list[Any]) -> str:
    """`1-3, 5`: version numbers as runs (a long-lived model has hundreds)."""
    runs: list[list[Any]] = []
    for number in versions:
        if runs and isinstance(number, int) and isinstance(runs[-1][-1], int) \
                and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def _list(registry: Any, args: argparse.Namespace) -> int:
    """Every version; a damaged entry or a model file missing or altered is marked and
    the others are listed as usual (exit 0: the listing itself is complete)."""
    entries = registry.entries()
    checks = [_file_check(registry, e, args, 0) for e in entries]
    if args.format == "json":
        print(json.dumps([_listed_json(e, c) for e, c in zip(entries, checks, strict=True)],
                         indent=2, sort_keys=True))
        return 0
    # Pad the whole `model@version` to the widest one: a registry holds several models
    # whose names differ in length, and padding only the version left the state column
    # ragged between them.
    width = max((len(f"{e.model}@{e.version}") for e in entries), default=0)
    for e, check in zip(entries, checks, strict=True):
        print(shown_lines([_list_line(e, check, width)]))
    return 0


def _list_line(e: Any, check: Any, width: int) -> str:
    ref, run = f"{e.model}@{e.version}", "" if check is None else f"  run {e.run_id}"
    return f"{ref:<{width}}  {e.state:<11} sha256 {e.sha256[:12]}{run}{_list_mark(e, check)}"


def _file_check(registry: Any, entry: Any, args: argparse.Namespace, hash_up_to: int) -> Any:
    """The entry's model file (None for a damaged entry: its hash may not be one)."""
    from pipec.stdlib.runtime.registry import DamagedEntry

    if isinstance(entry, DamagedEntry):
        return None
    return registry.check_file(entry, None if getattr(args, "verify", False) else hash_up_to)


def _listed_json(entry: Any, check: Any) -> dict[str, Any]:
    return entry.as_json() if check is None else entry.as_json() | {
        "model_file": check.as_json()}


def _list_mark(entry: Any, check: Any) -> str:
    if check is None:
        return f"  ! DAMAGED ENTRY: {entry.why}"
    if check.problem is not None:
        return f"  ! MODEL FILE {check.problem.upper()}"
    return ""


def _show(registry: Any, args: argparse.Namespace) -> int:
    """One version. Exit 2 when it cannot be used, after showing what can be: its entry
    is damaged, or its model file is missing or altered (nobody could load it)."""
    from pipec.stdlib.runtime.registry import RESTORE

    entry = _entry(registry, args.model)
    check = _file_check(registry, entry, args, HASHED_UP_TO)
    transitions = [t for t in registry.transitions(entry.model)
                   if t["version"] == entry.version]
    if check is None:
        return _show_damaged(entry, transitions, args)
    shown = entry.as_json() | {
        "approval": registry.approval(entry.model, entry.version),
        "transitions": transitions, "model_file": check.as_json()}
    print(json.dumps(shown, indent=2, sort_keys=True) if args.format == "json"
          else _show_text(shown))
    if check.problem is None:
        return 0
    print(shown_lines([f"pipec: {registry.file_message(entry, check.problem)}: nobody "
                       f"can load this version; {RESTORE}"]), file=sys.stderr)
    return 2


def _show_damaged(entry: Any, transitions: list[dict[str, Any]],
                  args: argparse.Namespace) -> int:
    shown = entry.as_json() | {"transitions": transitions}
    if args.format == "json":
        print(json.dumps(shown, indent=2, sort_keys=True))
    else:
        print(shown_lines([f"{entry.model}@{entry.version}  {entry.state}  DAMAGED ENTRY",
                           f"  sha256      {entry.sha256}", f"  damaged     {entry.why}",
                           "  history", *_history(transitions)]))
    print(shown_lines([f"pipec: {entry.message}; pipec uses no damaged entry (mend its row, "
                       "or restore the registry from a backup)"]), file=sys.stderr)
    return 2


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
             f"  model file  {_file_text(shown['model_file'])}",
             "  history", *_history(shown["transitions"])]
    return shown_lines(lines)


def _history(transitions: list[dict[str, Any]]) -> list[str]:
    return [f"    {_when(t['at'])}  {t['from_state'] or '-'} -> {t['to_state']}  "
            f"{t['actor']}: {t['reason']}" for t in transitions]


def _file_text(check: dict[str, Any]) -> str:
    """The model file as `registry show` found it: whether anyone could load it."""
    name = f"objects/{check['name']}"
    if check["problem"] == "missing":
        return f"MISSING: {name} is not in the registry; nobody can load this version"
    size = measured("size", check["size_bytes"])
    if check["problem"] == "altered":
        return (f"ALTERED: {name} ({size}) no longer hashes to the sha256 above; nobody "
                "can load this version")
    if check["hash_checked"]:
        return f"{size}, intact (its sha256 checked)"
    return f"{size}, present (not hashed above {measured('size', HASHED_UP_TO)}: --verify does)"


def _approval_text(required: str | None, approval: dict[str, Any] | None) -> str:
    if approval is not None:
        return f"approved by {approval['approver']} ({approval['team']})"
    return f"waiting for team {required}" if required else "none required"


def _when(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (TypeError, ValueError, OverflowError, OSError):  # a history row edited by hand
        return str(epoch)


def _named(registry: Any, ref: str, action: str) -> Any:
    """The version a state change applies to, always named: with a bare MODEL, a
    concurrent run's new version could be the one approved or promoted."""
    name, version = parse_model_ref(ref)
    if version is None:
        raise ValueError(f"`registry {action}` needs a version, as in `{name}@3` "
                         "(`pipec registry list` shows them)")
    return _usable(_known(registry, name, version))


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
    """Approve the version's report: the one it has when the approval is recorded (with
    `--report`, only if that is the one reviewed), printed in full."""
    entry = _named(registry, args.model, "approve")
    given = registry.approve(entry.model, entry.version,
                             approver=args.approver or _current_user(), team=args.by,
                             report=args.report and args.report.strip().lower())
    ref, report = f"{entry.model}@{entry.version}", given["report_sha256"]
    shown = {"model": entry.model, "version": entry.version, "approver": given["approver"],
             "team": given["team"], "report_sha256": report}
    if not given["recorded"]:
        return _done(args, f"{ref} was already approved by {given['approver']} "
                           f"({given['team']}) on {_when(given['at'])} for report {report}; "
                           "nothing recorded", shown)
    return _done(args, f"{ref} approved by {given['approver']} ({given['team']}) for report "
                       f"{report}; to promote it, run the pipeline again (`pipec run`) or, "
                       "in Airflow or Argo, resume the run's approval step", shown)


def _promote(registry: Any, args: argparse.Namespace) -> int:
    """Make the version production; one that already is stays so, with nothing recorded
    (nor its `--reason`), which the line says."""
    entry = _named(registry, args.model, "promote")
    why = _why(args)
    done = registry.promote(entry.model, entry.version, actor=_current_user(),
                            reason=f"promoted by hand: {why}" if why else "promoted by hand")
    if entry.state == "production":  # `promote` records nothing for it
        return _done(args, f"{done.model}@{done.version} was already production; nothing "
                           "recorded", done.as_json())
    return _done(args, f"{done.model}@{done.version} is production", done.as_json())


def _rollback(registry: Any, args: argparse.Namespace) -> int:
    name, version = parse_model_ref(args.model)
    if version is not None:  # ignoring it would restore a version the user did not name
        raise ValueError(f"rollback restores the version the production one names (the "
                         f"previous one, or its `rollback VERSION`) and takes "
                         f"`{name}`, not `{args.model}`; to make v{version} production: "
                         f"`pipec registry promote {name}@{version}`")
    if not registry.entries(name):  # a typo: not "no production version to roll back"
        raise ValueError(_unknown(registry.names(), name, None))
    done = registry.rollback(name, actor=_current_user(), reason=_why(args))
    if (mark := done.info.get("unblessed")):  # restored all the same: an incident comes first
        from pipec.stdlib.runtime.registry import unblessed_why

        print(shown_lines([f"warning: {done.model} v{done.version} failed its gates in its "
                           f"latest evaluation (run {mark.get('run_id')}: "
                           f"{unblessed_why(mark)})"]), file=sys.stderr)
    return _done(args, f"{done.model}@{done.version} is production again", done.as_json())


ACTIONS = {"list": _list, "show": _show, "approve": _approve, "promote": _promote,
           "rollback": _rollback}
