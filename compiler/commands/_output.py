"""Output folders of `build` and `docs`.

pipec owns its output folder as a whole: `pipec.atomic.write_tree` builds the new
folder beside it and swaps the two, so that readers (an Airflow scheduler watching
`dags/`, a web server) never see half of a build. That is why the current folder, a
folder above it, or a folder holding the sources being compiled is refused rather
than swapped: the swap would move the user's shell out from under them or copy the
whole project on every build. A symlink is followed: its target is the folder."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

from pipec.atomic import write_tree


def output_problem(output: Path, sources: list[Path]) -> str | None:
    """Why `output` cannot be pipec's output folder, or None."""
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
    return (f"refusing to write into `{output}`: {reason}, and pipec replaces its output "
            "folder as a whole; name a folder of its own, e.g. `-o build/out`")


def write_output(output: Path, files: dict[str, bytes], remove: Iterable[str] = ()) -> bool:
    """write_tree with an environment error (permission, disk full) as a message."""
    try:
        write_tree(output, files, remove)
    except OSError as exc:
        print(f"pipec: cannot write `{output}`: {exc.strerror or exc}; nothing was written",
              file=sys.stderr)
        return False
    return True
