"""QA of the machine formats and the pre-commit hooks: SARIF fingerprints that code
scanning can match across runs, and a pre-commit run that checks the pipelines
importing a changed file."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from pipec.cli import main

ROOT = Path(__file__).resolve().parents[2]
FRAUD = ROOT / "examples" / "fraud"
SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-2.1.0.schema.json"

# Two findings of one rule on two lines of the same text.
TWO_BAD_OWNERS = """\
team ml { contact "#ml"; role ml }
pipeline p {
  owner ml
  on_failure block
  source s { from csv "s.csv"; snapshot 2024-01-01; schema { id: string } }
  validate s {
    owner nobody
    require id
  }
  label l {
    owner nobody
    column id
  }
}
"""


def _sarif(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    main(["check", "--format", "sarif", *args])
    return json.loads(capsys.readouterr().out)


def _fingerprints(log: dict) -> list[tuple[str, int, dict]]:
    return [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
             r["partialFingerprints"]) for r in log["runs"][0]["results"]]


def test_sarif_fingerprints_survive_lines_added_above_and_tell_findings_apart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """Without `partialFingerprints`, code scanning (uploading through the API) cannot
    match an alert to the previous run's and shows it again as a new one."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    Path("p.pipe").write_text(TWO_BAD_OWNERS, "utf-8")
    before = _fingerprints(_sarif(["p.pipe"], capsys))
    Path("p.pipe").write_text("# a comment\n\n" + TWO_BAD_OWNERS, "utf-8")
    after_log = _sarif(["p.pipe"], capsys)
    after = _fingerprints(after_log)
    owners = [entry for entry in before if entry[0] == "OWN002"]
    assert len(owners) == 2, before
    assert [line + 2 for _, line, _ in before] == [line for _, line, _ in after]
    assert [prints for *_, prints in before] == [prints for *_, prints in after]
    assert len({json.dumps(prints) for *_, prints in after}) == len(after)
    assert all(key != "primaryLocationLineHash" for *_, prints in after for key in prints)
    if SARIF_SCHEMA.is_file():
        import jsonschema

        schema = json.loads(SARIF_SCHEMA.read_text("utf-8"))
        assert not list(jsonschema.Draft4Validator(schema).iter_errors(after_log))


def _fraud_without_the_risk_team(folder: Path) -> None:
    shutil.copytree(FRAUD, folder)
    teams = folder / "teams.pipe"
    kept = [line for line in teams.read_text("utf-8").splitlines()
            if not line.startswith("team risk ")]
    teams.write_text("\n".join(kept) + "\n", "utf-8")


def test_with_importers_checks_the_pipelines_importing_a_named_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    (tmp_path / ".git").mkdir()
    _fraud_without_the_risk_team(tmp_path / "fraud")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--format", "json", "fraud/teams.pipe"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["check", "--format", "json", "--with-importers", "fraud/teams.pipe"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert {(d["code"], d["file"]) for d in found} >= {("OWN002", "fraud/fraud.pipe")}


def test_the_pre_commit_check_hook_fails_when_only_an_imported_file_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """pre-commit passes only the changed files: a commit that removes a team from
    `teams.pipe` must not pass while the pipeline importing it no longer checks."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    entry = shlex.split(next(h["entry"] for h in hooks if h["id"] == "pipec-check"))
    assert entry[0] == "pipec"
    (tmp_path / ".git").mkdir()
    _fraud_without_the_risk_team(tmp_path / "fraud")
    monkeypatch.chdir(tmp_path)
    assert main([*entry[1:], "fraud/teams.pipe"]) == 1
    assert "fraud/fraud.pipe:" in capsys.readouterr().out
