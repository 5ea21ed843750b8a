"""The content-addressed store and the run index."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipec.stdlib.runtime import ArtifactMissing, ArtifactStore, RunIndex


def test_put_bytes_is_content_addressed(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    aid = store.put_bytes(b"hello")
    assert aid == hashlib.sha256(b"hello").hexdigest()
    assert store.put_bytes(b"hello") == aid
    path = store.get_path(aid)
    assert path == tmp_path / ".pipec" / "objects" / aid[:2] / aid[2:]
    assert path.read_bytes() == b"hello"
    assert not list((tmp_path / ".pipec" / "tmp").iterdir())


def test_put_file_and_missing(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    src = tmp_path / "f.bin"
    src.write_bytes(b"x" * 3_000_000)
    assert store.put_file(src) == hashlib.sha256(src.read_bytes()).hexdigest()
    with pytest.raises(ArtifactMissing):
        store.get_path("0" * 64)


def test_identical_tables_hash_identically(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    a = pa.table({"x": [1, 2, 3], "y": ["a", "b", None]})
    b = pa.table({"x": pa.array([1, 2, 3]), "y": pa.array(["a", "b", None])})
    b = b.replace_schema_metadata({"pandas": "noise"})
    pq.write_table(b, tmp_path / "b.parquet", compression="snappy")
    ids = {store.put_table(a), store.put_table(b), store.put_table(tmp_path / "b.parquet")}
    assert len(ids) == 1
    assert store.get_table(ids.pop()).equals(a)


def test_index_records_runs_stages_and_cache(tmp_path: Path) -> None:
    index = RunIndex(tmp_path)
    assert index._con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    index.start_run("r1", "dag")
    index.start_stage("r1", "source.x", None)
    index.finish_stage("r1", "source.x", "ran", {"dataset": "abc"}, {"rows": 3})
    ex = index.execution("r1", "source.x")
    assert ex is not None and ex.outputs == {"dataset": "abc"} and ex.report == {"rows": 3}
    index.cache_put("k", "join", "r1", {"examples": "def"}, {})
    assert index.cache_get("k") == ({"examples": "def"}, {})
    assert index.cache_get("nope") is None


def test_baseline_prefers_blessed_then_first(tmp_path: Path) -> None:
    index = RunIndex(tmp_path)
    for run in ("r1", "r2", "r3"):
        index.start_run(run, None)
    assert index.baseline("v", "mean", "a", "r1") == (False, None)
    index.record_baseline("r1", "v", "mean", "a", 1.0)
    index.record_baseline("r2", "v", "mean", "a", 2.0)
    assert index.baseline("v", "mean", "a", "r3") == (True, 1.0)
    index.mark_blessed("r2")
    assert index.baseline("v", "mean", "a", "r3") == (True, 2.0)


def test_temp_files_a_crash_left_are_removed_on_open(tmp_path: Path) -> None:
    import os
    import time

    from pipec.stdlib.runtime.registry import Registry
    from pipec.stdlib.runtime.store import STALE_TEMP_S, ArtifactStore

    store = ArtifactStore(tmp_path)
    registry = Registry(tmp_path / "registry")
    registry.close()
    old = time.time() - STALE_TEMP_S - 60
    stale = [store.tmp / "put-crashed", tmp_path / "registry" / "objects" / ".m.skops.x.tmp"]
    fresh = [store.tmp / "put-writing", tmp_path / "registry" / "objects" / ".n.skops.y.tmp"]
    for path in stale + fresh:
        path.write_bytes(b"partial")
    for path in stale:
        os.utime(path, (old, old))
    ArtifactStore(tmp_path)
    Registry(tmp_path / "registry").close()
    assert [p.exists() for p in stale] == [False, False]
    assert [p.exists() for p in fresh] == [True, True]  # may be another process's write


def test_an_index_an_older_pipec_made_gains_the_cpu_column(tmp_path: Path) -> None:
    """`stage_executions` had no `cpu_s` before: opening such an index adds it, its old
    rows read as None, and new executions record their CPU seconds."""
    import sqlite3

    folder = tmp_path / ".pipec"
    folder.mkdir()
    old = sqlite3.connect(folder / "index.sqlite")
    old.executescript(
        "CREATE TABLE stage_executions (run_id TEXT NOT NULL, stage_id TEXT NOT NULL, "
        "cache_key TEXT, status TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL, "
        "duration_s REAL, outputs_json TEXT, report_json TEXT, PRIMARY KEY (run_id, stage_id));"
        "INSERT INTO stage_executions VALUES ('r0', 's', NULL, 'ran', 0, 1, 1, '{}', '{}');")
    old.close()
    index = RunIndex(tmp_path)
    try:
        before = index.execution("r0", "s")
        assert before is not None and before.status == "ran" and before.cpu_s is None
        index.start_stage("r1", "s", None)
        sum(range(100_000))  # some CPU work between start and finish
        index.finish_stage("r1", "s", "ran", {}, {})
        after = index.execution("r1", "s")
        assert after is not None and after.cpu_s is not None and after.cpu_s >= 0
    finally:
        index.close()
    RunIndex(tmp_path).close()  # opened again: the column is there, nothing to add
