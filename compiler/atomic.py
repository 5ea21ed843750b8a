"""Writes that never leave a half-written file: a temporary file in the same folder,
flushed and fsynced, then renamed over the target.

Symlinks are followed: a link named as the target (`dags -> ../airflow/dags`, a `.pipe`
file linked from elsewhere) keeps pointing where it did, and what it points at is
what gets written. Renaming over the link itself would silently turn it into a copy.
Inside an output folder, a link is followed only to a file in the same folder.

A rewritten file keeps its mode, and its owner and group where the process may give
them away (root); a new file gets the mode a plain `open()` would give it, executable
when it is a script (`#!`)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePath


class PartlyWritten(OSError):
    """A rename failed after others had succeeded: `written` (names inside the output
    folder) hold the new build, the other files are as they were."""

    def __init__(self, cause: OSError, written: list[str]) -> None:
        super().__init__(cause.errno, cause.strerror, cause.filename)
        self.written = written


@contextlib.contextmanager
def _terminations_raise() -> Iterator[None]:
    """SIGTERM (a cancelled CI job, `kill`) as an exception while files are written, so
    the cleanup below runs: its default action ends the process at once, leaving the
    half-written temporary files behind for good. Only where nothing else handles it
    (the main thread, the default action)."""
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            yield
            return
        signal.signal(signal.SIGTERM, _exit_on_signal)
    except ValueError:  # not the main thread, where signals cannot be set
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # the status a shell shows for a process it killed


def write_bytes(path: Path, data: bytes) -> None:
    """Replace the file at `path` (through a symlink) with `data` in one rename.

    The new file keeps the old one's mode, owner and group (the owner only where the
    process may give files away: root). It is a new file all the same: another hard
    link to the old one is no longer a link to `path`, and keeps the old content."""
    path = followed(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _terminations_raise():
        temp = _written_beside(path, data)
        try:
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_tree(target: Path, files: dict[str, bytes], remove: Iterable[str] = ()) -> None:
    """Write `files` (paths relative to `target`) into the output folder `target`.

    An existing folder is written into, never replaced: it may be a mount point (an
    Airflow `dags/` volume), and it may hold files pipec did not write, which are not
    touched. Every file is first written to a hidden temporary file beside its
    destination; only when all are written are they renamed into place, one after the
    other. A failure before that removes the temporary files (and any subfolder made
    for them) and leaves the folder as it was. Then the names (directly in `target`)
    listed in `remove` go: what an earlier run wrote that this one no longer does.

    A folder that does not exist yet is built complete beside its place and renamed
    into it, with the mode a plain `mkdir` would give it.
    """
    _refuse_outside(target, files)
    target = followed(target)
    with _terminations_raise():
        if target.is_dir():
            _write_into(target, files, set(remove) - set(files))
        else:
            _create(target, files)


def followed(path: Path) -> Path:
    """`path` with symlinks resolved (through a chain of links, and in its folders), or
    `path` itself when it is not a link and no folder above it is one."""
    resolved = Path(os.path.realpath(path))
    return resolved if resolved != Path(os.path.abspath(path)) else path


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def inside(relative: str) -> bool:
    """Whether `relative` names a place inside a folder: relative, no `..`, not empty,
    and no Windows drive or backslash (a name that means a path elsewhere)."""
    parts = PurePath(relative).parts
    return bool(parts) and not PurePath(relative).is_absolute() and ".." not in parts \
        and "\\" not in relative and ":" not in parts[0]


def _refuse_outside(target: Path, files: dict[str, bytes]) -> None:
    for relative in files:
        if not inside(relative):
            raise ValueError(f"{relative!r} is not a path inside `{target}`")


def _create(target: Path, files: dict[str, bytes]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        staging.chmod(0o777 & ~current_umask())  # mkdtemp's folders are private (0700)
        for relative, data in sorted(files.items()):
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            _fill(os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                          _new_mode(data)), data)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_into(target: Path, files: dict[str, bytes], stale: set[str]) -> None:
    made: list[Path] = []  # subfolders made for the new files, outermost first
    staged: list[tuple[str, Path, Path]] = []  # (name in target, temp file, destination)
    try:
        for relative, data in sorted(files.items()):
            destination = followed(target / relative)
            _refuse_leaving(target, destination, relative)
            _refuse_non_file(destination, relative)
            _make_folders(destination.parent, made)
            staged.append((relative, _written_beside(destination, data), destination))
    except BaseException:
        for _, temp, _ in staged:
            temp.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    _commit(target, staged, stale)


def _make_folders(folder: Path, made: list[Path]) -> None:
    """Make `folder` and the missing folders above it, adding each to `made` as it is."""
    for each in reversed((folder, *folder.parents)):
        if not each.is_dir():
            each.mkdir()
            made.append(each)


def _refuse_leaving(target: Path, destination: Path, relative: str) -> None:
    """A link inside the folder that points out of it (at a source, at another team's
    file) would have pipec write there: refused before anything is written."""
    inside = Path(os.path.realpath(target))
    if not Path(os.path.realpath(destination)).is_relative_to(inside):
        raise OSError(errno.EEXIST, f"`{relative}` there is a link to a file outside the "
                                    "folder, which pipec does not write through")


def _refuse_non_file(destination: Path, relative: str) -> None:
    """A rename would replace a FIFO or a device, and cannot replace a folder; neither is
    a file an earlier build wrote, so it is refused before anything is written."""
    try:
        mode = destination.stat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise OSError(errno.EEXIST, f"`{relative}` there is not a regular file")


def _commit(target: Path, staged: list[tuple[str, Path, Path]], stale: set[str]) -> None:
    """Rename every temporary file over its destination, then remove the stale names.
    A failure after the first rename is a PartlyWritten naming what was replaced."""
    written: list[str] = []
    try:
        for relative, temp, destination in staged:
            os.replace(temp, destination)
            written.append(relative)
        _remove_stale(target, stale)
    except OSError as exc:
        if not written:
            raise
        raise PartlyWritten(exc, written) from exc
    finally:
        for _, temp, _ in staged[len(written):]:  # the ones not renamed
            temp.unlink(missing_ok=True)


def _remove_stale(target: Path, names: set[str]) -> None:
    for name in sorted(names):
        if Path(name).name != name or name in ("", ".", ".."):  # not directly in the folder
            continue
        path = target / name
        if path.is_symlink() or path.is_file():  # a folder or a FIFO is not a page pipec wrote
            path.unlink(missing_ok=True)


def _new_mode(data: bytes) -> int:
    """A new file's mode before the umask: a script (`#!`, the local target's
    `run_<pipeline>.py`) is executable, as `./run_p.py` expects; any other file is not."""
    return 0o777 if data.startswith(b"#!") else 0o666


def _written_beside(path: Path, data: bytes) -> Path:
    """A hidden temporary file beside `path`, holding `data` on disk, with the mode,
    owner and group `path` has (or a new file's mode)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        _fill(fd, data)
        _take_attributes(temp, path, _new_mode(data))
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _fill(fd: int, data: bytes) -> None:
    """Write `data` to the new file open as `fd`, on disk before it is renamed: else a
    crash soon after the rename may leave the name with an empty file."""
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _take_attributes(temp: Path, path: Path, new_mode: int = 0o666) -> None:
    try:
        old = path.stat()
    except FileNotFoundError:  # mkstemp's files are private (0600); a new file is not
        temp.chmod(new_mode & ~current_umask())
        return
    _give_owner(temp, old.st_uid, old.st_gid)
    temp.chmod(old.st_mode & 0o777)  # after chown, which may clear mode bits


def _give_owner(temp: Path, uid: int, gid: int) -> None:
    """Give `temp` that owner and group, or failing that (not root) that group, which a
    member of it may set; failing both, `temp` stays the process's."""
    if not hasattr(os, "chown"):
        return
    for owner in (uid, -1):
        try:
            os.chown(temp, owner, gid)
            return
        except PermissionError:
            continue
