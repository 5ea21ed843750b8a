"""QA of how a team wires pipec into its repository: the pre-commit hooks' command
(`pipec check --with-importers` on the changed files), project settings and the
machine formats as pre-commit and code scanning read them."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pipec.loader
import pytest
from pipec.cli import main

ROOT = Path(__file__).resolve().parents[2]
FRAUD = ROOT / "examples" / "fraud"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each file (by the name it is parsed under) is parsed."""
    counted: Counter[str] = Counter()
    parse_bytes = pipec.loader.parse_bytes

    def counting(data: bytes, display: str, *args: object, **kwargs: object) -> object:
        counted[display] += 1
        return parse_bytes(data, display, *args, **kwargs)

    monkeypatch.setattr(pipec.loader, "parse_bytes", counting)
    return counted


def _project(root: Path) -> None:
    """A repository with the fraud pipeline, a second pipeline importing its teams, and a
    file unrelated to them."""
    (root / ".git").mkdir(parents=True)
    shutil.copytree(FRAUD, root / "fraud")
    second = (FRAUD / "fraud.pipe").read_text("utf-8").replace(
        'import "teams.pipe"', 'import "../fraud/teams.pipe"')
    (root / "second").mkdir()
    (root / "second" / "second.pipe").write_text(second, "utf-8")
    (root / "lone.pipe").write_text('team solo { contact "#solo"; role ml }\n', "utf-8")


def _json_check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list]:
    status = main(["check", "--format", "json", *args])
    return status, json.loads(capsys.readouterr().out)


def test_with_importers_parses_each_file_of_the_project_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], parses: Counter[str]) -> None:
    """Finding the importers parses every file of the project; the check then used to
    parse the named file and each importer (and what they import) a second time: a
    pre-commit run in a big project paid for every file twice."""
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    status, found = _json_check(capsys, "--with-importers", "fraud/teams.pipe")
    assert status == 0
    assert found == []
    assert dict(parses) == {"fraud/teams.pipe": 1, "fraud/fraud.pipe": 1,
                            "second/second.pipe": 1, "lone.pipe": 1}


def test_with_importers_reports_as_naming_the_importers_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The parses taken over from the search must not change a single name or finding:
    the output is the output of naming the importers, in their (sorted) order."""
    _project(tmp_path)
    teams = tmp_path / "fraud" / "teams.pipe"
    teams.write_text("".join(line for line in teams.read_text("utf-8").splitlines(True)
                             if not line.startswith("team risk ")), "utf-8")
    monkeypatch.chdir(tmp_path)
    with_importers = _json_check(capsys, "--with-importers", "fraud/teams.pipe")
    named = _json_check(capsys, "fraud/teams.pipe", "fraud/fraud.pipe", "second/second.pipe")
    assert with_importers == named
    assert {(d["code"], d["file"]) for d in named[1]} == {
        ("OWN002", "fraud/fraud.pipe"), ("OWN002", "second/second.pipe")}


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symbolic links are needed")
def test_with_importers_names_a_file_imported_through_a_link_as_imported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A file the search parsed under one name (`shared/more.pipe`) but the check first
    reaches through an import under another (`link/more.pipe`, a linked folder) is
    parsed again under that name: its findings are shown as without the search."""
    _project(tmp_path)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "more.pipe").write_text(
        'import "../fraud/teams.pipe"\n'
        "# pipec: ignore[OWN001] nothing follows this suppression\n", "utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "shared", target_is_directory=True)
    pipeline = tmp_path / "second" / "second.pipe"
    pipeline.write_text(pipeline.read_text("utf-8").replace(
        'import "../fraud/teams.pipe"', 'import "../link/more.pipe"'), "utf-8")
    monkeypatch.chdir(tmp_path)
    with_importers = _json_check(capsys, "--with-importers", "fraud/teams.pipe")
    named = _json_check(capsys, "fraud/teams.pipe", "fraud/fraud.pipe",
                        "second/second.pipe", "shared/more.pipe")
    assert with_importers == named
    assert "link/more.pipe" in {d["file"] for d in named[1]}


def _glob_project(root: Path) -> None:
    """A pipeline with a LEAK002 in a subfolder, a data file beside it, and a vendored
    copy of the pipeline in `node_modules`."""
    bad = (ROOT / "tests" / "fixtures" / "rules" / "LEAK002.pipe").read_text("utf-8")
    (root / "jobs").mkdir()
    (root / "jobs" / "job.pipe").write_text(bad, "utf-8")
    (root / "jobs" / "events.parquet").write_bytes(b"PAR1\xb5\x00\xff")
    (root / "notes.txt").write_text("not a pipeline\n", "utf-8")
    (root / "node_modules" / "pkg").mkdir(parents=True)
    (root / "node_modules" / "pkg" / "vendored.pipe").write_text(bad, "utf-8")


@pytest.mark.parametrize("pattern", ["*", "**", "**/*.pipe", "j*"])
def test_a_glob_checks_the_pipe_files_it_stands_for(
        pattern: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A glob pipec expands itself (quoted, or on a shell that does not) stands for what
    its matches name: a matched folder's `.pipe` files (`'*'` matched `jobs` and checked
    nothing in it: exit 0), never a data file (`'**'` reported the Parquet file as P001),
    and not what a folder argument skips (`node_modules`)."""
    _glob_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    status, found = _json_check(capsys, pattern)
    assert status == 1
    assert {(d["code"], d["file"]) for d in found} == {("LEAK002", "jobs/job.pipe")}


def test_a_glob_naming_a_skipped_folder_enters_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _glob_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    status, found = _json_check(capsys, "node_modules/*/*.pipe")
    assert status == 1
    assert {d["file"] for d in found} == {"node_modules/pkg/vendored.pipe"}


def test_a_glob_matching_no_pipe_file_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _glob_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "*.txt"]) == 2
    assert "no .pipe files found in `*.txt`" in capsys.readouterr().err


@pytest.mark.parametrize("output_format", ["json", "sarif"])
def test_a_project_with_unusable_settings_does_not_hide_the_others(
        output_format: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A monorepo's pre-commit run passes the files of several projects at once: a typo
    in one project's `[tool.pipec]` is a usage error (exit 2, said once), but it stopped
    the whole run, so the other project's findings went unreported and a code-scanning
    upload got no document at all."""
    (tmp_path / ".git").mkdir()
    for project in ("broken", "sound"):
        (tmp_path / project).mkdir()
        shutil.copy(ROOT / "tests" / "fixtures" / "rules" / "LEAK002.pipe",
                    tmp_path / project / "job.pipe")
    (tmp_path / "broken" / "other.pipe").write_text('team a { contact "#a"; role ml }\n')
    (tmp_path / "broken" / "pyproject.toml").write_text('[tool.pipec]\nselct = ["LEAK"]\n')
    (tmp_path / "sound" / "pyproject.toml").write_text('[tool.pipec]\nselect = ["LEAK"]\n')
    monkeypatch.chdir(tmp_path)
    status = main(["check", "--format", output_format, "broken/job.pipe", "broken/other.pipe",
                   "sound/job.pipe"])
    out, err = capsys.readouterr()
    assert status == 2
    assert err.count("unknown setting `selct`; did you mean `select`?") == 1
    files = [d["file"] for d in json.loads(out)] if output_format == "json" else [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in json.loads(out)["runs"][0]["results"]]
    assert files == ["sound/job.pipe", "sound/job.pipe"]


def test_a_pyproject_that_is_not_toml_is_shown_at_its_line_and_column(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Bad input gets `file:line:col` and a caret, named as the log names the checked
    files: the message was the machine path in backticks with the position as words."""
    (tmp_path / "ml").mkdir()
    (tmp_path / "ml" / "pyproject.toml").write_text(
        '[project]\nname = "ml"\n[tool.pipec\nstrict = true\n', "utf-8")
    (tmp_path / "ml" / "teams.pipe").write_text('team ml { contact "#ml"; role ml }\n')
    monkeypatch.chdir(tmp_path)
    assert main(["check", "ml/teams.pipe"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "pipec: ml/pyproject.toml:3:12: the file is not valid TOML: "
        "Expected ']' at the end of a table declaration",
        "  |",
        "3 | [tool.pipec",
        "  |            ^",
    ]


def test_a_pyproject_cut_short_is_shown_at_its_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.pipec]\nselect = ["LEAK",\n', "utf-8")
    (tmp_path / "teams.pipe").write_text('team ml { contact "#ml"; role ml }\n')
    monkeypatch.chdir(tmp_path)
    assert main(["check", "teams.pipe"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "pipec: pyproject.toml:2:18: the file is not valid TOML: Invalid value",
        "  |",
        '2 | select = ["LEAK",',
        "  |                  ^",
    ]


def test_a_setting_error_names_the_pyproject_from_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ml").mkdir()
    (tmp_path / "ml" / "pyproject.toml").write_text('[tool.pipec]\nselct = ["LEAK"]\n')
    (tmp_path / "ml" / "teams.pipe").write_text('team ml { contact "#ml"; role ml }\n')
    monkeypatch.chdir(tmp_path)
    assert main(["check", "ml/teams.pipe"]) == 2
    assert capsys.readouterr().err == ("pipec: `ml/pyproject.toml` [tool.pipec]: unknown "
                                       "setting `selct`; did you mean `select`?\n")


def test_with_importers_does_not_parse_the_projects_nested_in_the_named_files_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], parses: Counter[str]) -> None:
    """A file at a monorepo's root belongs to the root's project; the projects in its
    subfolders (each with its own `pyproject.toml`) cannot import it (P002), yet every
    file of theirs was parsed to look for importers."""
    _project(tmp_path)
    (tmp_path / "fraud" / "pyproject.toml").write_text("[tool.pipec]\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    status, found = _json_check(capsys, "--with-importers", "lone.pipe")
    assert (status, found) == (0, [])
    assert dict(parses) == {"lone.pipe": 1, "second/second.pipe": 1}


def test_with_importers_finds_the_pipelines_of_the_project_around_a_nested_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A repository's pipelines may import a folder that is a project of its own (its own
    `pyproject.toml`): the import stays inside the importer's root. Only the named
    file's own project was searched, so a commit dropping a team from `shared/teams.pipe`
    passed while the pipeline importing it no longer checked."""
    _project(tmp_path)
    (tmp_path / "fraud" / "pyproject.toml").write_text("[tool.pipec]\n", "utf-8")
    teams = tmp_path / "fraud" / "teams.pipe"
    teams.write_text("".join(line for line in teams.read_text("utf-8").splitlines(True)
                             if not line.startswith("team risk ")), "utf-8")
    monkeypatch.chdir(tmp_path)
    status, found = _json_check(capsys, "--with-importers", "fraud/teams.pipe")
    assert status == 1
    assert {(d["code"], d["file"]) for d in found} == {
        ("OWN002", "fraud/fraud.pipe"), ("OWN002", "second/second.pipe")}


@pytest.mark.parametrize("written, hint", [
    ("LEAK02", "did you mean `LEAK002` or `LEAK012`?"),
    ("OWN", "a suppression names whole codes, not a prefix: `OWN001`, `OWN002`"),
])
def test_a_suppression_of_an_unknown_code_says_which_code_was_meant(
        written: str, hint: str) -> None:
    """A typo in a suppression leaves the finding reported; the SUP001 said only that
    the code is unknown, not which one was meant (a prefix, as `select` takes, or a
    missing digit)."""
    from pipec.check import compile

    text = (ROOT / "tests" / "fixtures" / "rules" / "LEAK002.pipe").read_text("utf-8")
    text = text.replace("  split by time on at {",
                        f"  # pipec: ignore[{written}] reviewed\n  split by time on at {{")
    unknown = [d for d in compile(text).diagnostics if d.code == "SUP001"]
    assert [d.message for d in unknown] == [
        f"`{written}` is not a pipec rule, so the suppression suppresses nothing"]
    assert hint in unknown[0].help
