"""The real `pre-commit try-repo` against this repository, in a temporary git repo
holding a good and a bad `.pipe` file. pre-commit installs pipec into its own
environment from the repository (PyPI must be reachable), so this is slow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES, REPO

pytestmark = pytest.mark.slow

# What `pip install .` needs: the metadata and the folders setup.py maps into `pipec`.
PACKAGE_ENTRIES = {"pyproject.toml", "setup.py", "README.md", ".pre-commit-hooks.yaml",
                   "compiler", "grammar", "backends", "stdlib", "examples"}


def _pre_commit() -> str:
    local = Path(sys.executable).with_name("pre-commit")
    found = str(local) if local.exists() else shutil.which("pre-commit")
    if found is None or shutil.which("git") is None:
        pytest.skip("pre-commit and git are needed")
    return found


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _hook_repo(tmp_path: Path) -> Path:
    """A committed snapshot of this repository's working tree, new files included.

    `pre-commit try-repo` on a dirty checkout commits only tracked files (`git add -u`),
    so hooks and modules not yet committed would be missing; a snapshot sees exactly
    what a user of the working tree sees."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, check=True, capture_output=True, text=True).stdout
    snapshot = tmp_path / "pipec-repo"
    for name in listed.splitlines():
        source = REPO / name
        if name.split("/", 1)[0] not in PACKAGE_ENTRIES or not source.is_file():
            continue
        target = snapshot / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    _git(snapshot, "init", "-q")
    _git(snapshot, "add", ".")
    _git(snapshot, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "s")
    return snapshot


def test_try_repo_fails_the_bad_file(tmp_path: Path) -> None:
    pre_commit = _pre_commit()
    if not (REPO / ".git").exists():
        pytest.skip("the repository is not a git checkout")
    hook_repo = _hook_repo(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(FIXTURES / "LEAK002.ok.pipe", project / "good.pipe")
    shutil.copy(FIXTURES / "LEAK002.pipe", project / "bad.pipe")
    # A staged file named like an option: the hook's `--` keeps it a file.
    shutil.copy(FIXTURES / "LEAK002.ok.pipe", project / "-good.pipe")
    _git(project, "init", "-q")
    _git(project, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        [pre_commit, "try-repo", str(hook_repo), "pipec-check", "--all-files"],
        cwd=project, env=env, capture_output=True, text=True, timeout=1800)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "LEAK002" in output
    assert "bad.pipe" in output
    assert "good.pipe:" not in output


def test_hook_file_declares_both_hooks() -> None:
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    # `--`: pre-commit appends the staged files, and one named `-x.pipe` is a file.
    assert hooks["pipec-check"]["entry"] == "pipec check --with-importers --"
    assert hooks["pipec-fmt"]["entry"] == "pipec fmt --"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["files"] == r"\.pipe$"
