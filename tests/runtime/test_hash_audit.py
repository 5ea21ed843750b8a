"""A cached `pipec run` re-runs exactly the edited stage and everything downstream of it,
even when the edit leaves the data as it was, and nothing for an ownership edit."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pipec
import pytest
from model.project import write_project
from pipec.manifest import build_manifest
from pipec.stdlib.runtime import run_pipeline


def _run(path: Path) -> tuple[dict[str, str], dict[str, Any]]:
    program = pipec.compile(path)
    assert program.ok, [(d.code, d.message) for d in program.diagnostics]
    manifest = build_manifest(program)
    result = run_pipeline(manifest, path.parent, path.parent)
    assert result.status == "succeeded", result.report
    return {s.stage_id: s.status for s in result.stages}, manifest


def _downstream(manifest: dict[str, Any], stage_id: str) -> set[str]:
    found = {stage_id}
    for stage in manifest["stages"]:  # topological order: inputs come first
        if found & set(stage["inputs"]):
            found.add(stage["id"])
    return found


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose every stage ran once."""
    folder = tmp_path_factory.mktemp("cached")
    _run(write_project(folder))
    return folder


def _edited(cached: Path, tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(cached, folder)
    path = folder / "spend.pipe"
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


# Each edit leaves the stage's output bytes as they were: only its definition changed.
SAME_DATA = [
    ("version 1", "version 2", "features.history"),
    ("unique user, at\n", "unique user, at, amount\n", "validate.events"),
    ("amount: float >= 0", "amount: float >= -1", "source.events"),
    ("sha256:ab", "sha256:cd", "train.model"),
    ('code_commit "0123456789abcdef"', 'code_commit "fedcba9876543210"', "train.model"),
    ("rollback previous", "rollback 1", "register.model"),
]


@pytest.mark.parametrize(("old", "new", "stage_id"), SAME_DATA)
def test_an_edit_reruns_its_stage_and_everything_downstream(
        cached: Path, tmp_path: Path, old: str, new: str, stage_id: str) -> None:
    status, manifest = _run(_edited(cached, tmp_path, old, new))
    ran = {sid for sid, s in status.items() if s == "ran"}
    assert ran == _downstream(manifest, stage_id)
    assert set(status.values()) <= {"ran", "skipped (cached)"}


@pytest.mark.parametrize(("old", "new"), [
    ("  train model {\n", "  train model {\n    owner product\n"),
    ("owner data\n    from", "owner ml\n    from"),
    ("  train model {\n", '  train model {\n    description "the model"\n'),
    ("  train model {\n", "  train model {\n    retries 2\n    timeout 1h\n"),
])
def test_an_ownership_or_retry_edit_keeps_the_whole_run_cached(
        cached: Path, tmp_path: Path, old: str, new: str) -> None:
    status, _ = _run(_edited(cached, tmp_path, old, new))
    assert set(status.values()) == {"skipped (cached)"}
