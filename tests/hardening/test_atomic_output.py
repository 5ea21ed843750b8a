"""A rebuilt output folder replaces the old one in one step: a reader (an Airflow
scheduler scanning its DAG folder) sees the old folder or the new one, never none."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pipec import atomic

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="renameat2 is Linux's; elsewhere the swap falls back")


def test_a_rebuild_replaces_the_folder_and_leaves_nothing_beside_it(tmp_path):
    out = tmp_path / "out"
    atomic.write_tree(out, {"a.py": b"old", "lineage.json": b"{}"})
    atomic.write_tree(out, {"a.py": b"new"}, remove=["lineage.json"])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {"a.py": b"new"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@linux_only
def test_exchange_swaps_two_folders(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "f").write_text("1")
    (second / "s").write_text("2")
    assert atomic.exchange(first, second)
    assert [p.name for p in first.iterdir()] == ["s"]
    assert [p.name for p in second.iterdir()] == ["f"]


@linux_only
def test_the_old_folder_is_never_moved_away(tmp_path, monkeypatch):
    """Moving the old folder aside before moving the new one in leaves a moment with no
    folder at all; on Linux the swap is one exchange and renames nothing."""
    out = tmp_path / "out"
    atomic.write_tree(out, {"dag.py": b"old"})

    def no_rename(*_args):
        raise AssertionError("the output folder was renamed away")

    monkeypatch.setattr(atomic.os, "replace", no_rename)
    atomic.write_tree(out, {"dag.py": b"new"})
    assert (out / "dag.py").read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_without_exchange_the_fallback_still_replaces_the_folder(tmp_path, monkeypatch):
    out = tmp_path / "out"
    atomic.write_tree(out, {"dag.py": b"old"})
    monkeypatch.setattr(atomic, "exchange", lambda *_: False)
    atomic.write_tree(out, {"dag.py": b"new"})
    assert (out / "dag.py").read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize("name", ["../outside.txt", "sub/../../outside.txt", "/tmp/abs.txt"])
def test_write_tree_writes_nothing_outside_its_folder(tmp_path: Path, name: str) -> None:
    """A file name that leaves the folder is refused before the swap: nothing is written,
    there or inside."""
    target = tmp_path / "out"
    with pytest.raises(ValueError, match="is not a path inside"):
        atomic.write_tree(target, {"ok.txt": b"ok", name: b"x"})
    assert not target.exists() and not (tmp_path / "outside.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == []
