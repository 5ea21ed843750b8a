"""`pipec run` on a run store it cannot use (a damaged index, a read-only one, a store
deleted during the run) says so as `pipec runs` does: exit 2, no "internal error"."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from model.project import write_project
from pipec.cli import main
from pipec.stdlib.runtime.errors import StoreGone
from pipec.stdlib.runtime.store import ArtifactStore, RunIndex


def _run(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, str]:
    code = main(["run", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_damaged_run_store_cannot_be_read(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = write_project(tmp_path)
    (tmp_path / ".pipec").mkdir()
    (tmp_path / ".pipec" / "index.sqlite").write_bytes(b"garbagegarbage" * 100)
    code, _out, err = _run(capsys, path)
    assert code == 2
    assert f"pipec: the run store `{tmp_path / '.pipec'}` cannot be read (file is not a " \
        "database)" in err
    assert "internal error" not in err


def test_a_read_only_run_store_is_not_writable(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Opened read-only as SQLite opens a file it may not write (chmod does not stop
    root, who may run the tests)."""
    path = write_project(tmp_path)
    RunIndex(tmp_path).close()
    connect = sqlite3.connect

    def read_only(database: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        kwargs.pop("uri", None)
        return connect(f"file:{database}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only)
    code, _out, err = _run(capsys, path)
    assert code == 2
    assert f"pipec: the run store `{tmp_path / '.pipec'}` is not writable (attempt to " \
        "write a readonly database)" in err
    assert "internal error" not in err


def test_a_store_without_permission_is_not_writable(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_project(tmp_path)
    store = tmp_path / ".pipec"

    def refused(self: ArtifactStore, project: Path) -> None:
        raise PermissionError(13, "Permission denied", str(store / "objects"))

    monkeypatch.setattr(ArtifactStore, "__init__", refused)
    code, _out, err = _run(capsys, path)
    assert code == 2
    assert f"pipec: the run store `{store}` is not writable (Permission denied)" in err


def test_a_store_deleted_during_the_run_is_said_so(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    shutil.rmtree(tmp_path / ".pipec")
    with pytest.raises(StoreGone, match=r"the run store `\.pipec/` disappeared during the run"):
        store.put_bytes(b"data")


def test_a_run_store_linked_to_nothing_is_named(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`.pipec` a symlink to a folder that is not there (a disk not mounted): mkdir's
    "File exists" said nothing of it, and `pipec runs` said there was no `.pipec`."""
    path = write_project(tmp_path)
    (tmp_path / ".pipec").symlink_to(tmp_path / "unmounted" / "store")
    code, _out, err = _run(capsys, path)
    assert code == 2
    assert (f"pipec: cannot access `{tmp_path / '.pipec'}`: it is a symlink to "
            f"`{tmp_path / 'unmounted' / 'store'}`, which does not exist") in err
    assert main(["runs", "--project", str(tmp_path)]) == 2
    assert "(`.pipec` is a symlink to `" in capsys.readouterr().err
    assert not (tmp_path / "unmounted").exists()
