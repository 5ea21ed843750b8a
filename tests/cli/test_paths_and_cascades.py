"""How files are named in every output format (the standard library as `std/...`, SARIF
and GitHub paths from the repository root), the project root without a marker, and no
echo diagnostics after an imported file fails to parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipec.cli import main
from pipec.config import project_root
from pipec.diagnostics import Diagnostic, Severity
from pipec.loader import Loader, stdlib_root
from pipec.nodes import Span
from pipec.render.github import annotation
from pipec.render.sarif import sarif_log
from pipec.rules import load_all

SHARED = Path(__file__).resolve().parents[3] / "shared"
SARIF_SCHEMA = SHARED / "schemas" / "sarif-2.1.0.schema.json"

TEAMS = """\
team ml { contact "#ml"; role ml }
team product { contact "#product"; role product }
team risk { contact "#risk"; role risk }
checks basic { require id; unique id }
gates standard { primary roc_auc >= 0.8 }
"""

PIPELINE = """\
import "teams.pipe"
pipeline p {
  owner ml
  risk high
  on_failure block
  source events {
    from csv "events.csv"
    snapshot 2024-01-01
    entity id
    schema { id: string, y: bool, x: float }
  }
  validate events {
    use basic
  }
  label y { column y }
  split by random { test 0.2; seed 1 }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    task binary
    seed 1
  }
  evaluate m {
    owners ml, product, risk
    use standard
    approval by risk
  }
}
"""


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict]:
    main(["check", "--format", "json", *args])
    return json.loads(capsys.readouterr().out)


# ------------------------------------------------------------------ cascades


def test_the_pipeline_checks_clean_with_its_imports(tmp_path: Path, monkeypatch:
                                                    pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("teams.pipe").write_text(TEAMS, "utf-8")
    Path("p.pipe").write_text(PIPELINE, "utf-8")
    assert [d for d in _json(["p.pipe"], capsys) if d["severity"] == "error"] == []


@pytest.mark.parametrize(("broken", "line"), [
    ('team risk { contact "#risk" role risk }\n', 6),  # a missing `;`
    ("team risk {\n", 7),  # unclosed: reported at the end of the file
    (b"team risk \xff\n", 6),  # not UTF-8
])
def test_a_syntax_error_in_an_imported_file_is_reported_there_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, broken: str | bytes,
        line: int) -> None:
    """No OWN002 "(none declared)", T001 for the sets, OWN003, GATE009: the teams and
    sets are in the file that did not parse, which is where the user must look."""
    monkeypatch.chdir(tmp_path)
    text = TEAMS.encode() + (broken if isinstance(broken, bytes) else broken.encode())
    Path("shared").mkdir()
    Path(".git").mkdir()
    Path("shared/teams.pipe").write_bytes(text)
    Path("pipes").mkdir()
    Path("pipes/p.pipe").write_text(PIPELINE.replace('"teams.pipe"', '"../shared/teams.pipe"'),
                                    "utf-8")
    monkeypatch.chdir("pipes")
    found = _json(["p.pipe"], capsys)
    assert [(d["code"], d["file"], d["line"]) for d in found] == [
        ("P001", "../shared/teams.pipe", line)]


def test_a_suppression_of_a_rule_quiet_for_a_broken_import_is_not_called_unused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("teams.pipe").write_text(TEAMS + "team risk {\n", "utf-8")
    Path("p.pipe").write_text(PIPELINE.replace(
        "pipeline p {", "# pipec: ignore[OWN003] co-owners agreed elsewhere\npipeline p {"),
        "utf-8")
    assert [d["code"] for d in _json(["p.pipe"], capsys)] == ["P001"]


def test_a_missing_import_is_reported_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.pipe").write_text(PIPELINE, "utf-8")
    found = _json(["p.pipe"], capsys)
    assert [(d["code"], d["line"]) for d in found] == [("P002", 1)]


# ------------------------------------------------------------------ the standard library


STD_USER = """\
import "std/checks/events.pipe"
team ml { contact "#ml"; role ml }
checks entity_table { require id }
pipeline p {
  owner ml
  on_failure block
  source events {
    from csv "events.csv"
    snapshot 2024-01-01
    schema { id: string }
  }
  validate events {
    use event_table
  }
}
"""


def test_a_standard_library_file_is_named_as_imported(tmp_path: Path, monkeypatch:
                                                      pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.pipe").write_text(STD_USER, "utf-8")
    assert main(["check", "p.pipe"]) == 1
    out = capsys.readouterr().out
    assert "(a line of `use event_table`, at std/checks/events.pipe:6:11)" in out
    assert "first at std/checks/events.pipe:12:8" in out  # P003
    assert str(stdlib_root()) not in out and "stdlib/" not in out
    for output in ("json", "sarif", "github"):
        main(["check", "--format", output, "p.pipe"])
        assert str(stdlib_root()) not in capsys.readouterr().out


def test_the_standard_library_checked_by_path_is_named_std(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = Loader().load(stdlib_root() / "checks" / "events.pipe")
    assert loaded.display == "std/checks/events.pipe"


def test_a_users_own_std_folder_is_not_taken_for_the_standard_library(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("std").mkdir()
    Path("std/teams.pipe").write_text(TEAMS, "utf-8")
    Path("p.pipe").write_text('import "std/teams.pipe"\nimport "./std/teams.pipe"\n', "utf-8")
    loader = Loader()
    files, _ = loader.closure(Path("p.pipe"))
    assert [f.display for f in files] == ["./std/teams.pipe", "p.pipe"]
    assert Loader().load(Path("std/teams.pipe")).display == "./std/teams.pipe"


def test_a_diagnostic_in_the_standard_library_in_sarif_and_github() -> None:
    diagnostic = Diagnostic("P003", Severity.ERROR, "m", Span("std/checks/events.pipe",
                                                              1, 1, 1, 2))
    location = sarif_log([diagnostic])["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": "checks/events.pipe", "uriBaseId": "PIPEC_STDLIB"}
    assert annotation(diagnostic).startswith("::error file=std/checks/events.pipe,")


# ------------------------------------------------------------------ SARIF and GitHub paths


def _sarif_locations(log: dict) -> list[dict]:
    return [r["locations"][0]["physicalLocation"]["artifactLocation"]
            for r in log["runs"][0]["results"]]


def test_sarif_and_github_paths_are_from_the_repository_root(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import jsonschema

    (tmp_path / ".git").mkdir()
    folder = tmp_path / "pipe lines" / "é"
    folder.mkdir(parents=True)
    (tmp_path / "pipe lines" / "x.pipe").write_text('import "é/bad.pipe"\n', "utf-8")
    (folder / "bad.pipe").write_text("team t {\n", "utf-8")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert main(["check", "--format", "sarif", "../pipe lines/x.pipe"]) == 1
    log = json.loads(capsys.readouterr().out)
    if SARIF_SCHEMA.is_file():
        schema = json.loads(SARIF_SCHEMA.read_text("utf-8"))
        validator = jsonschema.Draft4Validator(
            schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
        assert not sorted(validator.iter_errors(log), key=str)
    assert _sarif_locations(log) == [
        {"uri": "pipe%20lines/%C3%A9/bad.pipe", "uriBaseId": "%SRCROOT%"}]
    assert set(log["runs"][0]["originalUriBaseIds"]) == {"%SRCROOT%", "PIPEC_STDLIB"}
    assert str(tmp_path) not in json.dumps(log)
    assert main(["check", "--format", "github", "../pipe lines/x.pipe"]) == 1
    assert capsys.readouterr().out.startswith("::error file=pipe lines/é/bad.pipe,line=2,")
    # The text and json formats keep naming the file as the user does, from here.
    assert _json(["../pipe lines/x.pipe"], capsys)[0]["file"] == "../pipe lines/é/bad.pipe"


def test_without_a_repository_sarif_paths_are_from_the_project_root(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    project = tmp_path / "project"
    (project / "pipes").mkdir(parents=True)
    (project / "pyproject.toml").write_text("", "utf-8")
    (project / "pipes" / "x.pipe").write_text("team t {\n", "utf-8")
    monkeypatch.chdir(project / "pipes")
    main(["check", "--format", "sarif", "x.pipe"])
    assert _sarif_locations(json.loads(capsys.readouterr().out)) == [
        {"uri": "pipes/x.pipe", "uriBaseId": "%SRCROOT%"}]


# ------------------------------------------------------------------ project root


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder anyone may write to, like /tmp, with a home folder elsewhere."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    folder.chmod(0o1777)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return folder


def test_without_a_marker_a_tree_of_pipelines_imports_upwards(shared: Path, capsys) -> None:
    (shared / "job" / "fraud").mkdir(parents=True)
    (shared / "job" / "teams.pipe").write_text(TEAMS, "utf-8")
    main_file = shared / "job" / "fraud" / "p.pipe"
    main_file.write_text(PIPELINE.replace('"teams.pipe"', '"../teams.pipe"'), "utf-8")
    assert project_root(main_file) == (shared / "job").resolve()
    assert "P002" not in {d["code"] for d in _json([str(main_file)], capsys)}


def test_without_a_marker_a_sibling_of_a_shared_folder_is_outside(shared: Path,
                                                                   capsys) -> None:
    (shared / "other").mkdir()
    (shared / "other" / "teams.pipe").write_text(TEAMS, "utf-8")
    (shared / "job").mkdir()
    main_file = shared / "job" / "p.pipe"
    main_file.write_text('import "../other/teams.pipe"\n', "utf-8")
    (found,) = _json([str(main_file)], capsys)
    assert found["code"] == "P002" and "reaches outside the project root" in found["message"]
    assert "`pyproject.toml` or `.git`" in found["help"]


def test_without_a_marker_the_home_folder_is_not_the_root(tmp_path: Path, monkeypatch:
                                                          pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / "pipes" / "fraud").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    assert project_root(home / "pipes" / "fraud" / "p.pipe") == (home / "pipes").resolve()
    assert project_root(home / "p.pipe") == home.resolve()


def test_a_marker_still_sets_the_root(shared: Path) -> None:
    (shared / "job" / "a" / "b").mkdir(parents=True)
    (shared / "job" / "a" / ".git").mkdir()
    assert project_root(shared / "job" / "a" / "b" / "p.pipe") == (shared / "job" / "a").resolve()


# ------------------------------------------------------------------ rule pages and help


def test_the_sup001_page_names_comments_that_are_not_suppressions() -> None:
    doc = load_all()["SUP001"].doc
    assert "looks like a suppression but is not one pipec understands" in doc
    for spelling in ("# pipec: ignore[VAL002`", "# pipec: ignore VAL002`",
                     "# PIPEC: IGNORE[VAL002]"):
        assert spelling in doc


SELF_APPROVAL = """\
team ml { contact "#ml"; role ml }
team risk { contact "#risk"; role risk }
team product { contact "#product"; role product }
pipeline p {
  owner ml
  risk RISK
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  evaluate m {
    owners ml, product, risk
    primary roc_auc >= 0.8
    approval by ml
  }
}
"""


@pytest.mark.parametrize(("risk", "wanted", "unwanted"), [
    ("high", "`role risk`", "product"),
    ("medium", "risk or product", "`role risk`"),
    ("low", "risk or product", "`role risk`"),
])
def test_gate009_help_follows_the_risk_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys, risk: str, wanted: str,
                                             unwanted: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.pipe").write_text(SELF_APPROVAL.replace("RISK", risk), "utf-8")
    helps = [d["help"] for d in _json(["p.pipe"], capsys) if d["code"] == "GATE009"]
    assert len(helps) == 1
    assert wanted in helps[0] and unwanted not in helps[0]
