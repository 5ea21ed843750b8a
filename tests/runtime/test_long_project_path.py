"""A project whose path is longer than SQLite opens (512 bytes, with the journal's suffix):
`pipec stage run` (the local script, Airflow's tasks) said "internal error:
OperationalError", and `pipec run` only "unable to open database file". Both now say
the path is the reason, and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from model.project import write_project
from pipec.cli import main


def _deep(tmp_path: Path) -> Path:
    folder = tmp_path
    while len(str(folder)) < 560:
        folder = folder / ("d" * 60)
    return write_project(folder)


def test_stage_run_says_the_project_path_is_too_long(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _deep(tmp_path)
    assert main(["build", str(path), "--target", "local", "-o", str(path.parent / "b")]) == 0
    capsys.readouterr()
    code = main(["stage", "run", "--manifest", str(path.parent / "b" / "lineage.json"),
                 "--stage", "source.events", "--run-id", "r1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "internal error" not in err
    assert "more than SQLite opens (about 500); move the project to a shorter path" in err


def test_run_says_the_project_path_is_too_long(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _deep(tmp_path)
    code = main(["run", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "more than SQLite opens (about 500)" in err
