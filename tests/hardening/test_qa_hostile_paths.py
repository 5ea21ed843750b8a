"""A project in an awkward folder: spaces, quotes, `$`, backticks, `;`, `#`, `%`, unicode,
a leading `-`, glob characters, a folder name that is not UTF-8.

Every target builds the same bytes wherever the project is, the generated commands
quote the paths (the local script and an Airflow DAG run there), and a source reads the
project's own files, never those of a folder whose name a glob of the project's folder
would match.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from pipec.stdlib.runtime.paths import resolve_path

from .project import events, pipec, program, write_project

HOSTILE = "-sp ace 'q\"$x`echo pwned`;#%é日本🚀"
NOT_UTF8 = os.fsdecode(b"bad\xffname")
TARGETS = {"airflow": ["--target", "airflow"], "argo": ["--target", "argo"],
           "local": ["--target", "local"],
           "k8s": ["--target", "airflow", "--airflow-operator", "kubernetes"]}


def _build_all(project: Path) -> dict[str, dict[str, bytes]]:
    """Every target built from inside the project into `out TARGET/`: name -> bytes."""
    built = {}
    for name, target in TARGETS.items():
        result = pipec("build", "spend.pipe", *target, "-o", f"out {name}", cwd=project)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        folder = project / f"out {name}"
        built[name] = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    return built


def _write_sibling(folder: Path) -> None:
    """Other data, 300 rows, where a glob of the project's own folder would reach."""
    (folder / "data").mkdir(parents=True)
    pq.write_table(events(rows=300, seed=5), folder / "data" / "events.parquet")


@pytest.mark.parametrize(("project", "sibling"), [("proj [1]", "proj 1"), ("proj*", "projX")])
def test_a_source_reads_its_own_folder_whatever_glob_characters_the_folder_holds(
        tmp_path: Path, project: str, sibling: str) -> None:
    """DuckDB reads every path as a glob: a project in `proj [1]/` read the data of
    `proj 1/`, and one in `proj*/` that of every `projX/` too."""
    write_project(tmp_path / project)
    _write_sibling(tmp_path / sibling)
    result = pipec("run", "spend.pipe", "--until", "validate.events", cwd=tmp_path / project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 checks on 1,500 rows" in result.stdout
    # Still cached: the source's file is hashed where it is, not at the escaped path.
    again = pipec("run", "spend.pipe", "--until", "validate.events", cwd=tmp_path / project)
    assert "source.events: skipped (cached)" in again.stdout, again.stdout


def test_a_missing_file_in_a_folder_with_glob_characters_is_named(tmp_path: Path) -> None:
    """The runtime's own "does not exist" (not DuckDB's pattern error) for a plain path,
    whatever the project's folder is called."""
    path = write_project(tmp_path / "proj [1]")
    (path.parent / "data" / "events.parquet").unlink()
    result = pipec("run", "spend.pipe", "--until", "source.events", cwd=path.parent)
    assert result.returncode == 2
    assert "`data/events.parquet` does not exist (looked for " in result.stdout


def test_resolve_path_keeps_the_users_own_pattern_and_only_it(tmp_path: Path) -> None:
    base = tmp_path / "p [1]*?"
    (base / "data").mkdir(parents=True)
    (tmp_path / "p 1x!" / "data").mkdir(parents=True)
    for folder in (base, tmp_path / "p 1x!"):
        for name in ("a1.parquet", "b.parquet"):
            (folder / "data" / name).write_bytes(b"")
    assert glob.glob(resolve_path("data/a1.parquet", base)) == [str(base / "data" / "a1.parquet")]
    assert glob.glob(resolve_path("data/[a]?.parquet", base)) == [
        str(base / "data" / "a1.parquet")]
    assert resolve_path("data/x.parquet", tmp_path / "plain") == str(
        tmp_path / "plain" / "data" / "x.parquet")
    assert resolve_path("/abs [1]/x.parquet", base) == "/abs [1]/x.parquet"


def test_every_target_builds_the_same_bytes_in_a_hostile_folder(tmp_path: Path) -> None:
    hostile = tmp_path / HOSTILE / "proj"
    plain = tmp_path / "plain" / "proj"
    write_project(hostile)
    write_project(plain)
    built = _build_all(hostile)
    assert built == _build_all(plain)
    for files in built.values():
        assert json.loads(files["lineage.json"])["base_dir"] == ".."
        for data in files.values():
            assert str(tmp_path).encode() not in data
    documents = list(yaml.safe_load_all(built["argo"]["spend.yaml"]))
    lineage = json.loads(documents[0]["metadata"]["annotations"]["pipec.dev/lineage"])
    assert lineage["sources"]["events"]["path"] == "data/events.parquet"


def test_source_paths_with_spaces_dollars_and_unicode_read_as_written(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    write_project(project)
    (project / "data" / "events.parquet").rename(project / "data" / "événements $x.parquet")
    spend = project / "spend.pipe"
    spend.write_text(spend.read_text("utf-8").replace(
        '"data/events.parquet"', '"data/événements $x.parquet"'), "utf-8")
    for named in ("proj/spend.pipe", str(spend)):  # from elsewhere: relative, absolute
        result = pipec("run", named, "--until", "validate.events", cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "5 checks on 1,500 rows" in result.stdout
    assert sorted(p.name for p in project.iterdir()) == [".pipec", "data", "spend.pipe"]


@pytest.mark.slow
def test_the_local_script_runs_in_a_hostile_folder_from_anywhere(tmp_path: Path) -> None:
    project = tmp_path / HOSTILE / "proj [1]"
    write_project(project)
    _write_sibling(tmp_path / HOSTILE / "proj 1")
    assert pipec("build", str(project / "spend.pipe"), "--target", "local", "-o",
                 str(project / "out"), cwd=tmp_path).returncode == 0
    script = project / "out" / "run_spend.py"
    result = subprocess.run([sys.executable, str(script)], cwd="/", capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (project / ".pipec").is_dir() and (project / "registry").is_dir()
    assert not (tmp_path / HOSTILE / "proj 1" / ".pipec").exists()
    shown = pipec("runs", "list", "--format", "json", cwd=project)
    assert shown.returncode == 0 and str(tmp_path) not in shown.stdout


@pytest.mark.slow
def test_airflow_runs_the_dag_of_a_project_in_a_hostile_folder(tmp_path: Path) -> None:
    from tests.support.airflow_env import airflow_python, probe_dagbag, run_dags_test

    if airflow_python() is None:
        pytest.skip("no Airflow venv: `bash .ci/airflow-venv.sh` creates it (CI does)")
    # Airflow expands `$NAME` in its own settings (the DAG folder): `$-`, which bash
    # expands but Airflow does not, stands for it.
    project = tmp_path / HOSTILE.replace("$x", "$-") / "proj"
    write_project(project)
    dags = project / "dags $- `id`"
    assert pipec("build", "spend.pipe", "--target", "airflow", "-o", dags.name,
                 cwd=project).returncode == 0
    probe = probe_dagbag(dags)
    assert probe["import_errors"] == {} and list(probe["dags"]) == ["spend"]
    result = run_dags_test(dags, "spend", timeout=300)
    assert result.returncode == 0, result.output[-4000:]
    assert ": succeeded, record" in result.output
    assert (project / "registry" / "registry.sqlite").is_file()


def test_build_refuses_a_base_dir_that_is_not_utf8(tmp_path: Path) -> None:
    """The manifest names the .pipe file's folder from the output folder; a folder name
    that is not UTF-8 there cannot be written into it (it was an internal error)."""
    folder = tmp_path / NOT_UTF8
    folder.mkdir()
    (folder / "spend.pipe").write_text(program(), "utf-8")
    result = pipec("build", str(folder / "spend.pipe"), "--target", "local", "-o",
                   str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert "internal error" not in result.stderr
    assert "which is not UTF-8" in result.stderr
    assert not (tmp_path / "out").exists()
    inside = pipec("build", "spend.pipe", "--target", "local", "-o", "out", cwd=folder)
    assert inside.returncode == 0, inside.stderr


def test_docs_refuses_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("", "utf-8")
    folder = tmp_path / NOT_UTF8
    folder.mkdir()
    (folder / "spend.pipe").write_text(program(), "utf-8")
    result = pipec("docs", "-o", "site", str(folder / "spend.pipe"), cwd=tmp_path)
    assert result.returncode == 2
    assert "internal error" not in result.stderr
    assert "is not UTF-8" in result.stderr
    assert not (tmp_path / "site").exists()
