"""The local runner's re-runs against state outside its cache keys: the registry moved by
hand (a rollback), and what a re-run then reports and does."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pipec
from model.project import program, write_project
from pipec.manifest import build_manifest
from pipec.stdlib.runtime import run_pipeline
from pipec.stdlib.runtime.registry import Registry


def _run(path: Path, **kwargs: Any) -> Any:
    manifest = build_manifest(pipec.compile(path))
    return run_pipeline(manifest, path.parent, path.parent, **kwargs)


def _status(result: Any) -> dict[str, str]:
    return {s.stage_id: s.status for s in result.stages}


def _report(result: Any, stage_id: str) -> dict[str, Any]:
    return next(s.report for s in result.stages if s.stage_id == stage_id)


def _production(folder: Path, model: str = "model") -> int | None:
    registry = Registry(folder / "registry")
    try:
        current = registry.production(model)
    finally:
        registry.close()
    return None if current is None else current.version


# a rollback, then a re-run ----------------------------------------------------------------
def test_a_rerun_after_a_rollback_keeps_the_rollback_and_says_so(tmp_path: Path) -> None:
    """v2 deployed, rolled back to v1 by hand, then the unchanged pipeline runs again.
    The cached deploy used to say "v2 production" while v2 was archived. A re-run with
    nothing changed must not undo the rollback either: the deploy stays cached and
    reports v2 as it is now; v1 stays in production until a new model deploys."""
    path = write_project(tmp_path)
    assert _run(path).status == "succeeded"
    path.write_text(program(c=0.5), "utf-8")
    assert _run(path).status == "succeeded"
    assert _production(tmp_path) == 2
    registry = Registry(tmp_path / "registry")
    try:
        registry.rollback("model", actor="qa", reason="incident")
    finally:
        registry.close()
    assert _production(tmp_path) == 1
    again = _run(path)
    assert again.status == "succeeded"
    deploy = _report(again, "deploy.model")
    assert (deploy["version"], deploy["state"]) == (2, "archived")
    assert _status(again)["deploy.model"] == "skipped (cached)"
    assert _production(tmp_path) == 1
    _record_fits_the_schema(tmp_path, again.run_id)  # its deploy says "archived"
    # A new model deploys as usual.
    path.write_text(program(c=0.25), "utf-8")
    newer = _run(path)
    assert _report(newer, "deploy.model")["state"] == "production"
    assert _production(tmp_path) == _report(newer, "deploy.model")["version"] == 3


def _record_fits_the_schema(project: Path, run_id: str) -> None:
    import json

    import jsonschema
    from conftest import REPO
    from pipec.stdlib.runtime.records import RunRecords

    records = RunRecords(project)
    try:
        record = records.get(run_id)
    finally:
        records.close()
    schema = json.loads((REPO / "docs" / "run-record.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(record)


# the project's own model code -------------------------------------------------------------
MY_MODEL = """from sklearn.linear_model import LogisticRegression


class MyModel(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        self.C = {c}
        return super().fit(X, y, sample_weight)
"""


def _key(manifest: dict[str, Any], project: Path, run_id: str, stage_id: str) -> str | None:
    from pipec.stdlib.runtime.model_code import module_code
    from pipec.stdlib.runtime.stage import STAGE_RUNNERS, cache_key, make_context

    module_code.cache_clear()  # once per process in a run; the test edits between keys
    ctx = make_context(manifest, project, stage_id, project, run_id,
                       {"allowed_model_modules": ["sklearn", "qa_my_model"]})
    try:
        return cache_key(ctx, STAGE_RUNNERS[ctx.stage["kind"]])
    finally:
        ctx.close()


def test_editing_the_projects_model_class_trains_again(tmp_path: Path) -> None:
    """A model class of the project's own (an allowed module on the path): the train key
    covered its name, not its code, so an edited `fit` reused the model the old code
    made. Its sources are in the train and evaluate keys; an installed library's
    version is."""
    from pipec.stdlib.runtime.model_code import model_code

    path = write_project(tmp_path)
    path.write_text(path.read_text("utf-8").replace(
        "sklearn.linear_model.LogisticRegression", "qa_my_model.MyModel"), "utf-8")
    (tmp_path / "qa_my_model.py").write_text(MY_MODEL.format(c=1.0), "utf-8")
    manifest = build_manifest(pipec.compile(path))
    result = run_pipeline(manifest, tmp_path, tmp_path, until="split")
    before = {sid: _key(manifest, tmp_path, result.run_id, sid)
              for sid in ("train.model", "split")}
    (tmp_path / "qa_my_model.py").write_text(MY_MODEL.format(c=0.001), "utf-8")
    after = {sid: _key(manifest, tmp_path, result.run_id, sid)
             for sid in ("train.model", "split")}
    assert after["train.model"] != before["train.model"]
    assert after["split"] == before["split"]
    # sklearn is covered by its version in every key; an installed package by its own.
    assert model_code("sklearn.linear_model.LogisticRegression", tmp_path) is None
    assert model_code("pytest.Class", tmp_path) == {"pytest": pytest_version()}


def test_a_model_class_beside_the_pipe_file_trains_and_evaluates(tmp_path: Path) -> None:
    """`my_model.py` beside the .pipe file, listed in `allowed_model_modules`: it is
    imported from the project's folder whatever the working directory (the `pipec`
    script does not put it on the path), and its stored model loads for evaluation (its
    types were refused as untrusted)."""
    path = write_project(tmp_path)
    path.write_text(path.read_text("utf-8").replace(
        "sklearn.linear_model.LogisticRegression", "qa_beside.MyModel"), "utf-8")
    (tmp_path / "qa_beside.py").write_text(MY_MODEL.format(c=1.0), "utf-8")
    manifest = build_manifest(pipec.compile(path))
    options = {"allowed_model_modules": ["sklearn", "qa_beside"]}
    result = run_pipeline(manifest, tmp_path, tmp_path, options=options)
    assert str(tmp_path) not in sys.path
    assert result.status == "succeeded", result.error
    assert _status(result)["evaluate.model"] == "ran"


def pytest_version() -> str:
    from importlib.metadata import version

    return version("pytest")


# the registry's model file -----------------------------------------------------------------
def test_a_model_file_gone_from_the_registry_is_registered_again(tmp_path: Path) -> None:
    """The production version's file deleted from `registry/objects/`: the cached
    registration held, the run said "registered" and "production", and the version's
    lineage, a rollback to it and loading it kept refusing it. Registering again writes
    the file back from the trained bytes."""
    path = write_project(tmp_path)
    first = _run(path)
    assert first.status == "succeeded"
    registry = Registry(tmp_path / "registry")
    try:
        (version,) = registry.versions("model")
        registry.object_path(version.sha256).unlink()
        assert registry.integrity() == ["model v1: model file missing"]
    finally:
        registry.close()
    again = _run(path)
    assert again.status == "succeeded"
    assert _status(again)["register.model"] == "ran"
    registry = Registry(tmp_path / "registry")
    try:
        assert registry.integrity() == []
        assert registry.production("model").version == 1
    finally:
        registry.close()
    assert _status(_run(path))["register.model"] == "skipped (cached)"


# a full run store ---------------------------------------------------------------------------
def test_a_full_run_store_is_said_to_be_full(tmp_path: Path, monkeypatch: Any,
                                             capsys: Any) -> None:
    """No space left while an object (here: every one, the run's record too) is written:
    a write to an open file names no file, so `pipec run` said "internal error"."""
    import errno
    import os

    from pipec.cli import main
    from pipec.stdlib.runtime import store

    path = write_project(tmp_path)

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store.os, "fsync", full)
    code = main(["run", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"pipec: the run store `{tmp_path / '.pipec'}` is full (No space left on " \
        "device): free space, then run again" in err
    assert "internal error" not in err
    assert list((tmp_path / ".pipec" / "tmp").iterdir()) == []  # nothing half-written


def test_a_full_sqlite_index_is_said_to_be_full(tmp_path: Path) -> None:
    import sqlite3

    from pipec.commands._runtime import store_problem

    problem = store_problem(sqlite3.OperationalError("database or disk is full"), tmp_path)
    assert problem == f"the run store `{tmp_path}` is full (database or disk is full): " \
        "free space, then run again"


# a stage run on its own, `--from` --------------------------------------------------------
def _new_data(folder: Path) -> None:
    import pyarrow.parquet as pq
    from model.project import events

    pq.write_table(events(rows=2000, seed=5), folder / "data" / "events.parquet")


def test_a_stage_run_on_its_own_does_not_reuse_a_changed_upstream(
        tmp_path: Path, capsys: Any) -> None:
    """`pipec stage run --stage train.model` under a run id the stages before it did not
    run in: their latest outputs were reused whatever changed since, so the model was
    trained on the split of the old data. As `pipec run --from` does, the stage that
    changed is named and nothing is trained."""
    from pipec.cli import main
    from pipec.stdlib.runtime.records import RunRecords

    path = write_project(tmp_path)
    assert _run(path, until="split").status == "succeeded"
    assert main(["build", str(path), "--target", "local", "-o", str(tmp_path / "b")]) == 0
    _new_data(tmp_path)
    capsys.readouterr()
    code = main(["stage", "run", "--manifest", str(tmp_path / "b" / "lineage.json"),
                 "--stage", "train.model", "--run-id", "r2"])
    out = capsys.readouterr().out
    assert code == 2
    assert "source.events changed since its outputs were made" in out
    records = RunRecords(tmp_path)
    try:
        record = records.get("r2")
    finally:
        records.close()
    assert record is not None and record["status"] == "failed"
    assert [(s["stage_id"], s["status"]) for s in record["stages"]] == \
        [("train.model", "failed")]
    # Unchanged, the same call reuses them and trains.
    path.parent.joinpath("data", "events.parquet").unlink()
    write_project(tmp_path)
    assert main(["stage", "run", "--manifest", str(tmp_path / "b" / "lineage.json"),
                 "--stage", "train.model", "--run-id", "r3"]) == 0


def test_from_does_not_list_stages_behind_a_changed_one_as_reused(tmp_path: Path) -> None:
    """`--from train.model` after the data changed: the run stops naming the source, and
    its record no longer says the stages after the source were reused (they were keyed
    on nothing: the source's outputs are not in the run)."""
    path = write_project(tmp_path)
    assert _run(path, until="split").status == "succeeded"
    _new_data(tmp_path)
    result = _run(path, from_stage="train.model")
    assert result.status == "failed"
    assert "source.events changed since" in result.report["error"]
    assert _status(result) == {}
