"""Writes that never leave a half-written file: a temporary file in the same folder,
flushed and fsynced, then renamed over the target.

Symlinks are followed: a link named as the target (`dags -> ../airflow/dags`, a `.pipe`
file linked from elsewhere) keeps pointing where it did, and what it points at is
what gets written. Renaming over the link itself would silently turn it into a copy."""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePath


def write_bytes(path: Path, data: bytes) -> None:
    path = followed(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        else:
            os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_tree(target: Path, files: dict[str, bytes], remove: Iterable[str] = ()) -> None:
    """Write a whole output folder or nothing: build it beside the target, then swap.

    Files already in `target` that are not part of `files` are kept, except the file
    names (directly in `target`) listed in `remove`: what an earlier run wrote that this
    one no longer does. A new folder
    gets the mode a plain `mkdir` would give it; an existing one keeps its own.
    """
    target = followed(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        if target.exists():
            shutil.copytree(target, staging, dirs_exist_ok=True, symlinks=True)
            for name in sorted(set(remove) - set(files)):
                if Path(name).name == name and name not in ("", ".", ".."):  # in the folder
                    (staging / name).unlink(missing_ok=True)
        else:  # mkdtemp's folders are private (0700); an output folder is not
            staging.chmod(0o777 & ~current_umask())
        for relative, data in sorted(files.items()):
            if PurePath(relative).is_absolute() or ".." in PurePath(relative).parts:
                raise ValueError(f"{relative!r} is not a path inside `{target}`")
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def followed(path: Path) -> Path:
    """`path` with symlinks resolved (through a chain of links, and in its folders), or
    `path` itself when it is not a link and no folder above it is one."""
    resolved = Path(os.path.realpath(path))
    return resolved if resolved != Path(os.path.abspath(path)) else path


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _swap(staging: Path, target: Path) -> None:
    """Put `staging` where `target` is. An existing folder is exchanged with it in one
    step where the system can (Linux), so a reader (an Airflow scheduler scanning its
    DAG folder) sees the old folder or the new one, never none; elsewhere it is moved
    aside first, which leaves a moment with no folder."""
    if not target.exists():
        os.replace(staging, target)
        return
    if exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now the old folder
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    old.rmdir()
    os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


# renameat2's flag and "the current folder" for its folder descriptors (linux/fs.h).
_RENAME_EXCHANGE, _AT_FDCWD = 2, -100
# What renameat2 answers where it or its flag is not available: use the fallback.
_UNSUPPORTED = frozenset({errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP})


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths atomically (Linux's renameat2 RENAME_EXCHANGE): True when
    done, False where the system or the file system cannot; any other error raises."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library older than glibc 2.28
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint)
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                 _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(second))
