"""Tampering: a registry model whose bytes no longer match its hash is refused at load
with a message naming the model, and `pipec run` (which loads the champion for
`compare champion`) reports it as a failed stage, not a traceback."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from pipec.stdlib.runtime.registry import Registry
from pipec.stdlib.runtime.serialize import ModelIntegrityError, dumps

from .project import pipec, program, write_project


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tamper")
    path = write_project(folder)
    done = pipec("run", str(path), cwd=folder)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return folder


@pytest.fixture()
def project(trained: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(trained, copy)
    return copy


def _model_file(project: Path) -> Path:
    (path,) = (project / "registry" / "objects").glob("*.skops")
    return path


def _flip_byte(path: Path, where: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0x01
    path.write_bytes(bytes(data))


def _load_error(project: Path) -> str:
    registry = Registry(project / "registry")
    try:
        with pytest.raises(ModelIntegrityError) as caught:
            registry.load("model", 1)
        assert registry.integrity()  # the integrity check finds it too
    finally:
        registry.close()
    return str(caught.value)


@pytest.mark.parametrize("where", [0.0, 0.5, 0.999])
def test_flipped_byte_is_refused(project: Path, where: float) -> None:
    _flip_byte(_model_file(project), where)
    message = _load_error(project)
    assert message.startswith("model v1: ")
    assert "altered or corrupted; refusing to load" in message


def test_other_valid_model_in_its_place_is_refused(project: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    _model_file(project).write_bytes(dumps(LogisticRegression(C=7.0)))
    assert "altered or corrupted" in _load_error(project)


def test_missing_or_renamed_file_is_refused(project: Path) -> None:
    path = _model_file(project)
    path.rename(path.with_name("other.skops"))
    assert "is missing" in _load_error(project)


def test_edited_hash_in_the_database_is_refused(project: Path) -> None:
    con = sqlite3.connect(project / "registry" / "registry.sqlite")
    with con:
        con.execute("UPDATE versions SET sha256 = ? WHERE version = 1", ("0" * 64,))
    con.close()
    assert "is missing" in _load_error(project)


def test_run_reports_a_tampered_champion(project: Path) -> None:
    _flip_byte(_model_file(project))
    path = project / "spend.pipe"
    path.write_text(program(c=0.4), "utf-8")  # a new candidate, compared with the champion
    done = pipec("run", str(path), cwd=project)
    output = done.stdout + done.stderr
    # The comparison, not the stage, fails: every other gate is still judged.
    assert done.returncode == 1, output[-3000:]
    assert "Traceback" not in output and "internal error" not in output
    assert "champion v1 cannot be scored: its model file" in output
    assert "no longer matches its recorded sha256" in output
    # The registry is untouched: no new version registered against a corrupt champion.
    registry = Registry(project / "registry")
    try:
        assert [v.version for v in registry.versions()] == [1]
    finally:
        registry.close()
    for command in (["lineage", "model"], ["registry", "show", "model@1"], ["runs", "list"]):
        shown = pipec(*command, "--project", str(project), cwd=project)
        assert "Traceback" not in shown.stderr, (command, shown.stderr)
    # Lineage would describe bytes that are no longer the model: it refuses, by name.
    lineage = pipec("lineage", "model", "--project", str(project), cwd=project)
    assert lineage.returncode == 2 and "model v1: the model file" in lineage.stderr
