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
import sqlite3
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import PipecRuntimeError
from .serialize import ModelIntegrityError, loads
from .serialize import sha256 as digest
from .store import connect_wal, held_elsewhere, immediate_transaction, remove_stale_temps

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
        problem = self.file_problem(entry)
        if problem == "missing":
            raise ModelIntegrityError(f"{entry.model} v{entry.version}: model file "
                                      f"{self.object_path(entry.sha256).name} is missing")
        if problem == "altered":
            raise ModelIntegrityError(f"{entry.model} v{entry.version}: the model file was "
                                      "altered or corrupted (its bytes no longer match the "
                                      "recorded hash)")

    def file_problem(self, entry: Version) -> str | None:
        """"missing", "altered" (bytes that no longer hash to the version's sha256) or None."""
        path = self.object_path(entry.sha256)
        if not path.is_file():
            return "missing"
        return "altered" if digest(path.read_bytes()) != entry.sha256 else None

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
        row = self.db.execute("SELECT * FROM versions WHERE model=? AND version=?",
                              (model, version)).fetchone()
        if row is None:
            raise RegistryError(f"no version {version} of model {model!r}")
        return _version(row)

    def versions(self, model: str | None = None) -> list[Version]:
        sql, args = "SELECT * FROM versions", ()
        if model is not None:
            sql, args = sql + " WHERE model=?", (model,)
        return [_version(r) for r in self.db.execute(sql + " ORDER BY model, version", args)]

    def production(self, model: str) -> Version | None:
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
                       failed: list[str]) -> None:
        """A later run evaluated these bytes and they failed their gates: until a run
        blesses them again (`register` replaces the info), the version is not approved
        or promoted, and its history says which run refused it and why."""
        mark = {"run_id": run_id, "report_sha256": report_sha256, "failed": failed}
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
                 f"not blessed by run {run_id}: failed {', '.join(failed)}")

    def _refuse_unblessed(self, entry: Version) -> None:
        mark = entry.info.get("unblessed")
        if mark:
            raise RegistryError(
                f"{entry.model} v{entry.version} failed its gates in its latest evaluation "
                f"(run {mark.get('run_id')}: {', '.join(mark.get('failed') or [])}); it is "
                "not approved or promoted until a run blesses it again")

    def approve(self, model: str, version: int, *, approver: str,
                team: str) -> dict[str, Any] | None:
        """Record the team's approval of the version's current report; when that team
        already approved this report, record nothing and return that approval.

        Checked and recorded in one transaction: two approvals at once record one, and
        a run that re-evaluates the version meanwhile is seen (see `promote`)."""
        with self._tx() as cur:
            entry = self.get(model, version)
            self._check_approvable(entry, team)
            if (given := self.approval(model, version, team)) is not None:
                return given
            cur.execute("INSERT INTO approvals (model, version, report_sha256, approver, team, at)"
                        " VALUES (?,?,?,?,?,?)",
                        (model, version, entry.report_sha256, approver, team, time.time()))
        return None

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
        self.verify(self.get(model, version))
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
        if not any(v.version == pinned for v in self.versions(model)):
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
    recorded = json.loads(recorded_text or "{}")
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


def _version(row: tuple[Any, ...]) -> Version:
    try:
        info = json.loads(row[6])
    except (TypeError, ValueError) as exc:  # edited by hand: name the row, not the parser
        raise RegistryError(f"{row[0]} v{row[1]}: its registry entry is damaged "
                            "(`info` is not JSON)") from exc
    return Version(row[0], row[1], row[2], row[3], row[4], row[5], info, row[7])
