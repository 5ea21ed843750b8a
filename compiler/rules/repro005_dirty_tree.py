"""REPRO005: `code_commit auto` while the working tree is dirty or not a git checkout.

Reported by `build` and `run` (they call `repro005`), never by `check`: the answer
depends on the state of the repository at build time, not on the file.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.manifest import DEFAULT_REGISTRY
from pipec.model import Program
from pipec.rules import document

DOC = '''
## What it does
When the pipeline says `code_commit auto`, `build` and `run` record the commit of the
working tree. This warns when the tree has uncommitted changes (`git status
--porcelain` is not empty) or is not a git checkout at all, so the recorded commit
would not be the code that ran. What pipec writes itself is not a change: run stores
(`.pipec/`), the program's local registries and the build's output folder. `check`
does not report it.

## Why is this bad?
The lineage would claim a commit that does not contain the code used to build the
model; reproducing the model from that commit gives a different result.

## Example
```pipe
pipeline p {
  code_commit auto
}
```

## Use instead
```pipe
pipeline p {
  code_commit "4b1c0f9e2d7a8c6b5a49382716f5e4d3c2b1a0f9"
}
```
'''

document("REPRO005", "warning", "code_commit auto on a dirty working tree or outside git", DOC,
         phase="build")


def repro005(program: Program, repo_dir: Path, outputs: Iterable[Path] = ()) -> list[Diagnostic]:
    """The REPRO005 warnings for building `program` from the checkout at `repo_dir`.
    What pipec itself writes there (run stores, the program's local registries, the
    build's `outputs`) is not a change to the code."""
    setting = program.pipeline_setting("code_commit")
    if setting is None or not isinstance(setting.value, n.Word) or setting.value.text != "auto":
        return []
    state = _git_state(repo_dir, [*_local_registries(program, repo_dir), *outputs])
    if state is None:
        return []
    return [warning("REPRO005", f"`code_commit auto`, but {state}: the recorded commit would "
                    "not be the code that ran", setting.span,
                    "commit your changes before building, or pin `code_commit \"SHA\"`")]


def _local_registries(program: Program, base_dir: Path) -> list[Path]:
    """The folders of the program's `registry local` (the default one included)."""
    found = []
    for block in program.blocks("register"):
        registry = block.first(n.Registry)
        if registry is None or registry.kind == "local":
            found.append(base_dir / (registry.location.value if registry else DEFAULT_REGISTRY))
    return found


def _excluded(top: Path, owned: list[Path]) -> list[str]:
    """Pathspecs that leave out every run store and the owned paths inside the checkout
    (`git status` refuses a path outside it)."""
    # Imported here: `pipec check` loads every rule module, and needs no runtime.
    from pipec.stdlib.runtime.store import STORE_DIR

    specs = [f":(top,exclude,glob)**/{STORE_DIR}/**"]
    for path in owned:
        try:
            inside = Path(os.path.realpath(path)).relative_to(os.path.realpath(top))
        except ValueError:
            continue
        if inside.parts:
            specs.append(f":(top,exclude,literal){inside.as_posix()}")
    return specs


def _git_state(repo_dir: Path, owned: list[Path]) -> str | None:
    """None when clean, apart from run stores and the `owned` paths; otherwise what is
    wrong, in words."""
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=repo_dir,
                             capture_output=True, text=True, check=False)
        if top.returncode != 0 or not top.stdout.strip():
            return f"`{repo_dir.name or repo_dir}` is not a git checkout"
        status = subprocess.run(["git", "status", "--porcelain", "--", ":/",
                                 *_excluded(Path(top.stdout.strip()), owned)],
                                cwd=repo_dir, capture_output=True, text=True, check=False)
    except OSError:
        return "git is not available to read the commit"
    changed = [line for line in status.stdout.splitlines() if line.strip()]
    if status.returncode != 0:
        return "`git status` failed"
    if changed:
        return f"the working tree has {len(changed)} uncommitted change" + \
            ("s" if len(changed) != 1 else "")
    return None
