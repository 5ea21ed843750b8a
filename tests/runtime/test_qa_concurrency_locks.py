"""A registry or run store that another process keeps locked past SQLite's busy timeout
(a `pipec` command suspended with Ctrl-Z in the middle of a change, a SQLite shell with a
transaction open): the command says the database is locked and by what, never that it is
damaged, which would send the user to restore a database that is fine.

The lock is held by a connection the test opens (SQLite locks it against another one of
the same process as against another process); the busy timeout is made short, so the
command gives up at once rather than after a minute."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from model.project import write_project
from pipec.cli import main
from pipec.stdlib.runtime import store
from pipec.stdlib.runtime.registry import Registry
from pipec.stdlib.runtime.serialize import sha256
from pipec.stdlib.runtime.store import RunIndex


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(store.connect_wal.__kwdefaults__, "timeout", 0.2)


@contextmanager
def _held(database: Path) -> Iterator[None]:
    """A write transaction open on `database` (as another process's would be)."""
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.close()


def _registry(folder: Path) -> Path:
    registry = Registry(folder)
    try:
        data = b"model bytes"
        registry.register("model", data, sha256(data), run_id="run1",
                          report_sha256="1" * 64, info={}, actor="test")
    finally:
        registry.close()
    return folder / "registry.sqlite"


def _says_locked(capsys: pytest.CaptureFixture[str], code: int, what: str) -> None:
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{what} is locked: another process has held it locked" in err, err
    assert "damaged" not in err and "cannot be read" not in err, err


def test_a_registry_locked_by_another_process_is_not_called_damaged(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = _registry(tmp_path / "registry")
    with _held(database):
        code = main(["registry", "list", "--project", str(tmp_path)])
    _says_locked(capsys, code, f"the registry `{tmp_path / 'registry'}`")


def test_a_registry_locked_during_a_change_is_not_called_unreadable(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry opened, then another process took it before `promote` could."""
    database = _registry(tmp_path / "registry")
    promote = Registry.promote

    def promote_once_taken(self: Registry, *args: object, **kwargs: object) -> object:
        with _held(database):
            return promote(self, *args, **kwargs)

    monkeypatch.setattr(Registry, "promote", promote_once_taken)
    code = main(["registry", "promote", "model@1", "--project", str(tmp_path)])
    _says_locked(capsys, code, f"the registry `{tmp_path / 'registry'}`")


def test_a_run_store_locked_by_another_process_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_project(tmp_path)
    RunIndex(tmp_path).close()
    with _held(tmp_path / ".pipec" / "index.sqlite"):
        code = main(["run", str(path)])
    _says_locked(capsys, code, f"the run store `{tmp_path / '.pipec'}`")
