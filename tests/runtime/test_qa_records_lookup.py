"""A run id prefix (`pipec runs show 786d`) and an unknown run id are answered from the
run store's indexes: a prefix by a range of the run id index, so the work does not grow
with the runs the store holds; the run an unknown id likely means (a record hash pasted
in its place, another case, a typo) from the run id and record hash indexes, without
reading any record's row. A store made before the hash indexes gets them when first
opened, and one that cannot be written is read without them.

Work is counted, never timed: SQLite virtual-machine steps (a progress handler), the
plan of each statement the records module runs (EXPLAIN QUERY PLAN), records decoded."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pipec.cli import main
from pipec.stdlib.runtime import records as records_module
from pipec.stdlib.runtime.records import AmbiguousRun, RunRecords

# SQLite steps between two calls of the progress handler: a count of work, in units.
STEPS = 100
UNIQUE = "c0ffee00c0ffee00"  # `c0ffee` starts this run id alone
TWINS = ("abba0000aaaa1111", "abba0000bbbb2222")  # `abba0000` starts both


def _run_id(number: int) -> str:
    return hashlib.sha256(str(number).encode()).hexdigest()[:16]


def _record(run_id: str, **changes: Any) -> dict[str, Any]:
    return {"run_id": run_id, "pipeline": "p", "status": "succeeded", "stages": [],
            "report": {"note": "x" * 3000}, **changes}  # a record spills its page


def _store(folder: Path, runs: int) -> Path:
    """`runs` runs of random-looking ids, then UNIQUE and the TWINS."""
    ids = [_run_id(number) for number in range(runs)]
    assert not [i for i in ids if i.startswith(("c0ffee", "abba0000"))]
    records = RunRecords(folder)
    try:
        for run_id in (*ids, UNIQUE, *TWINS):
            records.write(_record(run_id))
    finally:
        records.close()
    return folder


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store of 100 runs and one of 400."""
    return (_store(tmp_path_factory.mktemp("small"), 100),
            _store(tmp_path_factory.mktemp("large"), 400))


@dataclass
class Work:
    steps: int = 0
    decoded: int = 0
    statements: list[str] = field(default_factory=list)


@contextmanager
def _watched(monkeypatch: pytest.MonkeyPatch) -> Iterator[Work]:
    """The SQLite steps and statements of every connection the records module opens,
    and the records it decodes."""
    work = Work()
    connect, loads = records_module.connect_wal, json.loads

    def step() -> int:
        work.steps += 1
        return 0  # go on

    def watched_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, **kwargs)
        db.set_progress_handler(step, STEPS)
        db.set_trace_callback(work.statements.append)
        return db

    def counting_loads(*args: Any, **kwargs: Any) -> Any:
        work.decoded += 1
        return loads(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(records_module, "connect_wal", watched_connect)
        patch.setattr(records_module.json, "loads", counting_loads)
        yield work


def _get_work(folder: Path, monkeypatch: pytest.MonkeyPatch, prefix: str) -> Work:
    with _watched(monkeypatch) as work:
        records = RunRecords(folder)
        try:
            records.db  # noqa: B018 (opened, its schema checked, alike for either store)
            work.steps = 0
            with suppress(AmbiguousRun):
                records.get(prefix)
        finally:
            records.close()
    return work


@pytest.mark.parametrize("prefix", ["c0ffee", "abba0000", "c0ffef"])
def test_a_run_id_prefix_takes_the_same_work_however_many_runs(
        stores: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    small, large = (_get_work(folder, monkeypatch, prefix) for folder in stores)
    assert large.steps <= small.steps + 1, (small.steps, large.steps)
    assert large.decoded <= 1, large.decoded  # the record found, and no other


def test_a_run_id_prefix_finds_its_run_or_names_the_runs_it_starts(
        stores: tuple[Path, Path]) -> None:
    records = RunRecords(stores[1])
    try:
        assert records.get("c0ffee")["run_id"] == UNIQUE  # type: ignore[index]
        # Newest first, as they were written.
        with pytest.raises(AmbiguousRun, match=f"`abba0000` is the start of 2 run ids "
                                               f"\\({TWINS[1]}, {TWINS[0]}\\)"):
            records.get("abba0000")
        assert records.get("C0FFEE") is None and records.get("c0ffee0%") is None
    finally:
        records.close()


def _scans(folder: Path, statements: list[str]) -> list[str]:
    """The steps of the statements' plans that visit every row of a table (a scan of
    a covering index reads the index alone; the store's schema is read by every open)."""
    db = sqlite3.connect(folder / ".pipec" / "index.sqlite")
    try:
        return [f"{detail} in {statement}" for statement in statements
                if statement.lstrip().upper().startswith("SELECT")
                for *_, detail in db.execute(f"EXPLAIN QUERY PLAN {statement}")
                if detail.startswith("SCAN") and "COVERING INDEX" not in detail
                and "sqlite_master" not in detail and "CONSTANT ROW" not in detail]
    finally:
        db.close()


@pytest.mark.parametrize(("typed", "said"), [
    ("c0ffee00c0ffee01", f"did you mean `{UNIQUE}`?"),  # a digit mistyped
    ("C0FFEE", f"did you mean `{UNIQUE}`?"),  # another case
    ("zzzz", "no run `zzzz`\n"),
])
def test_an_unknown_run_id_is_answered_without_reading_any_record(
        stores: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], typed: str, said: str) -> None:
    folder = stores[1]
    with _watched(monkeypatch) as work:
        code = main(["runs", "show", typed, "--project", str(folder)])
    err = capsys.readouterr().err
    assert code == 2 and said in err, err
    assert work.decoded == 0
    assert _scans(folder, work.statements) == []


def test_a_record_hash_in_place_of_a_run_id_names_its_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The hash `runs list` prints beside a run, of its first record or of a
    continuation (a run that went on after it had ended)."""
    records = RunRecords(tmp_path)
    try:
        first = records.write(_record(UNIQUE, status="waiting"))
        latest = records.write(_record(UNIQUE, stages=[{"stage_id": "s", "status": "ran"}]))
        records.write(_record(TWINS[0]))
    finally:
        records.close()
    assert first and latest and first != latest
    for sha in (first, latest):
        code = main(["runs", "show", sha[:12], "--project", str(tmp_path)])
        err = capsys.readouterr().err
        assert code == 2 and f"that is a record of run {UNIQUE} " in err, err


def _indexes(folder: Path) -> list[str]:
    db = sqlite3.connect(folder / ".pipec" / "index.sqlite")
    try:
        return sorted(name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'run_%_sha'"))
    finally:
        db.close()


def _make_old(folder: Path) -> str:
    """The store as a pipec from before the hash indexes left it; the hash of a record."""
    db = sqlite3.connect(folder / ".pipec" / "index.sqlite", isolation_level=None)
    try:
        db.execute("DROP INDEX run_records_sha")
        db.execute("DROP INDEX run_continuations_sha")
        return db.execute("SELECT record_sha256 FROM run_records WHERE run_id = ?",
                          (UNIQUE,)).fetchone()[0]
    finally:
        db.close()


def test_a_store_made_before_the_hash_indexes_gets_them_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _store(tmp_path, 20)
    sha = _make_old(folder)
    assert _indexes(folder) == []
    code = main(["runs", "show", sha[:10], "--project", str(folder)])
    assert code == 2 and f"a record of run {UNIQUE}" in capsys.readouterr().err
    assert _indexes(folder) == ["run_continuations_sha", "run_records_sha"]
    assert main(["runs", "show", "c0ffee", "--project", str(folder)]) == 0


def test_an_old_store_pipec_may_not_write_is_answered_without_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder = _store(tmp_path, 20)
    sha = _make_old(folder)
    connect = records_module.connect_wal

    def read_only(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, **kwargs)
        db.execute("PRAGMA query_only = 1")
        return db

    monkeypatch.setattr(records_module, "connect_wal", read_only)
    code = main(["runs", "show", sha[:10], "--project", str(folder)])
    assert code == 2 and f"a record of run {UNIQUE}" in capsys.readouterr().err
    assert main(["runs", "show", "c0ffee", "--project", str(folder)]) == 0
    assert _indexes(folder) == []


# Letters on either side of where UTF-8 text sorts oddly to a programmer: the last one
# before the surrogates, the first after them, the last of all, and plain ones.
EDGES = st.sampled_from(["a", "b", "z", "%", "_", "\ud7ff", "\ue000", "\U0010ffff", "é"])


@settings(max_examples=60, deadline=None)
@given(ids=st.lists(st.text(EDGES, min_size=1, max_size=4), min_size=1, max_size=12,
                    unique=True),
       prefix=st.text(EDGES, min_size=1, max_size=3))
def test_a_prefix_range_holds_exactly_the_ids_that_start_with_it(
        ids: list[str], prefix: str) -> None:
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE TABLE t (run_id TEXT PRIMARY KEY)")
        db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in ids])
        where, params = records_module._starting("run_id", prefix)
        found = {i for (i,) in db.execute(f"SELECT run_id FROM t WHERE {where}", params)}
    finally:
        db.close()
    assert found == {i for i in ids if i.startswith(prefix)}


@pytest.mark.parametrize(("command", "shown"), [
    (["show", "\udcff"], "\\xff"),
    (["show", "c0\udcff"], "c0\\xff"),
    (["diff", UNIQUE, "\udcff"], "\\xff"),
])
def test_a_run_id_that_is_not_utf8_is_no_run_shown_as_typed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str],
        shown: str) -> None:
    """A shell argument whose bytes are not UTF-8 (`$'\\xff'`) reaches pipec with a
    surrogate, which SQLite refuses: it names no run, as any unknown id, and is shown as
    the bytes typed."""
    folder = _store(tmp_path, 3)
    code = main(["runs", *command, "--project", str(folder)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err == f"pipec: no run `{shown}`\n", err
