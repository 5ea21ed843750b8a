"""Output folders of `build` and `docs`.

`pipec.atomic.write_tree` writes pipec's files into an existing folder (never replacing
the folder, which may be a mounted Airflow `dags/` volume, nor touching files it did not
write), each complete before any is renamed into place; a new folder is made complete.
The current folder, a folder above it, or a folder holding the sources being compiled
is still refused: there generated files would mix with the user's own, and pipec
writes over the files it names (and `docs` removes the pages an earlier run wrote),
which there may be the user's. A symlink is followed: its target is the folder."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from pipec.atomic import PartlyWritten, write_tree


def output_problem(output: Path, sources: list[Path]) -> str | None:
    """Why `output` cannot be pipec's output folder, or None."""
    looping = _symlink_loop(output)
    if looping is not None:
        return (f"`{looping}` is a symbolic link that leads back to itself (a loop); point "
                "it at a folder, or remove it")
    real = Path(os.path.realpath(output))
    if real.exists() and not real.is_dir():
        return f"`{output}` exists and is not a folder"
    blocking = next((p for p in real.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        return f"`{output}` cannot be created: `{blocking}` is a file"
    reason = None
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        reason = "it is the current folder" if real == cwd else "it holds the current folder"
    holding = next((s for s in sources if real in Path(os.path.realpath(s)).parents), None)
    if reason is None and holding is not None:
        reason = f"it holds the source `{holding}`"
    if reason is None:
        return None
    return (f"refusing to write into `{output}`: {reason}, and pipec writes over the "
            "files it names there; name a folder of its own, e.g. `-o build/out`")


def _symlink_loop(output: Path) -> Path | None:
    """The first folder on the way to `output` (or `output` itself) that is a symlink
    loop, or None. `realpath` leaves a loop unresolved, and creating the folder would
    then fail with a misleading "Not a directory"."""
    for path in [*reversed(output.parents), output]:
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return path
    return None


def write_output(output: Path, files: dict[str, bytes], remove: Iterable[str] = ()) -> bool:
    """write_tree with an environment error (permission, disk full) as a message."""
    try:
        write_tree(output, files, remove)
    except PartlyWritten as exc:
        print(f"pipec: cannot write `{output}`: {exc.strerror or exc}; "
              f"{', '.join(exc.written)} had been written by then", file=sys.stderr)
        return False
    except OSError as exc:
        print(f"pipec: cannot write `{output}`: {exc.strerror or exc}; nothing was written",
              file=sys.stderr)
        return False
    return True
