"""QA of the read-side commands (`graph`, `docs`, `test`, `lineage`, `registry`, `runs`)
on pipelines with several models, or models that are not binary classifiers: each bug
found, one test."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.cli import main
from pipec.stdlib.runtime import serialize
from pipec.stdlib.runtime.records import RunRecords
from pipec.stdlib.runtime.registry import Registry


def _register(registry: Registry, name: str) -> None:
    data = name.encode()
    registry.register(name, data, serialize.sha256(data), run_id="run1",
                      report_sha256=f"report-{name}", info={}, actor="ml")


def test_registry_list_aligns_models_whose_names_differ_in_length(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two models of one pipeline (`late_gbm`, `late_linear`): only the version was
    padded, so the state column started at a different place on each model's line."""
    registry = Registry(tmp_path / "registry")
    try:
        for name in ("late_gbm", "late_linear"):
            _register(registry, name)
    finally:
        registry.close()
    assert main(["registry", "list", "--project", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["late_gbm@1", "late_linear@1"]
    assert len({line.index("candidate") for line in lines}) == 1, lines


def test_runs_list_aligns_pipelines_with_a_long_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One run store holds the runs of every pipeline beside it: a name longer than
    the fixed 24 columns pushed that line's status and record out of line."""
    records = RunRecords(tmp_path)
    try:
        for run_id, pipeline in (("run1", "late_two_models"),
                                 ("run2", "late_arrival_two_models_by_route")):
            records.write({"run_id": run_id, "pipeline": pipeline, "status": "succeeded",
                           "stages": [], "report": {"run_id": run_id, "stages": []}})
    finally:
        records.close()
    assert main(["runs", "list", "--project", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert len({line.index("succeeded") for line in lines}) == 1, lines
