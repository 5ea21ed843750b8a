"""An output folder is written into, never replaced: it may be a mounted Airflow `dags/`
volume, and it may hold files pipec did not write, which stay exactly as they are. Every
file is complete before any is renamed into place; a failure before the renames leaves
the folder as it was. `write_bytes` (`pipec fmt`) keeps a file's owner and group."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pipec import atomic
from pipec.commands._output import write_output

NOBODY = 65534
as_root = pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0,
                             reason="only root may give a file to another user")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*.tmp")]


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An output folder an earlier build wrote, with another team's DAG in it."""
    folder = tmp_path / "out"
    atomic.write_tree(folder, {"dag.py": b"old", "lineage.json": b"{}"})
    (folder / "their_dag.py").write_bytes(b"theirs")
    (folder / "their_dag.py").chmod(0o640)
    return folder


def test_an_existing_folder_keeps_its_inode(out: Path) -> None:
    before = out.stat().st_ino
    atomic.write_tree(out, {"dag.py": b"new", "lineage.json": b"{}"})
    assert out.stat().st_ino == before
    assert (out / "dag.py").read_bytes() == b"new"
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # nothing left beside it


def test_a_foreign_file_keeps_its_inode_content_and_mode(out: Path) -> None:
    theirs = out / "their_dag.py"
    before = theirs.stat()
    atomic.write_tree(out, {"dag.py": b"new", "lineage.json": b"{}"})
    after = theirs.stat()
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert theirs.read_bytes() == b"theirs"


@as_root
@pytest.mark.parametrize("name", ["their_dag.py", "dag.py"])
def test_a_file_keeps_its_owner_whether_rewritten_or_not(out: Path, name: str) -> None:
    """Another team's DAG is not touched; pipec's own, rewritten, is given back to the
    user who owned it (the Airflow user, say) when pipec runs as root."""
    os.chown(out / name, NOBODY, NOBODY)
    atomic.write_tree(out, {"dag.py": b"new"})
    after = (out / name).stat()
    assert (after.st_uid, after.st_gid) == (NOBODY, NOBODY)


def test_a_hard_link_to_a_foreign_file_stays_one(out: Path, tmp_path: Path) -> None:
    link = tmp_path / "elsewhere.py"
    os.link(out / "their_dag.py", link)
    atomic.write_tree(out, {"dag.py": b"new"})
    assert os.path.samefile(out / "their_dag.py", link)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_the_folder_is_left_alone(out: Path) -> None:
    os.mkfifo(out / "pipe")
    before = (out / "pipe").stat().st_ino
    atomic.write_tree(out, {"dag.py": b"new"})
    assert stat.S_ISFIFO((out / "pipe").stat().st_mode)
    assert (out / "pipe").stat().st_ino == before
    assert (out / "dag.py").read_bytes() == b"new"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_as_a_build_file_is_a_clean_error(out: Path, capsys) -> None:
    """Something in the way that is not a file is refused before anything is written,
    with a message, not a Python list of (source, destination, error) tuples."""
    (out / "lineage.json").unlink()
    os.mkfifo(out / "lineage.json")
    before = _snapshot(out)
    assert not write_output(out, {"dag.py": b"new", "lineage.json": b"{}"})
    err = capsys.readouterr().err
    assert err == (f"pipec: cannot write `{out}`: `lineage.json` there is not a regular "
                   "file; nothing was written\n")
    assert _snapshot(out) == before and not _temps(out)


def test_a_failure_while_writing_leaves_the_folder_as_it_was(out: Path, monkeypatch) -> None:
    """The disk fills up at the second of three files: the first one's temporary file,
    and the subfolder made for the third, go again; no file has changed."""
    before = _snapshot(out)
    listing = sorted(p.name for p in out.iterdir())
    calls = []

    def full_at_the_second(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full_at_the_second)
    with pytest.raises(OSError, match="No space left"):
        atomic.write_tree(out, {"dag.py": b"new", "lineage.json": b"{new}",
                                "sub/more.py": b"more"})
    assert len(calls) == 2
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == listing and not _temps(out)


def test_a_failed_rename_names_what_was_written(out: Path, monkeypatch, capsys) -> None:
    """After the first rename nothing can be taken back: the message says which files
    are new, rather than that nothing was written."""
    replace = os.replace

    def busy_at_the_second(source, destination) -> None:
        if Path(destination).name == "lineage.json":
            raise OSError(16, "Device or resource busy")
        replace(source, destination)

    monkeypatch.setattr(atomic.os, "replace", busy_at_the_second)
    assert not write_output(out, {"dag.py": b"new", "lineage.json": b"{new}"})
    assert capsys.readouterr().err == (f"pipec: cannot write `{out}`: Device or resource "
                                       "busy; dag.py had been written by then\n")
    assert (out / "dag.py").read_bytes() == b"new" and not _temps(out)


def test_remove_takes_the_old_names_and_only_them(out: Path) -> None:
    before = out.stat().st_ino
    (out / "old_page.md").mkdir()  # a folder of that name is not a page pipec wrote
    atomic.write_tree(out, {"dag.py": b"new"}, remove=["lineage.json", "old_page.md",
                                                       "../their_dag.py", "gone.md"])
    assert sorted(p.name for p in out.iterdir()) == ["dag.py", "old_page.md", "their_dag.py"]
    assert out.stat().st_ino == before


def test_a_new_folder_is_created_complete(tmp_path: Path, monkeypatch) -> None:
    """It appears in one rename, with every file in it already on disk (a crash right
    after the rename leaves no empty file), with the modes of a plain mkdir and open()."""
    target = tmp_path / "deep" / "out"
    seen = []
    synced = []
    replace, fsync = os.replace, os.fsync

    def look_then_rename(source, destination) -> None:
        seen.append((_snapshot(Path(source)), len(synced)))
        replace(source, destination)

    monkeypatch.setattr(atomic.os, "replace", look_then_rename)
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: synced.append(fsync(fd)))
    files = {"dag.py": b"dag", "sub/page.md": b"page"}
    atomic.write_tree(target, files)
    assert seen == [(files, 2)] and _snapshot(target) == files
    assert [p.name for p in target.parent.iterdir()] == ["out"]
    mask = atomic.current_umask()
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((target / "dag.py").stat().st_mode) == 0o666 & ~mask


def test_a_rewritten_file_keeps_its_mode_and_a_new_one_follows_the_umask(out: Path,
                                                                          monkeypatch) -> None:
    (out / "dag.py").chmod(0o600)
    monkeypatch.setattr(atomic, "current_umask", lambda: 0o027)
    atomic.write_tree(out, {"dag.py": b"new", "added.py": b"added"})
    assert stat.S_IMODE((out / "dag.py").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "added.py").stat().st_mode) == 0o640


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("mount") is None,
                    reason="bind mounts are Linux's")
def test_a_mounted_folder_is_written_through_to_the_host_side(tmp_path: Path) -> None:
    """docker-compose's `./dags:/opt/airflow/dags`: the folder is a mount point, which
    cannot be renamed, and the host side must see the new files."""
    host, mounted = tmp_path / "host", tmp_path / "mounted"
    host.mkdir()
    mounted.mkdir()
    if subprocess.run(["mount", "--bind", str(host), str(mounted)],
                      capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot bind-mount here (not root, or no mount namespace)")
    try:
        atomic.write_tree(mounted, {"dag.py": b"new"})
        assert (host / "dag.py").read_bytes() == b"new"
    finally:
        subprocess.run(["umount", str(mounted)], check=True)


@pytest.mark.parametrize("name", ["../outside.txt", "sub/../../outside.txt", "/tmp/abs.txt"])
@pytest.mark.parametrize("exists", [False, True])
def test_write_tree_writes_nothing_outside_its_folder(tmp_path: Path, name: str,
                                                      exists: bool) -> None:
    """A file name that leaves the folder is refused before anything is written, there
    or inside."""
    target = tmp_path / "out"
    if exists:
        target.mkdir()
    with pytest.raises(ValueError, match="is not a path inside"):
        atomic.write_tree(target, {"ok.txt": b"ok", name: b"x"})
    assert not (tmp_path / "outside.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == (["out"] if exists else [])
    assert not exists or not list(target.iterdir())


@as_root
def test_write_bytes_keeps_the_owner_and_group(tmp_path: Path) -> None:
    path = tmp_path / "flights.pipe"
    path.write_bytes(b"old")
    os.chown(path, NOBODY, NOBODY)
    path.chmod(0o640)
    atomic.write_bytes(path, b"new")
    after = path.stat()
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == (NOBODY, NOBODY, 0o640)
    assert path.read_bytes() == b"new"


def test_write_bytes_writes_when_the_owner_cannot_be_given(tmp_path: Path,
                                                          monkeypatch) -> None:
    """A user other than root cannot give a file away: the file is written all the
    same, as that user's."""
    path = tmp_path / "flights.pipe"
    path.write_bytes(b"old")
    tried = []

    def refused(_path, uid: int, gid: int) -> None:
        tried.append((uid, gid))
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(atomic.os, "chown", refused)
    atomic.write_bytes(path, b"new")
    owner = path.stat()
    assert tried == [(owner.st_uid, owner.st_gid), (-1, owner.st_gid)]  # then the group
    assert path.read_bytes() == b"new" and not _temps(tmp_path)


def test_write_bytes_gives_a_new_file_the_mode_open_would(tmp_path: Path,
                                                         monkeypatch) -> None:
    monkeypatch.setattr(atomic, "current_umask", lambda: 0o077)
    atomic.write_bytes(tmp_path / "new.pipe", b"new")
    assert stat.S_IMODE((tmp_path / "new.pipe").stat().st_mode) == 0o600


@pytest.mark.parametrize("command, name", [(["build", "--target", "argo"], "lineage.json"),
                                           (["docs"], "manifest.json")])
def test_a_fifo_where_the_old_manifest_was_is_refused_not_waited_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str],
        name: str) -> None:
    """Reading an earlier build's manifest from a FIFO would block for ever: it is not
    read, and the write refuses the FIFO (exit 2)."""
    from pipec.cli import main

    program = Path(__file__).parents[2] / "examples" / "flights" / "flights.pipe"
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / name)
    assert main([command[0], str(program), *command[1:], "-o", str(out)]) == 2
    assert "is not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("exists", [True, False])
def test_sigterm_while_writing_leaves_no_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exists: bool) -> None:
    """A cancelled job (SIGTERM) half-way through the files: the process ends with 143,
    and neither a hidden temporary file nor a staging folder is left behind."""
    import signal

    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    target = tmp_path / "out"
    if exists:
        target.mkdir()
        (target / "a.txt").write_bytes(b"old")
    real_fill, calls = atomic._fill, []

    def fill_then_terminate(fd: int, data: bytes) -> None:
        real_fill(fd, data)
        calls.append(data)
        if len(calls) == 2:
            # Without a handler SIGTERM would end the test run itself: fail instead.
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(atomic, "_fill", fill_then_terminate)
    try:
        with pytest.raises(SystemExit) as stopped:
            atomic.write_tree(target, {"a.txt": b"new", "b.txt": b"b", "c.txt": b"c"})
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped.value.code == 143
    assert signal.getsignal(signal.SIGTERM) is previous
    left = sorted(p.name for p in tmp_path.rglob("*"))
    assert left == (["a.txt", "out"] if exists else [])
    if exists:
        assert (target / "a.txt").read_bytes() == b"old"


def test_a_link_in_the_folder_to_a_file_outside_is_not_written_through(
        tmp_path: Path) -> None:
    """`out/lineage.json -> ../teams.pipe`: writing through it would overwrite the user's
    source. Refused, nothing written; a link to a file inside the folder is fine."""
    source = tmp_path / "teams.pipe"
    source.write_bytes(b"team ml {}\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "lineage.json").symlink_to("../teams.pipe")
    with pytest.raises(OSError, match="is a link to a file outside the folder"):
        atomic.write_tree(out, {"dag.py": b"dag", "lineage.json": b"{}"})
    assert source.read_bytes() == b"team ml {}\n" and not (out / "dag.py").exists()
    (out / "lineage.json").unlink()
    (out / "real.json").write_bytes(b"old")
    (out / "lineage.json").symlink_to("real.json")
    atomic.write_tree(out, {"lineage.json": b"{}"})
    assert (out / "real.json").read_bytes() == b"{}"
