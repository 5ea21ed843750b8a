"""Run records: immutable records of each run, answering the reproducibility contract.

A record is written when a run ends: by the local runner, or, under a stage-by-stage
orchestrator, by the stage that ends the run (it stopped it, failed with no retry
left, or was the last stage that could still run to end, once every other stage has
succeeded or lies behind a stop: `runner.end_stage_run`). It is stored twice: as a
content-addressed JSON artifact, and as a row of `run_records`, which triggers make
append-only.

An orchestrated run can go on after it ended: the team records the approval it waited
for and the task is run again, or a failed task is cleared. When it ends again with
other stage results, a *continuation* record is written (`run_continuations`, append-
only too), naming the record it continues; the first record stays. A run's record is
its latest one (`get`, `list`).
"""

from __future__ import annotations

import hashlib
import json
import platform
import sqlite3
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from .context import USABLE
from .errors import PipecRuntimeError
from .state import registry_base
from .store import STORE_DIR, ArtifactStore, RunIndex, connect_wal, immediate_transaction

PACKAGES = ("pipec", "scikit-learn", "numpy", "pandas", "duckdb", "pyarrow", "skops", "scipy")
RECORDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS run_records (
  run_id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, status TEXT NOT NULL,
  record_sha256 TEXT NOT NULL, record_json TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TRIGGER IF NOT EXISTS run_records_immutable BEFORE UPDATE ON run_records
  BEGIN SELECT RAISE(ABORT, 'run records are immutable'); END;
CREATE TRIGGER IF NOT EXISTS run_records_kept BEFORE DELETE ON run_records
  BEGIN SELECT RAISE(ABORT, 'run records are immutable'); END;
CREATE TABLE IF NOT EXISTS run_continuations (
  run_id TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,
  record_sha256 TEXT NOT NULL, record_json TEXT NOT NULL, created_at REAL NOT NULL,
  PRIMARY KEY (run_id, seq));
CREATE TRIGGER IF NOT EXISTS run_continuations_immutable BEFORE UPDATE ON run_continuations
  BEGIN SELECT RAISE(ABORT, 'run records are immutable'); END;
CREATE TRIGGER IF NOT EXISTS run_continuations_kept BEFORE DELETE ON run_continuations
  BEGIN SELECT RAISE(ABORT, 'run records are immutable'); END;
"""
# The registry folders the records name, each once with when a record last named it:
# what `registries` answers with, without parsing every record. Derived from the
# records (an insert trigger keeps it up to date, in the insert's own transaction), so
# unlike them it is updated; a store made before it gets it filled from its records.
REGISTRIES_TABLE = "run_registries"
_REGISTRIES_OF = """
CASE WHEN json_valid({text}) THEN CASE WHEN json_type({text}, '$.registries') = 'array'
  THEN {text} END END"""
_REGISTRIES_UPSERT = """
  ON CONFLICT (folder) DO UPDATE SET created_at = excluded.created_at,
    position = excluded.position WHERE excluded.created_at >= run_registries.created_at"""
REGISTRIES_SCHEMA = (
    # `list` takes the newest runs from it rather than sorting them all.
    "CREATE INDEX IF NOT EXISTS run_records_created ON run_records (created_at)",
    """CREATE TABLE run_registries (
  folder TEXT PRIMARY KEY, created_at REAL NOT NULL, position INTEGER NOT NULL)""",
    f"""CREATE TRIGGER run_records_registries AFTER INSERT ON run_records BEGIN
  INSERT INTO run_registries (folder, created_at, position)
  SELECT value, NEW.created_at, key
  FROM json_each({_REGISTRIES_OF.format(text="NEW.record_json")}, '$.registries')
  WHERE type = 'text' {_REGISTRIES_UPSERT};
END""",
    # The records written before the table was.
    f"""INSERT INTO run_registries (folder, created_at, position)
SELECT j.value, r.created_at, j.key
FROM run_records r, json_each({_REGISTRIES_OF.format(text="r.record_json")}, '$.registries') j
WHERE j.type = 'text' {_REGISTRIES_UPSERT}""",
)
# Indexes of the records' sha256 (with their run, so that the index alone answers):
# the run a record hash pasted in place of a run id belongs to is found by a range of
# them, not by reading every record's row. A store made before them gets them when
# first opened.
SHA_INDEX = "run_records_sha"
SHA_SCHEMA = (
    f"CREATE INDEX {SHA_INDEX} ON run_records (record_sha256, run_id)",
    "CREATE INDEX run_continuations_sha ON run_continuations (record_sha256, run_id)",
)
# A run's latest record: its last continuation, else its first record.
LATEST = """
SELECT r.run_id, r.pipeline, coalesce(c.status, r.status),
       coalesce(c.record_sha256, r.record_sha256), coalesce(c.record_json, r.record_json),
       coalesce(c.created_at, r.created_at)
FROM run_records r LEFT JOIN run_continuations c ON c.run_id = r.run_id
  AND c.seq = (SELECT max(seq) FROM run_continuations WHERE run_id = r.run_id)
"""

# The newest runs by their first record (parameter: how many; -1: all), each with its
# latest record's status, sha256 and time: the limit is taken on the created_at index
# before the join, and no record's text is read.
NEWEST = """
SELECT r.run_id, r.pipeline, coalesce(c.status, r.status),
       coalesce(c.record_sha256, r.record_sha256), coalesce(c.created_at, r.created_at)
FROM (SELECT run_id, pipeline, status, record_sha256, created_at FROM run_records
      ORDER BY created_at DESC LIMIT ?) r
LEFT JOIN run_continuations c ON c.run_id = r.run_id
  AND c.seq = (SELECT max(seq) FROM run_continuations WHERE run_id = r.run_id)
ORDER BY r.created_at DESC
"""

# The sha256 of a run's latest record (parameters: the run id, twice).
LATEST_SHA = """
SELECT coalesce((SELECT record_sha256 FROM run_continuations WHERE run_id = ?
                 ORDER BY seq DESC LIMIT 1),
                (SELECT record_sha256 FROM run_records WHERE run_id = ?))
"""


def environment(image: str | None) -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "packages": versions, "image": image}


def code_commit(declared: str | None, folder: Path) -> dict[str, Any]:
    """`code_commit auto`: the checkout's HEAD and whether the tree was dirty."""
    if declared not in (None, "auto"):
        return {"declared": declared, "commit": declared, "dirty": None}
    try:
        head = _git(folder, "rev-parse", "HEAD")
        dirty = bool(_git(folder, "status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return {"declared": "auto", "commit": None, "dirty": None,
                "note": "not a git checkout"}
    return {"declared": "auto", "commit": head, "dirty": dirty}


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()


def write_run_record(manifest: dict[str, Any], base_dir: Path, project: Path, run_id: str,
                     status: str, report: dict[str, Any]) -> str | None:
    """The new record's sha256 (a continuation when the run had ended before with other
    stage results), or None when the run already has a record of this ending (two
    stages ending one run at once): that record stands."""
    index = RunIndex(project)
    try:
        executions = executions_of(index, run_id, manifest)
    finally:
        index.close()
    records = RunRecords(project)
    try:
        return records.write(build_record(manifest, base_dir, run_id, status, executions,
                                          report, project))
    finally:
        records.close()


def build_record(manifest: dict[str, Any], base_dir: Path, run_id: str, status: str,
                 executions: list[dict[str, Any]], report: dict[str, Any],
                 project: Path | None = None) -> dict[str, Any]:
    """Everything the seven questions need, from the manifest and the stage reports.
    `project`: the run store's folder, which registry paths inside it are relative to."""
    by_id = {e["stage_id"]: e for e in executions}
    pipeline = manifest["pipeline"]
    record: dict[str, Any] = {
        "run_id": run_id, "pipeline": pipeline["name"], "status": status,
        "dag_hash": manifest.get("dag_hash"), "pipec_version": manifest.get("pipec_version"),
        "code": code_commit(pipeline.get("code_commit"), base_dir),
        "environment": environment(pipeline.get("image")),
        "stages": [{k: e.get(k) for k in ("stage_id", "status", "duration_s", "cpu_s",
                                           "cache_key")} for e in executions],
        "report": report,
        # Who owned each stage: an owner edit keeps every definition hash (a cached result
        # stays cached), so this is where `runs diff` shows it.
        "owners": {s["id"]: s.get("owners") or [s["owner"]] for s in manifest["stages"]
                   if s.get("owners") or s.get("owner")},
    }
    for stage in manifest["stages"]:
        entry = by_id.get(stage["id"], {})
        _add_stage(record, stage, entry.get("report") or {}, entry.get("outputs") or {})
    registries = sorted({_portable(registry_base(base_dir) / s["registry"]["path"], project)
                         for s in manifest["stages"]
                         if s["kind"] == "register" and (s.get("registry") or {}).get("path")})
    if registries:
        # Where this run's models were registered: `pipec lineage` and `pipec registry`
        # find them from the run store alone (`--project`), wherever the .pipe file is.
        record["registries"] = registries
    return record


def _portable(registry: Path, project: Path | None) -> str:
    """A registry folder as a record keeps it: relative to the run store's folder when
    inside it, so a project moved or cloned elsewhere still finds its registry; else
    absolute."""
    resolved = registry.resolve()
    if project is not None and resolved.is_relative_to(project.resolve()):
        return resolved.relative_to(project.resolve()).as_posix() or "."
    return str(resolved)


def _add_stage(record: dict[str, Any], stage: dict[str, Any], report: dict[str, Any],
               outputs: dict[str, str]) -> None:
    kind, name = stage["kind"], stage["name"]
    if kind == "source":
        record.setdefault("data", {})[name] = {
            "snapshot_declared": stage.get("snapshot"), "snapshot": report.get("snapshot"),
            "content_hash": outputs.get("dataset"), "rows": report.get("row_count"),
            "path": stage.get("path") or stage.get("query")}
    elif kind == "label":
        record.setdefault("labels", {})[name] = {
            "mode": stage["mode"], "window_s": stage.get("window_s"),
            "maturity_s": stage.get("maturity_s"), "censored": report.get("censored"),
            "definition": stage.get("definition"), "source": stage.get("source"),
            "definition_hash": stage.get("definition_hash"), "rule": _rule(stage)}
    elif kind == "features":
        record.setdefault("features", {})[name] = {
            "version": stage.get("version"), "definition_hash": stage.get("definition_hash"),
            "table": outputs.get("features"), "rule": _rule(stage)}
    elif kind == "split":
        record["split"] = {"by": stage["by"], "on": stage.get("on"), "seed": stage.get("seed"),
                           "definition_hash": stage.get("definition_hash"),
                           "rule": _rule(stage),
                           **{k: report.get(k) for k in ("train", "valid", "test", "dropped")}}
    elif kind == "train":
        record.setdefault("models", {})[name] = {
            "model": stage["model"], "params": stage.get("params"), "seed": stage.get("seed"),
            "features": stage.get("features"), "model_sha256": outputs.get("model"),
            **_warnings(report)}
    elif kind == "evaluate":
        record.setdefault("evaluations", {})[name] = {
            "blessed": report.get("blessed"), "metrics": report.get("metrics"),
            "slices": report.get("slices"), "gates": report.get("gates"),
            "champion": report.get("champion"), "report_sha256": outputs.get("evaluation"),
            **_warnings(report)}
    elif kind in ("register", "approval", "deploy"):
        record.setdefault(kind, {})[name] = report or None


def _warnings(report: dict[str, Any]) -> dict[str, Any]:
    """The warnings a model stage counted (`model_warnings`), when it raised any."""
    return {key: report[key] for key in ("warnings", "warnings_omitted") if report.get(key)}


# What a manifest stage carries besides its definition: who runs it, how, and from what.
_NOT_RULE = frozenset({"id", "kind", "name", "inputs", "owner", "owners", "retries",
                       "timeout_s", "on_failure", "description", "definition_hash"})


def _rule(stage: dict[str, Any]) -> dict[str, Any]:
    """The stage as the program defines it (the label's column, operator and value; the
    split's dates and fractions): what lineage answers with and `runs diff` compares."""
    return {k: v for k, v in sorted(stage.items()) if k not in _NOT_RULE}


def _ending(record: dict[str, Any]) -> tuple[Any, ...]:
    """How a run ended: its status and each stage's result (a stage run again from the
    cache succeeded as before)."""
    return record["status"], [(s["stage_id"], "succeeded" if s["status"] in USABLE
                               else s["status"]) for s in record["stages"]]


class RecordDamaged(PipecRuntimeError):
    """A stored record whose text is not what was written: it no longer hashes to the
    sha256 stored beside it, or is not a JSON object."""


def _loaded(row: tuple[Any, ...]) -> dict[str, Any]:
    """The record of a `LATEST` row, checked against its sha256: the records are the
    audit trail of what ran, so one edited by hand (or by a disk) is refused, not shown."""
    run_id, sha, text = row[0], row[3], row[4]
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != sha:
        raise RecordDamaged(f"the record of run {run_id} is damaged: its text no longer "
                            f"matches its sha256 {str(sha)[:12]} (edited after it was written)")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordDamaged(f"the record of run {run_id} is damaged: it is not valid JSON "
                            f"({exc})") from None
    if not isinstance(record, dict):
        raise RecordDamaged(f"the record of run {run_id} is damaged: it is not a JSON object")
    return record


class AmbiguousRun(PipecRuntimeError):
    """A run id prefix that several runs share."""


class RunRecords:
    """The append-only table of run records beside the run index."""

    def __init__(self, project: Path) -> None:
        self.project = Path(project)
        self._path = self.project / STORE_DIR / "index.sqlite"
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # Opened when first needed: reading a store no run was recorded in creates nothing
        # in it (a command run where there is no store refuses before it gets here).
        self._db: sqlite3.Connection | None = None
        self._store: ArtifactStore | None = None
        self._indexed = False  # whether the store has `run_registries` (set on opening)

    @property
    def db(self) -> sqlite3.Connection:
        """The records' database, with its tables (created when missing)."""
        if self._db is None:
            db = connect_wal(self._path, schema=RECORDS_SCHEMA)
            try:
                self._indexed = _add_registries_table(db)
                # Without them (a read-only old store) a hash prefix is found by a scan.
                _upgraded(db, SHA_INDEX, SHA_SCHEMA)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    @property
    def store(self) -> ArtifactStore:
        """Where each record's bytes are stored too, content-addressed."""
        if self._store is None:
            self._store = ArtifactStore(self.project)
        return self._store

    def _empty(self) -> bool:
        """Whether there is no run index yet: a read answers "no runs" without making one."""
        return self._db is None and not self._path.exists()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def write(self, record: dict[str, Any]) -> str | None:
        """Store the record of a run that ended: its sha256. A run that has a record gets
        a continuation when it ended again with other stage results; None when it ended
        with the same (two stages ending one run at once): the record stands."""
        while True:  # again when another process wrote a continuation meanwhile
            latest = self.db.execute(LATEST + " WHERE r.run_id = ?",
                                     (record["run_id"],)).fetchone()
            if latest is None:
                sha, text = self._stored(record)
                inserted = self.db.execute(
                    "INSERT OR IGNORE INTO run_records VALUES (?,?,?,?,?,?)",
                    (record["run_id"], record["pipeline"], record["status"], sha, text,
                     time.time())).rowcount
                return sha if inserted else None  # another stage's record came first
            if _ending(json.loads(latest[4])) == _ending(record):
                return None
            if (sha := self._continue(record, latest[3], latest[2])) is not None:
                return sha

    def _continue(self, record: dict[str, Any], latest_sha: str, latest_status: str) -> str | None:
        """Append a continuation of the run's latest record `latest_sha`; None when
        another process appended one first (the caller compares with that one instead).

        The insert is conditional on `latest_sha` still being the latest, rather than
        the whole write being one transaction: storing the record's bytes seals them
        through the store's own connection, which would wait on this one's lock."""
        record = record | {"continues": {"record_sha256": latest_sha, "status": latest_status}}
        sha, text = self._stored(record)
        inserted = self.db.execute(
            "INSERT OR IGNORE INTO run_continuations SELECT ?, next, ?, ?, ?, ? FROM (SELECT "
            "coalesce(max(seq), 0) + 1 AS next FROM run_continuations WHERE run_id = ?) "
            f"WHERE ({LATEST_SHA}) = ?",
            (record["run_id"], record["status"], sha, text, time.time(), record["run_id"],
             record["run_id"], record["run_id"], latest_sha)).rowcount
        return sha if inserted else None

    def _stored(self, record: dict[str, Any]) -> tuple[str, str]:
        text = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
        return self.store.put_bytes(text.encode("utf-8")), text

    def get(self, run_id: str) -> dict[str, Any] | None:
        """The record of a run id or of a unique prefix of one. A prefix matching several
        runs is refused rather than answered with one of them; matched as it is (`%` and
        `_` are not wildcards and case matters), by a range of the run id index."""
        if self._empty() or not run_id or not is_text(run_id):
            return None
        exact = self.db.execute(LATEST + " WHERE r.run_id = ?", (run_id,)).fetchone()
        if exact is not None:
            return _loaded(exact)
        where, params = _starting("run_id", run_id)
        # Newest first: records are never deleted, so rowids follow the order they were
        # written in, and the id index holds them (no record's row is read).
        found = [candidate for (candidate,) in self.db.execute(
            f"SELECT run_id FROM run_records WHERE {where} ORDER BY rowid DESC LIMIT 6",
            params)]
        if len(found) > 1:
            total = self.db.execute(f"SELECT count(*) FROM run_records WHERE {where}",
                                    params).fetchone()[0]
            shown = ", ".join(found[:5]) + (", …" if total > 5 else "")
            raise AmbiguousRun(f"`{run_id}` is the start of {total:,} run ids ({shown}): "
                               "give more of it")
        if not found:
            return None
        return _loaded(self.db.execute(LATEST + " WHERE r.run_id = ?", found).fetchone())

    def run_ids(self) -> list[str]:
        """Every recorded run id, in their order, from the run id index alone."""
        if self._empty():
            return []
        return [run_id for (run_id,) in
                self.db.execute("SELECT run_id FROM run_records ORDER BY run_id")]

    def recorded_as(self, prefix: str, limit: int = 2) -> list[str]:
        """Up to `limit` runs one of whose records has a sha256 starting with `prefix`
        (`runs list` prints it beside each run id: the likeliest wrong thing to paste in
        place of one)."""
        if self._empty() or not prefix or not is_text(prefix):
            return []
        where, params = _starting("record_sha256", prefix)
        rows = self.db.execute(
            f"SELECT run_id FROM run_records WHERE {where} UNION "
            f"SELECT run_id FROM run_continuations WHERE {where} LIMIT ?",
            (*params, *params, limit))
        return [run_id for (run_id,) in rows]

    def ending(self, run_id: str) -> tuple[str, str] | None:
        """(status, sha256) of the latest record of exactly `run_id`; None without one."""
        if self._empty():
            return None
        row = self.db.execute(LATEST + " WHERE r.run_id = ?", (run_id,)).fetchone()
        return (row[2], row[3]) if row else None

    def registries(self) -> list[str]:
        """The registry folders the recorded runs registered to, the most recent first
        (absolute: a relative one is inside the run store's folder)."""
        if self._empty():
            return []
        db = self.db
        if not self._indexed:  # a store made before the table, which pipec may not write
            return self._registries_parsed()
        rows = db.execute(f"SELECT folder FROM {REGISTRIES_TABLE} "
                          "ORDER BY created_at DESC, position, folder")
        return list(dict.fromkeys(str(self.project / folder) for (folder,) in rows))

    def _registries_parsed(self) -> list[str]:
        """`registries` from every record's text (a record that is not JSON names none)."""
        found: list[str] = []
        for (text,) in self.db.execute("SELECT record_json FROM run_records "
                                       "ORDER BY created_at DESC"):
            try:
                named = json.loads(text).get("registries") or []
            except (json.JSONDecodeError, AttributeError):
                continue
            found += [folder for r in named if (folder := str(self.project / r)) not in found]
        return found

    def list(self, limit: int | None = 50) -> list[dict[str, Any]]:
        """The latest runs (all with `limit` None), newest first (by their first record),
        each with its latest record's status."""
        if self._empty():
            return []
        rows = self.db.execute(NEWEST, (-1 if limit is None else limit,))
        keys = ("run_id", "pipeline", "status", "record_sha256", "created_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def unrecorded(self, prefix: str) -> tuple[str, str] | None:
        """(run id, status in the run index) of a run starting with `prefix` that has no
        record: one still running, or killed before it could write its record."""
        if self._empty() or not prefix or not is_text(prefix):
            return None
        where, params = _starting("run_id", prefix)
        try:
            row = self.db.execute(f"SELECT run_id, status FROM runs WHERE {where} "
                                  "ORDER BY started_at DESC LIMIT 1", params).fetchone()
        except sqlite3.OperationalError:  # a store with records but no run index yet
            return None
        return (row[0], row[1]) if row else None

    def count(self) -> int:
        """How many runs have a record."""
        if self._empty():
            return 0
        return int(self.db.execute("SELECT count(*) FROM run_records").fetchone()[0])


def _add_registries_table(db: sqlite3.Connection) -> bool:
    """Give a store made before `run_registries` the table, its trigger, the registries
    of the records it holds and the created_at index. False when it cannot have them (a
    read-only copy, or a SQLite without its JSON functions): its records are parsed."""
    if _has(db, REGISTRIES_TABLE):
        return True
    return _has_json(db) and _upgraded(db, REGISTRIES_TABLE, REGISTRIES_SCHEMA)


def _has(db: sqlite3.Connection | sqlite3.Cursor, name: str) -> bool:
    """Whether the store has the table or index `name`."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() \
        is not None


def _upgraded(db: sqlite3.Connection, name: str, statements: tuple[str, ...]) -> bool:
    """Whether the store has table or index `name`, which a store made before it lacks:
    then `statements` add it, once, by the first process to open the store. False when
    the store cannot be written (a read-only copy): it is read as it is."""
    if _has(db, name):
        return True
    try:
        with immediate_transaction(db) as cur:  # two processes opening an old store at once
            if not _has(cur, name):
                for statement in statements:
                    cur.execute(statement)
    except sqlite3.OperationalError as exc:
        if not (getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY")
                or "readonly database" in str(exc)):
            raise
        return False
    return True


def _starting(column: str, prefix: str) -> tuple[str, tuple[Any, ...]]:
    """A condition that `column` starts with the non-empty `prefix`, and its parameters.
    UTF-8 text sorts by code point, so such values lie from `prefix` up to the least
    string after them all: a range of the column's index, where `substr` alone made
    SQLite read every row. `substr`, not LIKE: `%` and `_` are no wildcards, case
    matters."""
    where = f"{column} >= ? AND substr({column}, 1, ?) = ?"
    params: tuple[Any, ...] = (prefix, len(prefix), prefix)
    if (after := _after(prefix)) is not None:
        where, params = f"{where} AND {column} < ?", (*params, after)
    return where, params


def _after(prefix: str) -> str | None:
    """The least string greater than every string that starts with `prefix`: its last
    character below U+10FFFF moved up by one (past the surrogates, which no text holds);
    None when there is none."""
    for at in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[at]) + 1
        if code <= 0x10FFFF:
            return prefix[:at] + chr(0xE000 if 0xD800 <= code <= 0xDFFF else code)
    return None


def is_text(value: str) -> bool:
    """Whether `value` is text a run id can be: an argument holding bytes that are not
    UTF-8 reaches Python with surrogates (`\\udcff`), which SQLite refuses outright."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _has_json(db: sqlite3.Connection) -> bool:
    try:
        db.execute("SELECT json_valid('[]')").fetchone()
    except sqlite3.OperationalError:
        return False
    return True


def executions_of(index: RunIndex, run_id: str,
                  manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """This run's stage executions, in manifest order, as plain dicts."""
    found = []
    for stage in manifest["stages"]:
        execution = index.execution(run_id, stage["id"])
        if execution is None:
            continue
        found.append({"stage_id": stage["id"], "status": execution.status,
                      "duration_s": execution.duration_s,
                      "cpu_s": execution.cpu_s, "cache_key": execution.cache_key,
                      "outputs": execution.outputs, "report": execution.report})
    return found
