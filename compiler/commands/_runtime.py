"""What `run`, `stage`, `runs`, `registry` and `lineage` share: exit codes, locating
a project's store and registry, and saying what is wrong with the store."""

from __future__ import annotations

import argparse
import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

# interfaces.md: 0 registered (and promoted where no approval is needed), 1 a blocking
# check or gate failed, 2 usage or environment error, 3 waiting for approval.
EXIT_CODES = {"succeeded": 0, "blocked": 1, "failed": 2, "waiting": 3}


def add_project_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", default=".",
                        help="folder holding the run store `.pipec/` (default: here)")
    parser.add_argument("--registry", default=None,
                        help="registry folder (default: PROJECT/registry, else the one "
                        "the project's recorded runs registered to)")


def registry_dir(args: argparse.Namespace) -> Path:
    """`--registry`, else `PROJECT/registry`, else the registry the project's recorded
    runs registered to (a register stage's folder is relative to its .pipe file, which
    the run store need not sit beside)."""
    if args.registry:
        return Path(args.registry)
    default = Path(args.project) / "registry"
    if (default / "registry.sqlite").is_file():
        return default
    recorded = [Path(r) for r in recorded_registries(Path(args.project))
                if (Path(r) / "registry.sqlite").is_file()]
    if len(recorded) == 1:
        return recorded[0]
    return default  # none, or several: `registry_for` picks the one holding the model


def recorded_registries(project: Path) -> list[str]:
    """Every registry folder the project's runs registered to (none without a store)."""
    from pipec.stdlib.runtime.records import RunRecords
    from pipec.stdlib.runtime.store import STORE_DIR

    if not (project / STORE_DIR / "index.sqlite").is_file():
        return []  # no run store: create none just to look
    records = RunRecords(project)
    try:
        return records.registries()
    finally:
        records.close()


def parse_model_ref(ref: str) -> tuple[str, int | None]:
    """`MODEL` or `MODEL@VERSION` (ASCII digits: `int` would also take `٣` or `³`)."""
    name, at, version = ref.partition("@")
    if not name:
        raise ValueError(f"`{ref}`: name the model, as in `MODEL@3`")
    if at and not (version.isascii() and version.isdigit()):
        raise ValueError(f"`{ref}`: a version is a whole number, as in `{name}@3`")
    return name, int(version) if version else None


def no_registry(args: argparse.Namespace, folder: Path) -> str:
    """Why there is no registry to read, and where it more likely is: the register
    stage's `registry local "DIR"` is relative to the `.pipe` file, which `--project`
    (the run store's folder) need not be."""
    # Several recorded registries never come here: `registry` and `lineage` read the
    # one that holds the model named (`commands.registry.registry_for`), or all of them.
    if args.registry:
        return f"no registry at `{folder}`"
    return (f"no registry at `{folder}`: a register stage's `registry local \"DIR\"` is "
            "relative to its .pipe file; run this from that file's folder, or pass "
            "`--registry DIR`")


def resolve_stage(manifest: dict[str, Any], written: str) -> str:
    """A stage on the command line: its id (`train.delay_gbm`, `split`), or a kind
    (`train`) or a name (`big_spender`) that only one stage has. A miss suggests the
    closest stage, as `git` does for a mistyped command."""
    from difflib import get_close_matches

    stages = manifest["stages"]
    ids = [s["id"] for s in stages]
    if written in ids:
        return written
    for key in ("kind", "name"):
        found = [s["id"] for s in stages if s.get(key) == written]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ValueError(f"`{written}` names several stages: {', '.join(found)}; "
                             "give the stage id")
    words = {word: s["id"] for s in reversed(stages)
             for word in (s["id"], s["kind"], s.get("name") or s["id"])}
    close = get_close_matches(written, list(words), n=1, cutoff=0.6)
    hint = f"did you mean `{words[close[0]]}`? " if close else ""
    raise ValueError(f"no stage `{written}`; {hint}the stages are: {', '.join(ids)}")


def store_problem(exc: sqlite3.DatabaseError | OSError, store: Path) -> str | None:
    """What is wrong with the run store, in the words of `pipec runs`; None when `exc`
    is not about the store (a file of the pipeline's own: the CLI says which)."""
    if isinstance(exc, OSError):
        if not isinstance(exc.filename, str) or not Path(exc.filename).resolve().is_relative_to(
                store.resolve()):
            return None
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"the run store `{store}` is not writable ({exc.strerror})"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return f"the run store `{store}` is full ({exc.strerror}): free space, then run again"
        return None
    from pipec.stdlib.runtime.store import held_elsewhere

    if (held := held_elsewhere(exc)) is not None:
        return f"the run store `{store}` is locked: {held}"
    if getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_READONLY", "SQLITE_PERM")) \
            or "readonly database" in str(exc):
        return f"the run store `{store}` is not writable ({exc})"
    if getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "disk is full" in str(exc):
        return f"the run store `{store}` is full ({exc}): free space, then run again"
    return f"the run store `{store}` cannot be read ({exc}){_too_long(store)}"


# SQLite opens paths of at most 512 bytes, and the store's journal adds a suffix to it.
SQLITE_PATH_BYTES = 500


def _too_long(store: Path) -> str:
    """Why SQLite could not open the store, when its path is the reason."""
    length = len(os.fsencode(store.resolve()))
    if length <= SQLITE_PATH_BYTES:
        return ""
    return (f": its path is {length:,} bytes, more than SQLite opens (about "
            f"{SQLITE_PATH_BYTES}); move the project to a shorter path, or give `--project` one")
