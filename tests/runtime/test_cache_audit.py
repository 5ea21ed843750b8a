"""The per-stage cache never hands back a result its inputs no longer give: state outside
the cache key (drift baselines, project settings, a source's definition read through
its validate stage) and artifacts altered in the store make the stage run again."""

from __future__ import annotations

import copy
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import pipec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from model.project import events, program, write_project
from pipec.manifest import build_manifest
from pipec.stdlib.runtime import run_pipeline
from pipec.stdlib.runtime.stage import STAGE_RUNNERS, cache_key, make_context
from pipec.stdlib.runtime.store import ArtifactStore, RunIndex

DRIFT = "    unique user, at\n    drift mean(noise) within 3x of baseline\n"


def _manifest(path: Path) -> dict[str, Any]:
    return build_manifest(pipec.compile(path))


def _run(path: Path, **kwargs: Any) -> Any:
    return run_pipeline(_manifest(path), path.parent, path.parent, **kwargs)


def _status(result: Any) -> dict[str, str]:
    return {s.stage_id: s.status for s in result.stages}


def _outputs(result: Any, stage_id: str) -> dict[str, str]:
    return next(s.outputs for s in result.stages if s.stage_id == stage_id)


# drift baselines -------------------------------------------------------------------------
def _noisy_project(folder: Path) -> Path:
    """The spend project with a column that only a drift check reads."""
    path = write_project(folder)
    text = path.read_text().replace("      spend_next: float after_event\n",
                                    "      spend_next: float after_event\n"
                                    "      noise: float after_event\n")
    path.write_text(text.replace("    unique user, at\n", DRIFT))
    return path


def _write_noise(folder: Path, scale: float) -> None:
    table = events()
    noise = pc.multiply(table.column("amount"), scale)
    pq.write_table(table.append_column("noise", noise), folder / "data" / "events.parquet")


def _bless(folder: Path, run_id: str) -> None:
    index = RunIndex(folder)
    index.mark_blessed(run_id)
    index.close()


def test_a_moved_drift_baseline_reruns_a_cached_validate(tmp_path: Path) -> None:
    path = _noisy_project(tmp_path)
    for scale in (1.0, 2.5, 6.0):  # each within 3x of the one before, each blessed
        _write_noise(tmp_path, scale)
        result = _run(path, until="validate.events")
        assert result.status == "succeeded"
        _bless(tmp_path, result.run_id)
    _write_noise(tmp_path, 1.0)  # the first run's bytes, 6x off today's baseline
    result = _run(path, until="validate.events")
    assert result.status == "blocked", _status(result)
    assert result.report["blocked_by"] == "validate.events"


def test_an_unmoved_baseline_keeps_the_second_run_cached(tmp_path: Path) -> None:
    path = _noisy_project(tmp_path)
    _write_noise(tmp_path, 1.0)
    _run(path, until="validate.events")
    again = _run(path, until="validate.events")
    assert set(_status(again).values()) == {"skipped (cached)"}


def test_a_cached_blessed_run_becomes_the_drift_baseline(tmp_path: Path) -> None:
    path = _noisy_project(tmp_path)
    for scale in (1.0, 2.5, 1.0):  # the third run is the first one again, all cached
        _write_noise(tmp_path, scale)
        result = _run(path)
        assert result.status == "succeeded", result.report
    assert _status(result)["evaluate.model"] == "skipped (cached)"
    _write_noise(tmp_path, 6.0)  # 2.4x the second run's data, but 6x the newest blessed
    result = _run(path, until="validate.events")
    assert result.status == "blocked", result.report["validation"]


# definitions read through another stage ---------------------------------------------------
def test_the_base_source_time_reaches_features_and_labels(tmp_path: Path) -> None:
    path = write_project(tmp_path)
    table = pq.read_table(tmp_path / "data" / "events.parquet")
    # A second time column, 12h earlier: the snapshot keeps the same rows.
    earlier = pc.subtract(table.column("at"), pa.scalar(dt.timedelta(hours=12)))
    pq.write_table(table.append_column("booked", earlier), tmp_path / "data" / "events.parquet")
    path.write_text(path.read_text().replace("      at: timestamp\n",
                                             "      at: timestamp\n      booked: timestamp\n"))
    _run(path, until="join")
    path.write_text(path.read_text().replace("    time at\n    freshness",
                                             "    time booked\n    freshness"))
    changed = _run(path, until="join")
    fresh_project = tmp_path / "fresh"
    fresh_project.mkdir()
    fresh = run_pipeline(_manifest(path), tmp_path, fresh_project, until="join")
    for stage_id, output in (("features.history", "features"), ("join", "examples")):
        assert _outputs(changed, stage_id)[output] == _outputs(fresh, stage_id)[output]
    assert _status(changed)["label.big_spender"] == "ran"


def _key(manifest: dict[str, Any], project: Path, run_id: str, stage_id: str) -> str | None:
    ctx = make_context(manifest, project, stage_id, project, run_id)
    try:
        return cache_key(ctx, STAGE_RUNNERS[ctx.stage["kind"]])
    finally:
        ctx.index.close()


def test_the_split_key_covers_the_label_maturity(tmp_path: Path) -> None:
    """The split checks LEAK002 with the label's maturity: a longer maturity that leaves
    the labels as they were must still check it again."""
    path = write_project(tmp_path)
    manifest = _manifest(path)
    result = run_pipeline(manifest, tmp_path, tmp_path, until="split")
    before = _key(manifest, tmp_path, result.run_id, "split")
    changed = copy.deepcopy(manifest)
    label = next(s for s in changed["stages"] if s["id"] == "label.big_spender")
    label["maturity_s"], label["definition_hash"] = 2 * 86_400, "longer maturity"
    assert _key(changed, tmp_path, result.run_id, "split") != before


# project settings -------------------------------------------------------------------------
def test_a_narrower_allow_list_refuses_a_cached_model(tmp_path: Path) -> None:
    path = write_project(tmp_path)
    wide = _run(path, until="train.model", options={"allowed_model_modules": ["sklearn"]})
    assert wide.status == "succeeded"
    narrow = _run(path, until="train.model",
                  options={"allowed_model_modules": ["sklearn.ensemble"]})
    assert narrow.status == "failed" and "not from an allowed module" in narrow.report["error"]


# the store --------------------------------------------------------------------------------
def _tamper_train_side(folder: Path, result: Any) -> str:
    """Overwrite the split's `train` object with the bytes of its `test` object."""
    store = ArtifactStore(folder)
    sides = _outputs(result, "split")
    store.get_path(sides["train"]).write_bytes(store.get_path(sides["test"]).read_bytes())
    return sides["train"]


def test_a_tampered_cached_artifact_is_rebuilt_not_used(tmp_path: Path) -> None:
    path = write_project(tmp_path)
    first = _run(path, until="train.model")
    train_id = _tamper_train_side(tmp_path, first)
    path.write_text(program(c=0.5))  # train runs again, reading the split's output
    second = _run(path, until="train.model")
    assert _status(second)["split"] == "ran"
    assert ArtifactStore(tmp_path).intact(train_id)
    rows = [next(s.report["rows"] for s in r.stages if s.stage_id == "train.model")
            for r in (first, second)]
    assert rows[0] == rows[1]  # trained on the train side, not on the test rows


def test_a_tampered_artifact_is_not_reused_by_from(tmp_path: Path) -> None:
    path = write_project(tmp_path)
    first = _run(path, until="train.model")
    _tamper_train_side(tmp_path, first)
    result = _run(path, from_stage="train.model", until="train.model")
    # The tampered split is not handed on: the run stops before train, naming it.
    assert result.status == "failed" and "split has no outputs" in result.report["error"]


@pytest.mark.parametrize("stage_id", ["label.big_spender", "features.history"])
def test_data_stage_keys_cover_the_base_source_definition(tmp_path: Path, stage_id: str) -> None:
    path = write_project(tmp_path)
    manifest = _manifest(path)
    result = run_pipeline(manifest, tmp_path, tmp_path, until="join")
    before = _key(manifest, tmp_path, result.run_id, stage_id)
    changed = copy.deepcopy(manifest)
    source = next(s for s in changed["stages"] if s["id"] == "source.events")
    source["time"], source["definition_hash"] = "booked", "another time column"
    assert _key(changed, tmp_path, result.run_id, stage_id) != before


def test_a_sealed_object_is_trusted_after_one_stat(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A fully cached run must not re-read the whole store to check it."""
    import shutil

    from pipec.stdlib.runtime import store as store_module

    store = ArtifactStore(tmp_path)
    first, second = store.put_bytes(b"first"), store.put_bytes(b"second")
    hashed: list[Path] = []
    real = store_module.file_sha256
    monkeypatch.setattr(store_module, "file_sha256", lambda p: hashed.append(p) or real(p))
    assert store.intact(first) and hashed == []  # sealed at commit: no hashing
    path = store.get_path(first)
    time.sleep(0.05)  # file times tick with the kernel's clock (a few ms), not every ns
    os.utime(path, None)  # touched, same bytes: hashed once, then sealed again
    assert store.intact(first) and len(hashed) == 1
    assert store.intact(first) and len(hashed) == 1
    # Another object's bytes copied over with its (sealed) time: the seal is per id.
    shutil.copy2(store.get_path(second), path)
    assert not store.intact(first)


def test_a_library_upgrade_changes_every_cache_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model or table made by the old scikit-learn (or duckdb, pyarrow...) is not
    reused after an upgrade."""
    import importlib.metadata

    from pipec.stdlib.runtime.stage import code_version

    code_version.cache_clear()
    before = code_version()
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "99.0" if name == "scikit-learn" else real(name))
    code_version.cache_clear()
    try:
        assert code_version() != before
    finally:
        monkeypatch.undo()
        code_version.cache_clear()
    assert code_version() == before


# a run that left no record ---------------------------------------------------------------
def test_a_registration_whose_run_left_no_record_is_made_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after `register` (here: its record write fails): the cached registration
    would keep pointing the version at a run with no record, and its lineage would be
    unanswerable for good."""
    from pipec.stdlib.runtime import runner
    from pipec.stdlib.runtime.records import RunRecords
    from pipec.stdlib.runtime.registry import Registry

    path = write_project(tmp_path)
    with monkeypatch.context() as patched:
        patched.setattr(runner, "write_run_record", _killed)
        with pytest.raises(KeyboardInterrupt):
            _run(path)
    second = _run(path)
    assert _status(second)["register.model"] == "ran"
    registry = Registry(tmp_path / "registry")
    try:
        (version,) = registry.versions("model")
    finally:
        registry.close()
    records = RunRecords(tmp_path)
    try:
        assert version.run_id == second.run_id and records.get(second.run_id) is not None
    finally:
        records.close()
    assert _status(_run(path))["register.model"] == "skipped (cached)"


def test_a_closed_stdout_does_not_stop_a_run(tmp_path: Path) -> None:
    """`pipec run FILE | head -1`: the run finishes, records itself and exits with its
    own status, although nobody reads what it prints, its first lines included: the
    notes said before any stage runs (here BUILD002 for the canary) stopped the run
    with SIGPIPE's status before it started."""
    import subprocess
    import sys

    from pipec.backends.runtime_limits import runtime_limits
    from pipec.check import compile as pipec_compile
    from pipec.stdlib.runtime.records import RunRecords

    path = write_project(tmp_path)
    assert runtime_limits(pipec_compile(path)), "the run must print something first"
    proc = subprocess.Popen([sys.executable, "-m", "pipec", "run", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader leaves before the first line
    assert proc.wait(timeout=300) == 0
    records = RunRecords(tmp_path)
    try:
        assert [r["status"] for r in records.list()] == ["succeeded"]
    finally:
        records.close()


def _killed(*_args: Any, **_kwargs: Any) -> None:
    raise KeyboardInterrupt  # the run stops after its last stage, before its record


def test_an_object_changed_in_place_is_not_trusted_with_its_time_put_back(
        tmp_path: Path) -> None:
    """Bytes rewritten in place, same size, and the modification time put back (as
    `touch -d` does): the change time still moved, so the object is hashed and refused."""
    store = ArtifactStore(tmp_path)
    artifact = store.put_bytes(b"seats 10")
    path = store.get_path(artifact)
    before = path.stat()
    time.sleep(0.05)  # file times tick with the kernel's clock (a few ms), not every ns
    path.write_bytes(b"seats -1")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.stat().st_size == 8
    assert not ArtifactStore(tmp_path).intact(artifact)
