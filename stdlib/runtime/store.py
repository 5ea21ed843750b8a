"""The content-addressed artifact store and the run index of a project.

Layout under `<project>/.pipec/`:

- `objects/ab/cdef...`: one file per artifact, named by the sha256 of its bytes, so an
  artifact id is also its integrity check and identical outputs are stored once.
- `tmp/`: staging for atomic writes (same file system as `objects/`, so `os.replace` is
  atomic).
- `index.sqlite`: the run index (see `RunIndex`).
- `locks/`: one empty file per stage of a pipeline, locked while a `pipec run` runs that
  stage (see `stage_turn`).

Tables are written as parquet with fixed writer options and no schema metadata, so the
same table always gives the same bytes and therefore the same id; that is what lets an
unchanged source keep every downstream stage cached.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ArtifactMissing, StoreGone

try:
    import fcntl
except ImportError:  # not POSIX: the stages of concurrent runs run side by side
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:  # pyarrow loads only when a table is stored or read
    import pyarrow as pa

STORE_DIR = ".pipec"
_CHUNK = 1 << 20
# Fixed writer options: any change here changes every table id (and so every cache key).
_PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "row_group_size": 1 << 20,
    "use_dictionary": True,
    "write_statistics": True,
    "data_page_version": "1.0",
    "version": "2.6",
}


# A temporary file this old was left by a writer that crashed (a write takes seconds to
# minutes); a younger one may belong to a process writing now, so it stays.
STALE_TEMP_S = 86_400

# How long a connection waits for another process's write to end (SQLite's busy timeout).
BUSY_TIMEOUT_S = 60.0

# A file system that is full (or the user's quota used up).
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


# An object is sealed when it is committed: the index records what `stat` says of it
# (size, inode, modification and change times in nanoseconds). Writing to the object,
# even with its modification time put back (`touch -d`), moves its change time, which no
# program can set; so `intact` trusts an object whose `stat` still matches its seal and
# hashes any other (a copied or restored store is hashed once, then sealed again).
_SEALS_SCHEMA = """
CREATE TABLE IF NOT EXISTS seals (
    artifact_id TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL
);
"""


def _stat_seal(path: Path) -> tuple[int, int, int, int]:
    st = path.stat()
    return st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns


def remove_stale_temps(folder: Path, pattern: str, now: float | None = None) -> int:
    """Delete files in `folder` matching `pattern` not modified for STALE_TEMP_S; return
    how many. Errors (a file another process removed first) are ignored."""
    cutoff = (time.time() if now is None else now) - STALE_TEMP_S
    removed = 0
    for path in folder.glob(pattern):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


class ArtifactStore:
    """Content-addressed objects of one project."""

    def __init__(self, project: Path) -> None:
        self.root = Path(project) / STORE_DIR
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.tmp, "put-*")  # what a crashed writer left behind
        self._seal_db: sqlite3.Connection | None = None  # opened when first needed

    @property
    def _seals(self) -> sqlite3.Connection:
        if self._seal_db is None:
            self._seal_db = connect_wal(self.root / "index.sqlite", schema=_SEALS_SCHEMA)
        return self._seal_db

    def close(self) -> None:
        """Close the seals' connection, if one was opened."""
        if self._seal_db is not None:
            self._seal_db.close()
            self._seal_db = None

    def _seal(self, path: Path, artifact_id: str) -> None:
        with immediate_transaction(self._seals) as cur:
            cur.execute("INSERT OR REPLACE INTO seals VALUES (?, ?, ?, ?, ?)",
                        (artifact_id, *_stat_seal(path)))

    def _sealed(self, artifact_id: str, seal: tuple[int, int, int, int]) -> bool:
        row = self._seals.execute("SELECT size, inode, mtime_ns, ctime_ns FROM seals "
                                  "WHERE artifact_id = ?", (artifact_id,)).fetchone()
        return row is not None and tuple(row) == seal

    def _object_path(self, artifact_id: str) -> Path:
        return self.objects / artifact_id[:2] / artifact_id[2:]

    def put_bytes(self, data: bytes) -> str:
        """Store bytes; return their sha256 id."""
        with self._staged() as (handle, _path):
            handle.write(data)
        return self._commit(_path, hashlib.sha256(data).hexdigest())

    def put_file(self, source: Path) -> str:
        """Store a copy of a file; return its sha256 id."""
        digest = hashlib.sha256()
        with self._staged() as (handle, staged), open(source, "rb") as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                handle.write(chunk)
        return self._commit(staged, digest.hexdigest())

    def put_json(self, value: Any) -> str:
        """Store canonical JSON (sorted keys), so equal values share an id."""
        return self.put_bytes(canonical_json(value).encode())

    def put_table(self, table: pa.Table | Path) -> str:
        """Store a table as deterministic parquet; a path is read and rewritten."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not isinstance(table, pa.Table):
            table = pq.read_table(table)
        table = table.replace_schema_metadata(None)
        with self._staged() as (handle, staged):
            pq.write_table(table, handle, **_PARQUET_OPTIONS)
        return self._commit(staged, file_sha256(staged))

    def get_path(self, artifact_id: str) -> Path:
        """The path of a stored artifact; raises ArtifactMissing when absent."""
        path = self._object_path(artifact_id)
        if not path.is_file():
            raise ArtifactMissing(f"artifact {artifact_id} is not in the store")
        return path

    def get_json(self, artifact_id: str) -> Any:
        return json.loads(self.get_path(artifact_id).read_text())

    def get_table(self, artifact_id: str) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(self.get_path(artifact_id))

    def intact(self, artifact_id: str) -> bool:
        """Present, and its bytes still hash to its id: an object altered in place (by
        hand, or a disk error) must never be reused as if it were the original.

        One `stat` when the object still matches its seal (see `_SEALS_SCHEMA`);
        otherwise the bytes are hashed, and sealed again when they match. A fully cached
        run then costs no re-reading of the store, however large it is. (A disk error
        that changes no metadata is found only when the object is hashed again.)"""
        path = self._object_path(artifact_id)
        try:
            if self._sealed(artifact_id, _stat_seal(path)):
                return True
        except FileNotFoundError:
            return False
        if file_sha256(path) != artifact_id:
            return False
        self._seal(path, artifact_id)
        return True

    @contextmanager
    def _staged(self) -> Iterator[tuple[Any, Path]]:
        # fsync before the rename: after a crash, an object is either whole or absent.
        with self._present():
            fd, name = tempfile.mkstemp(dir=self.tmp, prefix="put-")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle, path
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            path.unlink(missing_ok=True)
            if exc.filename is None and exc.errno in _FULL:
                # A write to an open file names none: say it was the store's (it is full).
                raise OSError(exc.errno, exc.strerror, str(path)) from exc
            raise
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    @contextmanager
    def _present(self) -> Iterator[None]:
        """A missing store folder said as such, not as the temporary file it lacked."""
        try:
            yield
        except FileNotFoundError as exc:
            if all(folder.is_dir() for folder in (self.root, self.tmp, self.objects)):
                raise
            raise StoreGone(f"the run store `{STORE_DIR}/` disappeared during the run") \
                from exc

    def _commit(self, staged: Path, artifact_id: str) -> str:
        final = self._object_path(artifact_id)
        with self._present():
            final.parent.mkdir(exist_ok=True)
            os.replace(staged, final)
        _fsync_dir(final.parent)
        self._seal(final, artifact_id)  # after the rename, which moves the change time
        return artifact_id


@contextmanager
def stage_turn(project: Path, pipeline: str, stage_id: str,
               on_wait: Callable[[], None]) -> Iterator[None]:
    """Run a stage of `pipeline` in one process of the project at a time: `on_wait` is
    called when another process holds the stage, then this one waits for its turn.

    Two `pipec run`s started together (two terminals, a scheduled retrain and a manual
    run) would otherwise run the same stage side by side: train the same model twice,
    and evaluate it twice, with two reports (latency is measured anew) of which the cache
    keeps one and the registry another, so an approval of the registered one was lost at
    the next run. Taking turns, the second finds the first's result in the cache.

    `flock`: the kernel releases the lock when its process ends, however it ends (a
    SIGKILL leaves no stale lock). Where there is no such lock (no `fcntl`, a file system
    that refuses it), stages run side by side, as before."""
    if fcntl is None:
        yield
        return
    folder = Path(project) / STORE_DIR / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    # Hashed: a name from the program never becomes a path.
    name = hashlib.sha256(f"{pipeline}\0{stage_id}".encode()).hexdigest()[:32]
    with open(folder / f"{name}.lock", "a+b") as handle:
        if _locked(handle.fileno(), blocking=False) is False:
            on_wait()
            _locked(handle.fileno(), blocking=True)
        yield  # closing the file releases the lock


def _locked(fd: int, *, blocking: bool) -> bool | None:
    """True once the lock is held; False when another process holds it (only when not
    `blocking`); None when the file system has no such lock."""
    assert fcntl is not None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno in (errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP):
            return None
        raise
    return True


def connect_wal(path: Path, *, synchronous: str = "NORMAL", schema: str | None = None,
                timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """An autocommit connection to a WAL database, its schema created if missing.

    Two processes opening a new database at once race to switch it to WAL and create
    its tables; SQLite answers the loser "database is locked" at once instead of waiting
    (the busy timeout does not cover a journal-mode change). Opening is retried until
    `timeout`; every later write waits on the busy timeout as usual.
    """
    deadline = time.monotonic() + timeout
    while True:
        con = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        try:
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                con.execute("PRAGMA journal_mode=WAL")
            con.execute(f"PRAGMA synchronous={synchronous}")
            if schema is not None:
                con.executescript(schema)  # IF NOT EXISTS throughout: a no-op when present
            return con
        except sqlite3.OperationalError as exc:
            con.close()
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02 + random.random() * 0.08)


def held_elsewhere(exc: sqlite3.DatabaseError) -> str | None:
    """Why SQLite gave up, when it gave up waiting for a lock another process held past
    the busy timeout; None for any other error. Such a database is not damaged: saying
    so would send the user to restore one that is fine."""
    if not (getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY")
            or "database is locked" in str(exc)):
        return None
    return (f"another process has held it locked for longer than pipec waits "
            f"({BUSY_TIMEOUT_S:.0f} s): a command suspended (Ctrl-Z) or stuck mid-change, or "
            f"a SQLite shell with a transaction open; try again once it has ended ({exc})")


@contextmanager
def immediate_transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Cursor]:
    """One write transaction that takes the write lock up front (BEGIN IMMEDIATE), so
    concurrent writers queue on the busy timeout instead of failing mid-way."""
    cur = con.cursor()
    cur.execute("BEGIN IMMEDIATE")
    try:
        yield cur
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    dag_hash TEXT,
    status TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    blessed INTEGER NOT NULL DEFAULT 0,
    report_json TEXT
);
CREATE TABLE IF NOT EXISTS stage_executions (
    run_id TEXT NOT NULL,
    stage_id TEXT NOT NULL,
    cache_key TEXT,
    status TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    duration_s REAL,
    outputs_json TEXT,
    report_json TEXT,
    cpu_s REAL,
    PRIMARY KEY (run_id, stage_id)
);
CREATE TABLE IF NOT EXISTS stage_cache (
    cache_key TEXT PRIMARY KEY,
    stage_id TEXT NOT NULL,
    outputs_json TEXT NOT NULL,
    report_json TEXT,
    run_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS baselines (
    run_id TEXT NOT NULL,
    stage_id TEXT NOT NULL,
    stat TEXT NOT NULL,
    column_name TEXT NOT NULL,
    value REAL,
    recorded_at REAL NOT NULL,
    PRIMARY KEY (run_id, stage_id, stat, column_name)
);
"""


@dataclass(frozen=True, slots=True)
class Execution:
    """One row of `stage_executions`, decoded."""

    run_id: str
    stage_id: str
    cache_key: str | None
    status: str
    outputs: dict[str, str]
    report: dict[str, Any]
    duration_s: float | None = None
    cpu_s: float | None = None


# Columns added to `stage_executions` after its first release: a store an older pipec
# made gets them when first opened (NULL in its old rows).
_ADDED_COLUMNS = (("stage_executions", "cpu_s", "REAL"),)


def _add_missing_columns(con: sqlite3.Connection) -> None:
    for table, column, kind in _ADDED_COLUMNS:
        with immediate_transaction(con) as cur:  # two processes opening an old store
            present = {row[1] for row in cur.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                cur.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


class RunIndex:
    """The SQLite run index: runs, stage executions, the stage cache, drift baselines.

    WAL mode so a backend's parallel stage tasks can read while one writes; every write
    is one transaction.
    """

    def __init__(self, project: Path) -> None:
        root = Path(project) / STORE_DIR
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / "index.sqlite"
        self._con = connect_wal(self.path, schema=_SCHEMA)
        _add_missing_columns(self._con)
        # CPU seconds are this process's: a stage's are counted from its start here.
        self._cpu_started: dict[tuple[str, str], float] = {}

    def close(self) -> None:
        self._con.close()

    def _tx(self) -> AbstractContextManager[sqlite3.Cursor]:
        return immediate_transaction(self._con)

    # runs -----------------------------------------------------------------------------
    def start_run(self, run_id: str, dag_hash: str | None) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT OR IGNORE INTO runs (run_id, dag_hash, status, started_at) "
                "VALUES (?, ?, 'running', ?)",
                (run_id, dag_hash, time.time()),
            )

    def finish_run(self, run_id: str, status: str, report: dict[str, Any]) -> None:
        with self._tx() as cur:
            cur.execute(
                "UPDATE runs SET status = ?, ended_at = ?, report_json = ? WHERE run_id = ?",
                (status, time.time(), canonical_json(report), run_id),
            )

    def mark_blessed(self, run_id: str) -> None:
        """Called by the evaluate stage: this run's data becomes the drift baseline."""
        with self._tx() as cur:
            cur.execute("UPDATE runs SET blessed = 1 WHERE run_id = ?", (run_id,))

    def run_status(self, run_id: str) -> str | None:
        row = self._con.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return row[0] if row else None

    # stage executions -----------------------------------------------------------------
    def start_stage(self, run_id: str, stage_id: str, cache_key: str | None) -> float:
        started = time.time()
        self._cpu_started[(run_id, stage_id)] = time.process_time()
        with self._tx() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO stage_executions "
                "(run_id, stage_id, cache_key, status, started_at) VALUES (?, ?, ?, 'running', ?)",
                (run_id, stage_id, cache_key, started),
            )
        return started

    def finish_stage(
        self,
        run_id: str,
        stage_id: str,
        status: str,
        outputs: dict[str, str],
        report: dict[str, Any],
    ) -> None:
        ended = time.time()
        cpu_started = self._cpu_started.pop((run_id, stage_id), None)
        cpu = None if cpu_started is None else round(time.process_time() - cpu_started, 3)
        with self._tx() as cur:
            cur.execute(
                "UPDATE stage_executions SET status = ?, ended_at = ?, "
                "duration_s = ? - started_at, outputs_json = ?, report_json = ?, cpu_s = ? "
                "WHERE run_id = ? AND stage_id = ?",
                (
                    status,
                    ended,
                    ended,
                    canonical_json(outputs),
                    canonical_json(report),
                    cpu,
                    run_id,
                    stage_id,
                ),
            )

    def execution(self, run_id: str, stage_id: str) -> Execution | None:
        row = self._con.execute(
            "SELECT run_id, stage_id, cache_key, status, outputs_json, report_json, duration_s, "
            "cpu_s FROM stage_executions WHERE run_id = ? AND stage_id = ?",
            (run_id, stage_id),
        ).fetchone()
        return _execution(row)

    def executions(self, run_id: str) -> dict[str, Execution]:
        """Every stage execution of a run, by stage id, in one query."""
        rows = self._con.execute(
            "SELECT run_id, stage_id, cache_key, status, outputs_json, report_json, duration_s, "
            "cpu_s FROM stage_executions WHERE run_id = ?", (run_id,)).fetchall()
        return {row[1]: execution for row in rows if (execution := _execution(row))}

    def latest_success(self, stage_id: str, cache_key: str | None = None) -> Execution | None:
        """The most recent execution of a stage that produced outputs, in any run (with
        that cache key, when given)."""
        row = self._con.execute(
            "SELECT run_id, stage_id, cache_key, status, outputs_json, report_json "
            "FROM stage_executions WHERE stage_id = ? AND outputs_json IS NOT NULL "
            "AND status IN ('ran', 'skipped (cached)', 'reused') "
            "AND (? IS NULL OR cache_key = ?) ORDER BY ended_at DESC LIMIT 1",
            (stage_id, cache_key, cache_key),
        ).fetchone()
        return _execution(row)

    # stage cache ----------------------------------------------------------------------
    def cache_get(self, cache_key: str) -> tuple[dict[str, str], dict[str, Any]] | None:
        row = self._con.execute(
            "SELECT outputs_json, report_json FROM stage_cache WHERE cache_key = ?", (cache_key,)
        ).fetchone()
        if row is None:
            return None
        return json.loads(row[0]), json.loads(row[1] or "{}")

    def cache_put(
        self,
        cache_key: str,
        stage_id: str,
        run_id: str,
        outputs: dict[str, str],
        report: dict[str, Any],
    ) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO stage_cache "
                "(cache_key, stage_id, outputs_json, report_json, run_id) VALUES (?, ?, ?, ?, ?)",
                (cache_key, stage_id, canonical_json(outputs), canonical_json(report), run_id),
            )

    # drift baselines ------------------------------------------------------------------
    def record_baseline(
        self, run_id: str, scope: str, stat: str, column: str, value: float | None
    ) -> None:
        """`scope`: the validate stage's `baseline_scope` (its pipeline and id)."""
        with self._tx() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO baselines VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, scope, stat, column, value, time.time()),
            )

    def baseline(
        self, scope: str, stat: str, column: str, run_id: str
    ) -> tuple[bool, float | None]:
        """(found, value) in `scope`: from the newest blessed run; before any blessing,
        the first run's. The current run's own recording never counts as its baseline,
        nor does a missing value (which stores written before that rule may hold).
        """
        base = (
            "SELECT b.value FROM baselines b LEFT JOIN runs r ON r.run_id = b.run_id "
            "WHERE b.stage_id = ? AND b.stat = ? AND b.column_name = ? AND b.run_id != ? "
            "AND b.value IS NOT NULL "
        )
        args = (scope, stat, column, run_id)
        row = self._con.execute(
            base + "AND r.blessed = 1 ORDER BY b.recorded_at DESC LIMIT 1", args
        ).fetchone()
        if row is None:
            row = self._con.execute(base + "ORDER BY b.recorded_at ASC LIMIT 1", args).fetchone()
        return (row is not None, row[0] if row else None)


def _execution(row: tuple[Any, ...] | None) -> Execution | None:
    if row is None:
        return None
    return Execution(
        row[0], row[1], row[2], row[3], json.loads(row[4] or "{}"), json.loads(row[5] or "{}"),
        row[6] if len(row) > 6 else None, row[7] if len(row) > 7 else None,
    )
