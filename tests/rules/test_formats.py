"""`--format sarif` validates against SARIF 2.1.0; `--format github` escapes properly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipec.check import compile
from pipec.cli import main
from pipec.diagnostics import Diagnostic, Severity
from pipec.nodes import Span
from pipec.render.github import annotation
from pipec.render.sarif import sarif_log
from pipec.rules import load_all

from .conftest import FIXTURES, REPO, SHARED

SCHEMA = SHARED / "schemas" / "sarif-2.1.0.schema.json"


def _schema() -> dict:
    if not SCHEMA.is_file():
        pytest.skip("the SARIF 2.1.0 schema (../shared/schemas) is not present")
    return json.loads(SCHEMA.read_text("utf-8"))


def test_sarif_validates(capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    import jsonschema

    monkeypatch.chdir(REPO)
    files = [str((FIXTURES / f"{c}.pipe").relative_to(REPO)) for c in ("LEAK002", "GATE005")]
    assert main(["check", "--format", "sarif", *files]) == 1
    log = json.loads(capsys.readouterr().out)
    validator = jsonschema.Draft4Validator(
        _schema(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, errors[0]
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == set(load_all())
    for descriptor in rules:
        assert descriptor["shortDescription"]["text"]
        assert descriptor["fullDescription"]["text"]
        assert descriptor["helpUri"] == f"urn:pipec:rule:{descriptor['id']}"
        assert descriptor["defaultConfiguration"]["level"] in ("error", "warning", "note")
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["LEAK002", "LEAK002", "GATE005"]
    first = results[0]
    assert rules[first["ruleIndex"]]["id"] == "LEAK002"
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "tests/fixtures/rules/LEAK002.pipe",
                             "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 26, "startColumn": 5, "endLine": 26, "endColumn": 12}}
    assert results[2]["level"] == "warning"


def test_sarif_of_a_clean_file_validates() -> None:
    import jsonschema

    jsonschema.Draft4Validator(_schema()).validate(sarif_log([]))


def test_sarif_odd_paths() -> None:
    import jsonschema

    diagnostic = Diagnostic("SEC001", Severity.ERROR, "m", Span("<string>", 1, 1, 1, 2))
    log = sarif_log([diagnostic])
    jsonschema.Draft4Validator(_schema()).validate(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "%3Cstring%3E"


def test_github_annotation_escaping() -> None:
    span = Span("dir,x/a:b%.pipe", 3, 5, 4, 2)
    diagnostic = Diagnostic("LEAK002", Severity.ERROR, "100% sure:\r\nnext", span, "fix, it")
    assert annotation(diagnostic) == (
        "::error file=dir%2Cx/a%3Ab%25.pipe,line=3,col=5,endLine=4,endColumn=2,"
        "title=LEAK002::100%25 sure:%0D%0Anext%0Ahelp: fix, it")
    warning = Diagnostic("GATE005", Severity.WARNING, "w", span)
    assert annotation(warning).startswith("::warning ")
    note = Diagnostic("GATE005", Severity.NOTE, "n", span)
    assert annotation(note).startswith("::notice ")


def test_github_format_from_the_command_line(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert main(["check", "--format", "github", "tests/fixtures/rules/GATE005.pipe"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [line for line in out if line.startswith("::warning file=tests/fixtures/")]
    assert "title=GATE005::" in out[0]


def test_json_format_still_lists_objects(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(FIXTURES / "GATE005.pipe")
    main(["check", "--format", "json", str(path)])
    (item,) = json.loads(capsys.readouterr().out)
    assert item["code"] == "GATE005" and item["line"] == 32
    assert compile(path).diagnostics[0].span.line == 32
