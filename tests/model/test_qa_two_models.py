"""Two models in one pipeline, end to end: each model's registry entries, approvals and
lineage are found and kept apart, also when their register stages name two folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from model.project import add_second_model, pipec, write_project

# The second model's own register and deploy stages, in a registry folder of its own.
OTHER_RELEASE = ('  register other {\n    owner platform\n    registry local "registry_other/"\n'
                 '  }\n\n  deploy other {\n    owner serving\n  }\n\n')


@pytest.fixture(scope="module")
def two_registries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`model` registers to `registry/`, `other` to `registry_other/`; one run."""
    folder = tmp_path_factory.mktemp("two_registries")
    path = write_project(folder)
    add_second_model(path)
    text = path.read_text("utf-8").replace("  register model {",
                                           OTHER_RELEASE + "  register model {")
    # A deployed model needs a latency and a size gate (GATE006).
    gates = "evaluate other {\n    latency p99 <= 500ms\n    size <= 10MB\n"
    path.write_text(text.replace("evaluate other {\n", gates), "utf-8")
    done = pipec("run", path.name, "--retry-delay", "0", cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "other v1 production" in done.stdout and "model v1 production" in done.stdout
    return folder


def test_registry_list_shows_the_models_of_both_registries(two_registries: Path) -> None:
    listed = pipec("registry", "list", cwd=two_registries)
    assert listed.returncode == 0, listed.stderr
    assert "model@1  production" in listed.stdout
    assert "other@1  production" in listed.stdout
    entries = json.loads(pipec("registry", "list", "--format", "json",
                               cwd=two_registries).stdout)
    where = {e["model"]: Path(e["registry"]).name for e in entries}
    assert where == {"model": "registry", "other": "registry_other"}


@pytest.mark.parametrize(("command", "says"), [(("registry", "show"), '"model": "other"'),
                                               (("lineage",), '"C": 0.5')])
def test_a_model_of_the_other_registry_is_found(two_registries: Path,
                                                command: tuple[str, ...], says: str) -> None:
    shown = pipec(*command, "other@1", "--format", "json", cwd=two_registries)
    assert shown.returncode == 0, shown.stderr
    assert says in shown.stdout


def test_a_rollback_acts_on_the_registry_holding_the_model(two_registries: Path) -> None:
    # Only one version of `other`: the answer comes from its own registry, not "no model".
    done = pipec("registry", "rollback", "other", cwd=two_registries)
    assert done.returncode == 2
    assert "has no previous production version" in done.stderr, done.stderr


@pytest.mark.parametrize("command", [("registry", "show"), ("lineage",)])
def test_a_typo_is_compared_with_the_models_of_every_registry(
        two_registries: Path, command: tuple[str, ...]) -> None:
    typo = pipec(*command, "othr@1", cwd=two_registries)
    assert typo.returncode == 2
    assert "did you mean `other`?" in typo.stderr and "`model`" in typo.stderr, typo.stderr


def test_a_damaged_registry_does_not_hide_the_other_ones(two_registries: Path,
                                                         tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(two_registries, copy)
    for path in (copy / "registry").glob("registry.sqlite*"):
        path.unlink()
    (copy / "registry" / "registry.sqlite").write_bytes(b"not a database " * 20)
    listed = pipec("registry", "list", cwd=copy)
    assert listed.returncode == 2
    assert "other@1  production" in listed.stdout
    assert "registry.sqlite` cannot be read" in listed.stderr, listed.stderr
    assert pipec("registry", "show", "other@1", cwd=copy).returncode == 0
    damaged = pipec("lineage", "model@1", cwd=copy)
    assert damaged.returncode == 2 and "cannot be read" in damaged.stderr, damaged.stderr
