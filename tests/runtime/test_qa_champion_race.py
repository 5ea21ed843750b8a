"""The champion an evaluate stage compares the candidate with is the one its cache key
names. The key is made first and the champion loaded later; another run deploying a
new champion in between made the report compare the candidate with that one, filed
under a key naming the one before: a later run with that key took a comparison with
a champion that was not the one named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from model.project import write_project
from pipec.cli import main
from pipec.stdlib.runtime import model_stages
from pipec.stdlib.runtime.registry import Registry
from pipec.stdlib.runtime.store import RunIndex


def _set_c(path: Path, c: str) -> None:
    """Another `C`: another model, so another registry version."""
    text = path.read_text("utf-8")
    start = text.index("params { C: ") + len("params { C: ")
    path.write_text(text[:start] + c + text[text.index(",", start):], "utf-8")


def _production(project: Path) -> tuple[int, str]:
    registry = Registry(project / "registry")
    try:
        entry = registry.production("model")
        assert entry is not None
        return entry.version, entry.sha256
    finally:
        registry.close()


def _cached_evaluation(project: Path) -> dict[str, Any]:
    """The report the latest run's evaluate stage left in the cache, under its key."""
    index = RunIndex(project)
    try:
        execution = index.latest_success("evaluate.model")
        assert execution is not None and execution.status == "ran", execution
        hit = index.cache_get(execution.cache_key)
        assert hit is not None
        return hit[1]
    finally:
        index.close()


@pytest.fixture()
def two_versions(tmp_path: Path) -> Path:
    """The spend project after two runs: v1 archived, v2 in production."""
    path = write_project(tmp_path)
    assert main(["run", str(path)]) == 0
    _set_c(path, "0.4")
    assert main(["run", str(path)]) == 0
    assert _production(tmp_path)[0] == 2
    return path


def test_the_champion_named_in_the_key_is_the_one_compared(
        two_versions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another run rolls production back to v1 after this run's evaluate stage made its
    key (naming v2) and before it loads the champion: the report still compares with
    v2, so what is cached under that key is what the key says."""
    project = two_versions.parent
    named = _production(project)
    loaded = model_stages.champion
    deploys = []

    def deployed_meanwhile(*args: Any, **kwargs: Any) -> Any:
        registry = Registry(project / "registry")
        try:
            deploys.append(registry.rollback("model", actor="another-run", reason="race"))
        finally:
            registry.close()
        return loaded(*args, **kwargs)

    monkeypatch.setattr(model_stages, "champion", deployed_meanwhile)
    _set_c(two_versions, "0.7")
    assert main(["run", str(two_versions), "--until", "evaluate.model"]) == 0
    assert len(deploys) == 1 and _production(project)[0] == 1  # the deploy did happen
    champion = _cached_evaluation(project)["champion"]
    assert (champion["version"], champion["sha256"]) == named
