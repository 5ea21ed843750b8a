"""`pipec stage run --manifest-dir DIR`: a manifest mounted apart from its project (a
ConfigMap at `/etc/pipec`, `[tool.pipec] manifest_configmap`) reads its relative paths
(the data, the project's model modules) from DIR, the pod's working directory, where the
image holds the build folder. Read from the mount's own folder, a source was looked for
beside the mount and the stage failed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from model.project import write_project
from pipec.cli import main


def _mounted(tmp_path: Path) -> tuple[Path, Path]:
    """The project's build folder, and a copy of its manifest in a folder of its own."""
    path = write_project(tmp_path / "project")
    build = tmp_path / "project" / "build"
    assert main(["build", str(path), "--target", "local", "-o", str(build)]) == 0
    mount = tmp_path / "etc" / "pipec"
    mount.mkdir(parents=True)
    shutil.copy(build / "lineage.json", mount / "lineage.json")
    return build, mount / "lineage.json"


def test_a_mounted_manifest_reads_its_paths_from_the_manifest_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    build, manifest = _mounted(tmp_path)
    monkeypatch.chdir(build)  # the pod's working directory
    assert main(["stage", "run", "--manifest", str(manifest), "--manifest-dir", ".",
                 "--stage", "source.events", "--run-id", "m1"]) == 0, capsys.readouterr()
    assert (tmp_path / "project" / ".pipec").is_dir()  # the project's run store
    assert not (tmp_path / ".pipec").exists()


def test_without_it_the_mount_s_folder_is_where_paths_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    build, manifest = _mounted(tmp_path)
    monkeypatch.chdir(build)
    assert main(["stage", "run", "--manifest", str(manifest), "--stage", "source.events",
                 "--run-id", "m1"]) == 2
    assert "events.parquet" in capsys.readouterr().out
