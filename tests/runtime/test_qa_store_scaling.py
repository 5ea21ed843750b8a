"""The run records scale with what a command shows, not with how many runs the store
holds: `registries()` (what `pipec registry` and `pipec lineage --project` fall back on)
parses no record, `list(50)` reads the newest fifty through the `created_at` index, a
store made before either gets them when first opened (with the registries of the
records it already holds), and reading a store no run was recorded in writes nothing.

Work is counted, never timed: records decoded (`json.loads` in the records module) and
SQLite virtual-machine steps (a progress handler), on a smaller and a larger store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pipec.cli import main
from pipec.stdlib.runtime import records as records_module
from pipec.stdlib.runtime.records import RunRecords

# SQLite steps between two calls of the progress handler: a count of work, in units.
STEPS = 100


def _record(number: int, registries: list[str] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"run_id": f"run{number:05d}", "pipeline": "p",
                              "status": "succeeded", "stages": [],
                              "report": {"note": "x" * 2000}}  # a record spills its page
    if registries:
        record["registries"] = registries
    return record


def _registries_of(number: int) -> list[str] | None:
    """Some runs register, to one or two of a few registries, in an order that moves
    each registry to the front again and again."""
    if number % 3:
        return None
    return sorted({f"reg{number % 4}", f"reg{number % 5}"})


def _store(folder: Path, runs: int) -> Path:
    records = RunRecords(folder)
    try:
        for number in range(runs):
            records.write(_record(number, _registries_of(number)))
    finally:
        records.close()
    return folder


def _old_registries(folder: Path) -> list[str]:
    """What `registries()` answered before it had a table: every record parsed, the
    most recent first, each folder once."""
    db = sqlite3.connect(folder / ".pipec" / "index.sqlite")
    try:
        rows = db.execute("SELECT record_json FROM run_records ORDER BY created_at DESC")
        found: list[str] = []
        for (text,) in rows:
            found += [folder_ for r in json.loads(text).get("registries") or []
                      if (folder_ := str(folder / r)) not in found]
        return found
    finally:
        db.close()


@contextmanager
def _counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts records decoded by the records module and SQLite steps of every query."""
    counts = {"decoded": 0, "steps": 0}
    loads = json.loads

    def counting_loads(*args: Any, **kwargs: Any) -> Any:
        counts["decoded"] += 1
        return loads(*args, **kwargs)

    def step() -> int:
        counts["steps"] += 1
        return 0  # go on

    connect = records_module.connect_wal

    def counting_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, **kwargs)
        db.set_progress_handler(step, STEPS)
        return db

    with monkeypatch.context() as patch:
        patch.setattr(records_module.json, "loads", counting_loads)
        patch.setattr(records_module, "connect_wal", counting_connect)
        yield counts


def _work(folder: Path, monkeypatch: pytest.MonkeyPatch,
          call: Callable[[RunRecords], object]) -> dict[str, int]:
    with _counted(monkeypatch) as counts:
        records = RunRecords(folder)  # opened (its schema checked) alike for either store
        try:
            call(records)
        finally:
            records.close()
    return counts


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store of 100 runs and one of 400."""
    return (_store(tmp_path_factory.mktemp("small"), 100),
            _store(tmp_path_factory.mktemp("large"), 400))


def test_registries_parses_no_record_however_many_runs(
        stores: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    small, large = (_work(folder, monkeypatch, RunRecords.registries) for folder in stores)
    assert small["decoded"] == large["decoded"] == 0, (small, large)
    assert large["steps"] <= small["steps"] + 1, (small, large)


def test_registries_answers_as_parsing_every_record_did(stores: tuple[Path, Path]) -> None:
    for folder in stores:
        records = RunRecords(folder)
        try:
            assert records.registries() == _old_registries(folder)
        finally:
            records.close()


def test_listing_the_newest_runs_does_not_grow_with_the_store(
        stores: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    small, large = (_work(folder, monkeypatch, lambda r: r.list(50)) for folder in stores)
    assert small["decoded"] == large["decoded"] == 0, (small, large)
    assert large["steps"] <= small["steps"] + 1, (small, large)


def test_listing_shows_each_run_with_its_latest_record(tmp_path: Path) -> None:
    """The newest first by the first record; a continued run with its continuation's
    status, sha256 and time."""
    records = RunRecords(_store(tmp_path, 60))
    try:
        first = records.get("run00010")
        assert first is not None
        records.write(first | {"status": "failed",
                               "stages": [{"stage_id": "train.m", "status": "failed"}]})
        rows = records.list(50)
        assert [row["run_id"] for row in rows] == [f"run{n:05d}" for n in range(59, 9, -1)]
        continued = rows[-1]
        latest = records.db.execute(
            "SELECT status, record_sha256, created_at FROM run_continuations").fetchone()
        assert (continued["status"], continued["record_sha256"],
                continued["created_at"]) == tuple(latest)
        assert len(records.list(None)) == records.count() == 60
    finally:
        records.close()


def _make_old(folder: Path) -> None:
    """The store as a pipec from before the registries table and the created_at index
    left it, with a record a disk damaged."""
    db = sqlite3.connect(folder / ".pipec" / "index.sqlite", isolation_level=None)
    try:
        db.execute("DROP TRIGGER run_records_registries")
        db.execute("DROP TABLE run_registries")
        db.execute("DROP INDEX run_records_created")
        db.execute("INSERT INTO run_records VALUES ('damaged', 'p', 'succeeded', ?, "
                   "'{not json', 0)", ("0" * 64,))
    finally:
        db.close()


def test_a_store_made_before_the_registries_table_gets_it_from_its_records(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _store(tmp_path, 90)
    before = _old_registries(folder)
    _make_old(folder)
    records = RunRecords(folder)
    try:
        with _counted(monkeypatch) as counts:
            found = records.registries()
        assert counts["decoded"] == 0
        # The damaged record (not JSON) names no registry; the others as parsed.
        assert found == before and len(found) == 5
        records.write(_record(90, ["elsewhere"]))
        assert records.registries() == [str(folder / "elsewhere"), *found]
        assert [row["run_id"] for row in records.list(2)] == ["run00090", "run00089"]
    finally:
        records.close()
    indexes = sqlite3.connect(folder / ".pipec" / "index.sqlite").execute(
        "SELECT name FROM sqlite_master WHERE name = 'run_records_created'").fetchall()
    assert indexes == [("run_records_created",)]


OPEN_AND_WRITE = """
import sys
from pathlib import Path
from pipec.stdlib.runtime.records import RunRecords
records = RunRecords(Path(sys.argv[1]))
records.write({"run_id": "new" + sys.argv[2], "pipeline": "p", "status": "succeeded",
               "stages": [], "registries": ["from" + sys.argv[2]]})
print(len(records.registries()))
records.close()
"""


def test_processes_opening_an_old_store_at_once_fill_the_table_once(tmp_path: Path) -> None:
    folder = _store(tmp_path, 30)
    before = _old_registries(folder)
    _make_old(folder)
    processes = [subprocess.Popen([sys.executable, "-c", OPEN_AND_WRITE, str(folder), str(n)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for n in range(4)]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    records = RunRecords(folder)
    try:
        found = records.registries()
    finally:
        records.close()
    assert sorted(found[:4]) == sorted(str(folder / f"from{n}") for n in range(4))
    assert found[4:] == before


def _tree(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def test_reading_a_store_no_run_was_recorded_in_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / ".pipec").mkdir()
    records = RunRecords(tmp_path)
    try:
        assert (records.list(), records.registries(), records.count(),
                records.get("run1"), records.unrecorded("run1")) == ([], [], 0, None, None)
    finally:
        records.close()
    assert _tree(tmp_path) == [".pipec"]


def test_runs_commands_in_an_empty_store_write_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".pipec").mkdir()
    for command in (["runs"], ["runs", "list"], ["runs", "show", "zzz"],
                    ["registry", "list"], ["lineage", "m@1"]):
        main([*command, "--project", str(tmp_path)])
        capsys.readouterr()
    assert _tree(tmp_path) == [".pipec"]
    code = main(["runs", "show", "zzz", "--project", str(tmp_path)])
    assert code == 2 and "holds no run record yet" in capsys.readouterr().err
    # A list of no runs says so rather than printing nothing; as JSON it is `[]`.
    assert main(["runs", "--project", str(tmp_path)]) == 0
    assert "no runs recorded yet in" in capsys.readouterr().err
    assert main(["runs", "--format", "json", "--project", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == "[]"


def test_an_old_store_pipec_may_not_write_is_read_as_it_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy of an old store that cannot be written (a read-only mount): the table and
    index cannot be added, and the records are read without them, as before."""
    folder = _store(tmp_path, 40)
    before = _old_registries(folder)
    _make_old(folder)
    connect = records_module.connect_wal

    def read_only(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, **kwargs)
        db.execute("PRAGMA query_only = 1")
        return db

    monkeypatch.setattr(records_module, "connect_wal", read_only)
    records = RunRecords(folder)
    try:
        assert records.registries() == before
        assert [row["run_id"] for row in records.list(2)] == ["run00039", "run00038"]
        assert records.count() == 41 and records.get("run00001") is not None
    finally:
        records.close()
    tables = sqlite3.connect(folder / ".pipec" / "index.sqlite").execute(
        "SELECT name FROM sqlite_master WHERE name LIKE 'run_regist%'").fetchall()
    assert tables == []
