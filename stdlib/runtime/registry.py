"""The local model registry: SQLite for state, content-addressed files for models.

Layout of a registry folder (`register { registry local "registry/" }`):

- `registry.sqlite`: versions, every state transition, approvals (WAL, one writer at a
  time: each operation is one `BEGIN IMMEDIATE` transaction, so two processes promoting
  at once serialise and the registry keeps exactly one production version per model).
- `objects/<sha256>.skops`: the canonical model bytes (see `serialize.py`), written
  atomically *before* the row that names them, so no row names a missing file.

States: `candidate` (registered, blessed), `production`, `archived`. An approval is
bound to a version *and* its evaluation report's hash: a re-evaluated model needs a
new approval.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipec.spelling import measured

from .errors import PipecRuntimeError
from .records import is_text
from .serialize import ModelIntegrityError, loads
from .serialize import sha256 as digest
from .store import (
    connect_wal,
    file_sha256,
    held_elsewhere,
    immediate_transaction,
    remove_stale_temps,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
  model TEXT NOT NULL, version INTEGER NOT NULL, sha256 TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('candidate', 'production', 'archived')),
  run_id TEXT, report_sha256 TEXT, info TEXT NOT NULL, created_at REAL NOT NULL,
  PRIMARY KEY (model, version), UNIQUE (model, sha256));
CREATE UNIQUE INDEX IF NOT EXISTS one_production ON versions (model)
  WHERE state = 'production';
CREATE TABLE IF NOT EXISTS transitions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, version INTEGER NOT NULL,
  from_state TEXT, to_state TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL,
  at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS approvals (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, version INTEGER NOT NULL,
  report_sha256 TEXT NOT NULL, approver TEXT NOT NULL, team TEXT NOT NULL, at REAL NOT NULL);
CREATE TRIGGER IF NOT EXISTS transitions_append_only BEFORE UPDATE ON transitions
  BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS transitions_no_delete BEFORE DELETE ON transitions
  BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
"""


class RegistryError(PipecRuntimeError):
    """A registry operation that cannot be done (unknown version, no previous one)."""


STATES = ("candidate", "production", "archived")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# 12 hex digits at least (48 bits): another report sharing them by chance is no concern.
_REPORT_PREFIX = re.compile(r"[0-9a-f]{12,64}")


@dataclass(frozen=True)
class Version:
    model: str
    version: int
    sha256: str
    state: str
    run_id: str | None
    report_sha256: str | None
    info: dict[str, Any]
    created_at: float

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "sha256": self.sha256,
                "state": self.state, "run_id": self.run_id,
                "report_sha256": self.report_sha256, "info": self.info,
                "created_at": self.created_at}


@dataclass(frozen=True)
class DamagedEntry:
    """A `versions` row that cannot be read as a Version (edited by hand, or written by
    something else): what of it can still be shown, and why the rest cannot."""

    model: str
    version: int | str
    state: str
    sha256: str
    why: str

    @property
    def message(self) -> str:
        return f"{self.model} v{self.version}: its registry entry is damaged ({self.why})"

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "state": self.state,
                "sha256": self.sha256, "damaged": self.message}


@dataclass(frozen=True)
class FileCheck:
    """What was found of a version's model file: its size, and "missing" or "altered"
    (bytes that no longer hash to the version's sha256) or no problem. `hashed` says
    whether the bytes were hashed or only their presence and size looked at."""

    name: str
    size_bytes: int | None
    problem: str | None
    hashed: bool

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "size_bytes": self.size_bytes, "problem": self.problem,
                "hash_checked": self.hashed}


class Registry:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.objects.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.objects, ".*.tmp")  # what a crashed `_store` left behind
        path = self.root / "registry.sqlite"
        try:
            self.db = connect_wal(path, synchronous="FULL", schema=SCHEMA)
            with self._tx() as cur:
                cur.execute("INSERT OR IGNORE INTO meta VALUES ('instance', ?)",
                            (uuid.uuid4().hex,))
        except sqlite3.DatabaseError as exc:  # say which file and why, not "internal error"
            raise RegistryError(_unusable(path, exc)) from exc

    def close(self) -> None:
        self.db.close()

    def _tx(self) -> AbstractContextManager[sqlite3.Cursor]:
        return immediate_transaction(self.db)

    @property
    def instance(self) -> str:
        """Changes when the registry is recreated: part of register/deploy cache keys."""
        return self.db.execute("SELECT value FROM meta WHERE key='instance'").fetchone()[0]

    # ------------------------------------------------------------ artifacts
    def object_path(self, sha256: str) -> Path:
        return self.objects / f"{sha256}.skops"

    def _store(self, sha256: str, data: bytes) -> None:
        path = self.object_path(sha256)
        # Same size is not same bytes: an altered file is rewritten from the good bytes.
        if path.is_file() and digest(path.read_bytes()) == sha256:
            return
        temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)

    def verify(self, entry: Version) -> None:
        """Refuse a version whose model file is missing or no longer hashes to its
        recorded sha256: it must never become (or describe) production."""
        if (problem := self.file_problem(entry)) is not None:
            raise ModelIntegrityError(self.file_message(entry, problem))

    def file_message(self, entry: Version, problem: str) -> str:
        """What a "missing" or "altered" model file means for the version."""
        name = self.object_path(entry.sha256).name
        if problem == "missing":
            return f"{entry.model} v{entry.version}: model file {name} is missing"
        return (f"{entry.model} v{entry.version}: the model file was altered or corrupted "
                f"(the bytes of {name} no longer match the recorded hash)")

    def file_problem(self, entry: Version) -> str | None:
        """"missing", "altered" (bytes that no longer hash to the version's sha256) or None."""
        return self.check_file(entry).problem

    def check_file(self, entry: Version, hash_up_to: int | None = None) -> FileCheck:
        """The version's model file: present, its size, and its bytes hashed when they
        are at most `hash_up_to` bytes (None: whatever their size). A listing of many
        large models looks at presence and size only; reading every byte is what
        `--verify` asks for."""
        path = self.object_path(entry.sha256)
        try:
            size = path.stat().st_size if path.is_file() else None
        except OSError:  # gone between the two calls, or unreadable metadata
            size = None
        if size is None:
            return FileCheck(path.name, None, "missing", False)
        if hash_up_to is not None and size > hash_up_to:
            return FileCheck(path.name, size, None, False)
        return FileCheck(path.name, size,
                         None if file_sha256(path) == entry.sha256 else "altered", True)

    def load(self, model: str, version: int, allowed_modules: tuple[str, ...] = ()) -> Any:
        """The model object, after checking its bytes against the recorded hash
        (`allowed_modules`: see `serialize.loads`)."""
        entry = self.get(model, version)
        path = self.object_path(entry.sha256)
        if not path.is_file():
            raise ModelIntegrityError(f"{model} v{version}: model file {path.name} is missing")
        try:
            return loads(path.read_bytes(), entry.sha256, allowed_modules)
        except ModelIntegrityError as exc:  # say which model: the bare hashes do not
            raise ModelIntegrityError(f"{model} v{version}: {exc}") from exc

    # -------------------------------------------------------------- queries
    def get(self, model: str, version: int) -> Version:
        row = self._version_row(model, version)
        if row is None:
            raise RegistryError(f"no version {version} of model {model!r}")
        return _version(row)

    def versions(self, model: str | None = None) -> list[Version]:
        """Every version (of `model`); a damaged entry raises RegistryError (see `entries`)."""
        return [_version(r) for r in self._rows(model)]

    def entries(self, model: str | None = None) -> list[Version | DamagedEntry]:
        """Every version (of `model`), a damaged entry as such, in its place: one row
        edited by hand must not hide every other version from `pipec registry`."""
        return [_read(r) for r in self._rows(model)]

    def entry(self, model: str, version: int) -> Version | DamagedEntry | None:
        """One version, damaged or not; None when there is no such version."""
        row = self._version_row(model, version)
        return None if row is None else _read(row)

    def _version_row(self, model: str, version: int) -> tuple[Any, ...] | None:
        if not is_text(model):  # no model is named so: SQLite would refuse the name
            return None
        return self.db.execute("SELECT * FROM versions WHERE model=? AND version=?",
                               (model, version)).fetchone()

    def _rows(self, model: str | None) -> list[tuple[Any, ...]]:
        """Every version's row (of `model`). A name typed with bytes that are not UTF-8
        (surrogates in Python) names no model: SQLite would refuse it outright."""
        if model is not None and not is_text(model):
            return []
        sql, args = "SELECT * FROM versions", ()
        if model is not None:
            sql, args = sql + " WHERE model=?", (model,)
        return self.db.execute(sql + " ORDER BY model, version", args).fetchall()

    def names(self) -> dict[str, list[Any]]:
        """Each model's version numbers, read without the rest of the row (what an
        unknown name is compared with, damaged entries included)."""
        names: dict[str, list[Any]] = {}
        for model, version in self.db.execute("SELECT model, version FROM versions "
                                              "ORDER BY model, version"):
            names.setdefault(str(model), []).append(version)
        return names

    def production(self, model: str) -> Version | None:
        if not is_text(model):
            return None
        row = self.db.execute("SELECT * FROM versions WHERE model=? AND state='production'",
                              (model,)).fetchone()
        return _version(row) if row else None

    def by_sha(self, model: str, sha256: str) -> Version | None:
        row = self.db.execute("SELECT * FROM versions WHERE model=? AND sha256=?",
                              (model, sha256)).fetchone()
        return _version(row) if row else None

    def transitions(self, model: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT seq, model, version, from_state, to_state, actor, reason, at " \
              "FROM transitions"
        rows = self.db.execute(sql + (" WHERE model=?" if model else "") + " ORDER BY seq",
                               (model,) if model else ())
        keys = ("seq", "model", "version", "from_state", "to_state", "actor", "reason", "at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def approval(self, model: str, version: int, team: str | None = None) -> dict[str, Any] | None:
        """The latest approval bound to this version and its current report hash (by
        `team`, when given)."""
        entry = self.get(model, version)
        row = self.db.execute(
            "SELECT approver, team, at FROM approvals WHERE model=? AND version=? "
            "AND report_sha256=? AND (? IS NULL OR team=?) ORDER BY seq DESC",
            (model, version, entry.report_sha256, team, team),
        ).fetchone()
        return {"approver": row[0], "team": row[1], "at": row[2]} if row else None

    def missing_approval(self, entry: Version) -> str | None:
        """The team whose approval this version still needs before production, if any:
        its pipeline's `approval by` (recorded at registration)."""
        team = entry.info.get("approval_by")
        if not team or entry.state == "production":
            return None
        return None if self.approval(entry.model, entry.version, team) else team

    def champion(self, model: str, candidate_sha: str) -> Version | None:
        """What a candidate is compared with: the production version, unless that *is*
        the candidate, in which case the version it replaced (if any)."""
        current = self.production(model)
        if current is None or current.sha256 != candidate_sha:
            return current
        row = self.db.execute(
            "SELECT version FROM transitions WHERE model=? AND from_state='production' "
            "AND to_state='archived' AND seq < (SELECT max(seq) FROM transitions "
            "WHERE model=? AND version=? AND to_state='production') ORDER BY seq DESC",
            (model, model, current.version)).fetchone()
        return self.get(model, row[0]) if row else None

    # ---------------------------------------------------------- transitions
    def register(self, model: str, data: bytes, sha256: str, *, run_id: str,
                 report_sha256: str, info: dict[str, Any], actor: str) -> Version:
        """Record a blessed model as a candidate; registering the same bytes again
        returns the existing version, with its info from this run (an edited `rollback`
        or `approval by` team applies from now on), bound to this run and its report.
        Except:
        - a version in production on an approved report keeps that report and the run
          that made it, or a re-run would take its approval away;
        - a version registered under `approval by` keeps needing an approval: a re-run
          from a file without the line does not waive it."""
        self._store(sha256, data)
        with self._tx() as cur:
            existing = cur.execute("SELECT version, state, report_sha256, info FROM versions "
                                   "WHERE model=? AND sha256=?", (model, sha256)).fetchone()
            if existing is not None:
                version = existing[0]
                _register_again(cur, model, existing, run_id, report_sha256, info)
            else:
                version = (cur.execute("SELECT coalesce(max(version), 0) FROM versions "
                                       "WHERE model=?", (model,)).fetchone()[0]) + 1
                cur.execute("INSERT INTO versions VALUES (?,?,?,?,?,?,?,?)",
                            (model, version, sha256, "candidate", run_id, report_sha256,
                             json.dumps(info, sort_keys=True), time.time()))
                _log(cur, model, version, None, "candidate", actor, "registered (blessed)")
        return self.get(model, version)

    def mark_unblessed(self, entry: Version, *, run_id: str, report_sha256: str,
                       failed: Sequence[str | Mapping[str, Any]]) -> None:
        """A later run evaluated these bytes and they failed their gates: until a run
        blesses them again (`register` replaces the info), the version is not approved
        or promoted, and its history says which run refused it and why. Each failed
        gate is its verdict from the evaluation report (`line`, `observed`, `note`): the
        history then says what was measured and the note (why a champion could not be
        scored, why a metric has no value), or a bare gate line."""
        why = [_failed_gate(gate) for gate in failed]
        mark = {"run_id": run_id, "report_sha256": report_sha256,
                "failed": [gate if isinstance(gate, str) else str(gate.get("line"))
                           for gate in failed], "why": why}
        with self._tx() as cur:
            # Read again under the lock: `entry` may be stale (promoted, re-registered
            # by another process since), and a serving version is not marked.
            entry = self.get(entry.model, entry.version)
            if entry.state == "production":
                return
            cur.execute("UPDATE versions SET info=? WHERE model=? AND version=?",
                        (json.dumps(entry.info | {"unblessed": mark}, sort_keys=True),
                         entry.model, entry.version))
            _log(cur, entry.model, entry.version, entry.state, entry.state, "pipec",
                 f"not blessed by run {run_id}: failed {'; '.join(why)}")

    def _refuse_unblessed(self, entry: Version) -> None:
        mark = entry.info.get("unblessed")
        if mark:
            raise RegistryError(
                f"{entry.model} v{entry.version} failed its gates in its latest evaluation "
                f"(run {mark.get('run_id')}: {unblessed_why(mark)}); it is "
                "not approved or promoted until a run blesses it again")

    def approve(self, model: str, version: int, *, approver: str, team: str,
                report: str | None = None) -> dict[str, Any]:
        """Record the team's approval of the version's current report; when that team
        already approved this report, record nothing and return that approval.
        `report`, the start of the report hash the approver reviewed, refuses an
        approval of another report (a run evaluated the version again since).

        Checked and recorded in one transaction: two approvals at once record one, and
        a run that re-evaluates the version meanwhile is seen (see `promote`). Returns
        the approval (`approver`, `team`, `at`), the `report_sha256` it is bound to, and
        `recorded`: False when it is the earlier one."""
        with self._tx() as cur:
            entry = self.get(model, version)
            self._check_approvable(entry, team)
            _check_reviewed(entry, report)
            bound = {"report_sha256": entry.report_sha256}
            if (given := self.approval(model, version, team)) is not None:
                return given | bound | {"recorded": False}
            at = time.time()
            cur.execute("INSERT INTO approvals (model, version, report_sha256, approver, team, at)"
                        " VALUES (?,?,?,?,?,?)",
                        (model, version, entry.report_sha256, approver, team, at))
        return {"approver": approver, "team": team, "at": at} | bound | {"recorded": True}

    def _check_approvable(self, entry: Version, team: str) -> None:
        """Refuse an approval by `team` that the version cannot take."""
        model, version = entry.model, entry.version
        self._refuse_unblessed(entry)
        if entry.report_sha256 is None:
            raise RegistryError(f"{model} v{version} has no evaluation report to approve")
        if entry.state == "production":
            raise RegistryError(f"{model} v{version} is already in production; nothing to approve")
        required = entry.info.get("approval_by")
        if not required:
            raise RegistryError(f"{model} v{version} needs no approval: its pipeline has no "
                                f"`approval by`; `pipec registry promote {model}@{version}` "
                                "makes it production")
        if team != required:
            raise RegistryError(f"{model} v{version} needs approval by team `{required}` "
                                f"(its pipeline's `approval by`), not `{team}`")

    def record_rejection(self, model: str, version: int, *, actor: str, reason: str) -> None:
        """A reviewer's rejection at an orchestrator's human step, in the version's
        history: its state does not change (it stays what it was, a candidate)."""
        with self._tx() as cur:
            state = self.get(model, version).state  # under the lock: not a stale state
            _log(cur, model, version, state, state, actor, reason)

    def promote(self, model: str, version: int, *, actor: str, reason: str) -> Version:
        """Make a version production; one whose pipeline says `approval by TEAM` only once
        that team's approval of its current evaluation report is recorded."""
        # The file is hashed before the lock is taken: a large model would hold up
        # every other writer of the registry meanwhile.
        try:
            self.verify(self.get(model, version))
        except ModelIntegrityError as exc:  # production must be a model someone can load
            raise ModelIntegrityError(f"{exc}; v{version} is not made production, as "
                                      f"nobody could load it: {RESTORE}") from exc
        with self._tx() as cur:
            # The rest is decided under the lock: a run that marked the version unblessed
            # or re-evaluated it (a report not approved yet) since is seen.
            entry = self.get(model, version)
            if entry.state != "production":
                self._check_promotable(entry)
                self._archive_production(cur, model, actor, f"replaced by v{version}")
                cur.execute("UPDATE versions SET state='production' WHERE model=? AND version=?",
                            (model, version))
                _log(cur, model, version, entry.state, "production", actor, reason)
            # else nothing to promote: a re-run that re-evaluated it (a new report, since
            # latency is measured anew) must not send a serving version back for approval.
        return self.get(model, version)

    def _check_promotable(self, entry: Version) -> None:
        """Refuse to promote a version that failed its latest gates or waits for approval."""
        self._refuse_unblessed(entry)
        team = self.missing_approval(entry)
        if team is not None:
            model, version = entry.model, entry.version
            raise RegistryError(f"{model} v{version} waits for approval by {team}: "
                                f"`pipec registry approve {model}@{version} --by {team}` first")

    def rollback(self, model: str, *, actor: str, reason: str | None = None) -> Version:
        """Restore the version the production one was registered to roll back to: the
        one its register stage pins (`rollback VERSION`), else (`rollback previous`) the
        version that was production before it. `reason` (why) joins both history rows."""
        with self._tx() as cur:
            current = cur.execute("SELECT version FROM versions WHERE model=? AND "
                                  "state='production'", (model,)).fetchone()
            if current is None:
                raise RegistryError(f"model {model!r} has no production version to roll back")
            target = self._rollback_target(cur, model, current[0])
            restored = self.get(model, target)
            self.verify(restored)
            why = f": {reason}" if reason else ""
            self._archive_production(cur, model, actor, f"rolled back{why}")
            cur.execute("UPDATE versions SET state='production' WHERE model=? AND version=?",
                        (model, target))
            _log(cur, model, target, restored.state, "production", actor,
                 f"rollback from v{current[0]}{why}")
        return self.get(model, target)

    def pin_problem(self, model: str, pinned: int) -> str | None:
        """Why `rollback PINNED` could not restore that version of `model`, or None."""
        if pinned not in self.names().get(model, []):  # a damaged other row is no matter
            return f"the registry has no version {pinned} of {model!r}"
        if not _served(self.db.cursor(), model, pinned):
            # A candidate never served: restoring it would skip its approval.
            return (f"v{pinned} was never in production; a rollback restores only a version "
                    "that served before")
        return None

    def _rollback_target(self, cur: sqlite3.Cursor, model: str, current: int) -> int:
        pinned = self.get(model, current).info.get("rollback")
        if isinstance(pinned, int) and not isinstance(pinned, bool):
            if pinned == current:
                raise RegistryError(f"{model} v{current} is production and its register stage "
                                    f"pins `rollback {pinned}` to itself: nothing to restore")
            if (problem := self.pin_problem(model, pinned)) is not None:
                raise RegistryError(f"{model} v{current} pins `rollback {pinned}`, but {problem}")
            return pinned
        previous = cur.execute(
            "SELECT version FROM transitions WHERE model=? AND from_state='production' "
            "AND version != ? ORDER BY seq DESC", (model, current)).fetchone()
        if previous is None:
            raise RegistryError(f"model {model!r} has no previous production version")
        return int(previous[0])

    def _archive_production(self, cur: sqlite3.Cursor, model: str, actor: str,
                            reason: str) -> None:
        current = cur.execute("SELECT version FROM versions WHERE model=? AND "
                              "state='production'", (model,)).fetchone()
        if current is not None:
            cur.execute("UPDATE versions SET state='archived' WHERE model=? AND version=?",
                        (model, current[0]))
            _log(cur, model, current[0], "production", "archived", actor, reason)

    def integrity(self) -> list[str]:
        """Problems found: a row whose model file is missing or altered, or a model with
        several production versions. Empty when the registry is consistent."""
        problems = []
        for entry in self.versions():
            problem = self.file_problem(entry)
            if problem == "missing":
                problems.append(f"{entry.model} v{entry.version}: model file missing")
            elif problem == "altered":
                problems.append(f"{entry.model} v{entry.version}: model bytes altered")
        for model, count in self.db.execute("SELECT model, count(*) FROM versions WHERE "
                                            "state='production' GROUP BY model"):
            if count > 1:
                problems.append(f"{model}: {count} production versions")
        return problems


def _unusable(path: Path, exc: sqlite3.DatabaseError) -> str:
    """Why the registry database at `path` cannot be opened. A read-only folder (a
    read-only mount, a folder of another user), a full disk or a lock another process
    holds is not a damaged file: saying so would send the user to restore a registry
    that is fine."""
    if (held := held_elsewhere(exc)) is not None:
        return f"the registry `{path.parent}` is locked: {held}"
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM")) or (
            name == "SQLITE_CANTOPEN" and not os.access(path.parent, os.W_OK)):
        return f"the registry `{path.parent}` is not writable ({exc})"
    if name == "SQLITE_FULL":
        return f"the registry `{path.parent}` is full ({exc}): free space, then try again"
    return f"the registry `{path}` cannot be read ({exc}): it is damaged or not a pipec registry"


# What a registration sets that applies from now on, whichever report the version keeps.
SETTINGS = ("rollback", "approval_by")


def _register_again(cur: sqlite3.Cursor, model: str, existing: tuple[Any, ...], run_id: str,
                    report_sha256: str, info: dict[str, Any]) -> None:
    """The same bytes registered again (see `Registry.register`). A production version
    that keeps its approved report keeps what that report measured beside it (metrics,
    the program's dag_hash): `registry show` names that run and report, and must not
    show another evaluation's metrics under them."""
    version, state, approved_report, recorded_text = existing
    recorded, why = _info(recorded_text)
    if why is not None:  # its `approval by` unknown: registering over it could waive it
        raise RegistryError(f"{model} v{version}: its registry entry is damaged ({why}); "
                            "these bytes are not registered again over it: restore the "
                            "registry from a backup")
    if recorded.get("approval_by") and not info.get("approval_by"):
        info = info | {"approval_by": recorded["approval_by"]}
    keeps = state == "production" and _approved(cur, model, version, approved_report)
    if keeps:
        info = recorded | {key: info[key] for key in SETTINGS if key in info}
    cur.execute("UPDATE versions SET info=? WHERE model=? AND version=?",
                (json.dumps(info, sort_keys=True), model, version))
    if not keeps:
        cur.execute("UPDATE versions SET report_sha256=?, run_id=? WHERE model=? AND version=?",
                    (report_sha256, run_id, model, version))


def _served(cur: sqlite3.Cursor, model: str, version: int) -> bool:
    """Whether this version was ever in production."""
    return cur.execute("SELECT 1 FROM transitions WHERE model=? AND version=? AND "
                       "to_state='production'", (model, version)).fetchone() is not None


def _approved(cur: sqlite3.Cursor, model: str, version: int, report_sha256: str | None) -> bool:
    """Whether an approval of this version is bound to this report."""
    return cur.execute("SELECT 1 FROM approvals WHERE model=? AND version=? AND "
                       "report_sha256=?", (model, version, report_sha256)).fetchone() is not None


def _log(cur: sqlite3.Cursor, model: str, version: int, from_state: str | None, to_state: str,
         actor: str, reason: str) -> None:
    cur.execute("INSERT INTO transitions (model, version, from_state, to_state, actor, reason, at)"
                " VALUES (?,?,?,?,?,?,?)",
                (model, version, from_state, to_state, actor, reason, time.time()))


# What to do about a version's missing or altered model file.
RESTORE = ("restore the file from a backup of the registry's `objects` folder (a run that "
           "registers these bytes again also writes it)")


def _check_reviewed(entry: Version, report: str | None) -> None:
    """Refuse an approval whose approver reviewed another report than the version's."""
    if report is not None and not _REPORT_PREFIX.fullmatch(report):
        raise RegistryError(f"`{report}` does not name an evaluation report: give at least "
                            "its first 12 hex digits, as `pipec registry show` prints its "
                            "sha256")
    if report is None or (entry.report_sha256 or "").startswith(report):
        return
    raise RegistryError(
        f"{entry.model} v{entry.version}'s evaluation report is now {entry.report_sha256} "
        f"(run {entry.run_id}), not the {report} you reviewed: a run evaluated it again "
        f"since; nothing recorded. Review it (`pipec registry show "
        f"{entry.model}@{entry.version}`), then approve that report")


def unblessed_why(mark: Mapping[str, Any]) -> str:
    """The failed gates of an `unblessed` mark, with what was measured and their notes
    (a mark written before those were kept has the gate lines only)."""
    return "; ".join(str(why) for why in mark.get("why") or mark.get("failed") or [])


def _failed_gate(gate: str | Mapping[str, Any]) -> str:
    """A failed gate for the version's history, on one line: `LINE: OBSERVED (NOTE)`."""
    if isinstance(gate, str):
        return " ".join(gate.split())
    observed = gate.get("observed")
    if observed is None:  # nothing measured (no champion scored, no value): the note says why
        shown = ""
    elif isinstance(observed, dict):
        shown = ": per slice"
    else:
        shown = f": {measured(str(gate.get('kind')), observed)}"
    note = f" ({gate['note']})" if gate.get("note") else ""
    return " ".join(f"{gate.get('line')}{shown}{note}".split())


def _info(text: Any) -> tuple[dict[str, Any], str | None]:
    """A row's `info` and, when it cannot be read as a JSON object, why not."""
    try:
        info = json.loads(text)
    except (TypeError, ValueError):
        return {}, "`info` is not JSON"
    if not isinstance(info, dict):
        return {}, "`info` is not a JSON object"
    return info, None


def _row_problem(row: tuple[Any, ...]) -> str | None:
    """Why a `versions` row edited by hand cannot be used. A hash that is not one would
    name a file outside `objects/` (`../x`); a bad timestamp fails wherever it is shown."""
    model, version, sha256, state, run_id, report_sha256, _, created_at = row
    if not isinstance(model, str) or not isinstance(version, int) or version < 1:
        return "its model name or version number is not one"
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        return "`sha256` is not a sha256 hash"
    if state not in STATES:
        return f"`state` is {state!r}, none of {', '.join(STATES)}"
    if not all(isinstance(v, str | None) for v in (run_id, report_sha256)):
        return "`run_id` or `report_sha256` is not text"
    if isinstance(created_at, bool) or not isinstance(created_at, int | float):
        return "`created_at` is not a time"
    return None


def _read(row: tuple[Any, ...]) -> Version | DamagedEntry:
    info, why = _info(row[6])
    why = _row_problem(row) or why
    if why is not None:  # edited by hand: name the row, not the parser
        version = row[1] if isinstance(row[1], int) else str(row[1])
        return DamagedEntry(str(row[0]), version, str(row[3]), str(row[2]), why)
    return Version(row[0], row[1], row[2], row[3], row[4], row[5], info, row[7])


def _version(row: tuple[Any, ...]) -> Version:
    entry = _read(row)
    if isinstance(entry, DamagedEntry):
        raise RegistryError(entry.message)
    return entry
