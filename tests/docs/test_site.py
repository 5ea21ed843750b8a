"""`pipec docs` on the examples: the files, the schema, round trip and determinism."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
from docs.docsite_support import FIXTURES, REPO, build, in_repo, read_tree
from pipec.check import CheckOptions, compile
from pipec.docsite import build_docs_manifest, render_site, site_files
from pipec.loader import Loader

SCHEMA = REPO / "docs" / "manifest.schema.json"
PAGES = {"manifest.json", "index.html", "index.md", "flights_delay.md", "fraud_detection.md"}


def _manifest(site: Path) -> dict:
    return json.loads((site / "manifest.json").read_text("utf-8"))


def test_writes_every_file(site: Path) -> None:
    assert set(read_tree(site)) == PAGES


def test_manifest_validates_against_the_published_schema(site: Path) -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(_manifest(site), schema, cls=jsonschema.Draft202012Validator)


def test_manifest_is_versioned_and_dbt_shaped(site: Path) -> None:
    manifest = _manifest(site)
    assert manifest["schema_version"] == 1
    assert manifest["generator"]["name"] == "pipec"
    fraud = next(p for p in manifest["pipelines"] if p["name"] == "fraud_detection")
    assert fraud["parent_map"]["join"] == ["features.account_risk", "label.is_fraud",
                                           "validate.transactions"]
    assert fraud["child_map"]["split"] == ["evaluate.fraud_gbm", "train.fraud_gbm"]
    evaluate = fraud["nodes"]["evaluate.fraud_gbm"]
    assert evaluate["owners"] == ["ml_fraud", "fraud_product", "risk"]
    assert {c["artifact"] for c in evaluate["consumes"]} == {"Model", "TestSet"}
    assert fraud["teams"]["risk"] == {"contact": "#risk", "role": "risk", "description": None,
                                      "file": "examples/fraud/teams.pipe"}
    repro = fraud["reproducibility"]
    assert repro["features"][0]["version"] == 12
    assert len(repro["features"][0]["definition_hash"]) == 64
    assert repro["labels"][0]["window_s"] == 30 * 86400
    assert repro["training"][0]["seed"] == 42
    assert fraud["retrain"]["summary"] == 'scheduled "0 3 * * *"'
    assert fraud["approvals"] == [{"approver": "risk", "register": "register.fraud_gbm",
                                   "stage": "approval.fraud_gbm"}]


def test_pages_rendered_from_the_manifest_on_disk_are_identical(site: Path) -> None:
    written = read_tree(site)
    again = site_files(_manifest(site))
    assert again == written
    assert {k: v.encode() for k, v in render_site(_manifest(site)).items()} == \
        {k: v for k, v in written.items() if k != "manifest.json"}


def test_same_input_same_bytes(tmp_path: Path, site: Path) -> None:
    # A folder and a glob name the same files as the site fixture's glob.
    assert build(tmp_path / "again", "examples/fraud", "examples/flights/*.pipe") == 0
    assert read_tree(tmp_path / "again") == read_tree(site)


def test_same_bytes_from_another_working_directory(tmp_path: Path, site: Path,
                                                  monkeypatch) -> None:
    """Files are named from the repository root, not from where `pipec docs` ran."""
    from pipec.cli import main

    monkeypatch.chdir(REPO / "examples")
    assert main(["docs", "*/*.pipe", "-o", str(tmp_path / "there")]) == 0
    assert read_tree(tmp_path / "there") == read_tree(site)


def test_no_machine_paths_or_timestamps(site: Path) -> None:
    for name, data in read_tree(site).items():
        text = data.decode("utf-8")
        assert str(REPO) not in text, name
        assert str(site) not in text, name
        assert not re.search(r"20\d\d-\d\d-\d\dT\d\d:\d\d", text), name


def test_html_is_self_contained_and_every_anchor_resolves(site: Path) -> None:
    html = (site / "index.html").read_text("utf-8")
    urls = set(re.findall(r"(?:https?:)?//[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert "<script" not in html and "<link" not in html and " src=" not in html
    ids = set(re.findall(r' id="([^"]+)"', html))
    targets = set(re.findall(r'href="#([^"]+)"', html))
    assert targets and targets <= ids, targets - ids
    manifest = _manifest(site)
    for pipeline in manifest["pipelines"]:
        for stage_id in pipeline["order"]:
            assert f'href="#stage-{pipeline["slug"]}--{stage_id}"' in html


def test_markdown_pages(site: Path) -> None:
    fraud = (site / "fraud_detection.md").read_text("utf-8")
    assert "```mermaid\nflowchart TD\n" in fraud
    assert 'train__fraud_gbm["train.fraud_gbm<br/>owner: ml_fraud"]' in fraud
    for heading in ("## Ownership", "## Reproducibility contract", "## Validation rules",
                    "## Gates", "## Retraining", "## Open diagnostics"):
        assert heading in fraud
    assert "`approval by` " not in fraud
    assert "| `compare champion roc_auc >= -0.01` | compare\\_champion | blocks |" in fraud
    index = (site / "index.md").read_text("utf-8")
    assert "[`fraud_detection`](fraud_detection.md)" in index


def test_warnings_are_listed_with_codes(tmp_path: Path) -> None:
    assert build(tmp_path / "site", "tests/docs/fixtures/hostile.pipe") == 0
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text("utf-8"))
    codes = {d["code"] for d in manifest["pipelines"][0]["diagnostics"]}
    assert "FAIL001" in codes
    page = (tmp_path / "site" / "hostile_demo.md").read_text("utf-8")
    assert "| `FAIL001` | warning | `tests/docs/fixtures/hostile.pipe:" in page


def test_organisation_view_lists_undeclared_owners() -> None:
    with in_repo():
        program = compile(FIXTURES.relative_to(REPO) / "undeclared.pipe", loader=Loader(),
                          options=CheckOptions(ignore={"OWN001", "OWN002"}))
        assert program.ok
        manifest = build_docs_manifest([program])
    undeclared = {(u["stage"], u["owner"], u["reason"])
                  for u in manifest["organisation"]["undeclared"]}
    assert ("source.events", "ghost_team", "not declared as a team") in undeclared
    assert ("split", None, "no owner") in undeclared
    team = manifest["organisation"]["teams"][0]
    assert team["name"] == "analysts"
    assert {s["stage"] for s in team["stages"]} >= {"validate.events", "train.model"}
    html = render_site(manifest)["index.html"]
    assert "ghost_team" in html and "not declared as a team" in html


def test_refuses_programs_with_errors(tmp_path: Path) -> None:
    assert build(tmp_path / "site", "tests/docs/fixtures/undeclared.pipe") == 1
    assert not (tmp_path / "site").exists()


def test_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    assert build(tmp_path / "site", "no/such/file.pipe") == 2


def test_an_entity_split_names_the_column_it_uses(tmp_path: Path) -> None:
    """QA: `split by entity` without `on` said only "by entity"; the runtime splits on the
    base source's entity, and the docs now say which column that is."""
    text = (FIXTURES / "hostile.pipe").read_text("utf-8")
    start = text.index("  split by time on at {")
    end = text.index("  }\n", start) + 4
    source = tmp_path / "entity_split.pipe"
    source.write_text(text[:start] + "  split by entity { test 20%; seed 1 }\n" + text[end:],
                      "utf-8")
    assert build(tmp_path / "site", str(source)) == 0
    split = _manifest(tmp_path / "site")["pipelines"][0]["reproducibility"]["split"]
    assert split["on"] == "user_id"
    assert split["summary"].startswith("by entity on user_id;")


def test_each_gate_line_says_which_gate_set_it_comes_from(site: Path) -> None:
    """flights' evaluate has `calibration ece <= 0.05` of its own and `ece <= 0.1` from
    `use binary_classifier`: each line names where it comes from, in the manifest and
    on the page, so the two side by side are not a puzzle."""
    flights = next(p for p in _manifest(site)["pipelines"] if p["name"] == "flights_delay")
    (gates,) = flights["gates"]
    origins = {(line["summary"], line["from"]) for line in gates["gates"]}
    assert ("calibration ece <= 0.05", None) in origins
    assert ("calibration ece <= 0.1", "binary_classifier") in origins
    page = (site / "flights_delay.md").read_text("utf-8")
    assert "| `calibration ece <= 0.1` | calibration | blocks | gate set `binary_classifier` |" \
        in page
    assert "| `calibration ece <= 0.05` | calibration | blocks | this stage |" in page


def test_implied_stages_say_they_take_the_pipelines_failure_policy(site: Path) -> None:
    """The join and an approval have no block of their own and run under the pipeline's
    `on_failure`; the ownership table said "block" for them where every declared stage
    beside them said "block (pipeline default)"."""
    fraud = next(p for p in _manifest(site)["pipelines"] if p["name"] == "fraud_detection")
    for implied in ("join", "approval.fraud_gbm"):
        assert fraud["nodes"][implied]["on_failure_from"] == "pipeline"
    page = (site / "fraud_detection.md").read_text("utf-8")
    join_row = next(line for line in page.splitlines() if line.startswith("| [`join`]"))
    assert "| block (pipeline default)" in join_row


BARE = """team ml { contact "#ml"; role ml }
pipeline bare {
  owner ml
  on_failure block
  examples from events
  source events {
    from parquet "events.parquet"
    snapshot 2026-01-01
    time at
    schema { at: timestamp, amount: float }
  }
}
"""


def test_a_pipeline_without_features_or_training_says_so(tmp_path: Path) -> None:
    """The Markdown page printed the header of an empty table for each, where the HTML
    page and the labels section say there is none."""
    (tmp_path / "bare.pipe").write_text(BARE, encoding="utf-8")
    assert build(tmp_path / "site", str(tmp_path / "bare.pipe")) == 0
    page = (tmp_path / "site" / "bare.md").read_text("utf-8")
    assert "### Feature versions\n\nNo feature views.\n" in page
    assert "### Training: parameters and seeds\n\nNo train stage.\n" in page
    assert "| Feature view |" not in page and "| Stage | Model |" not in page
    assert "no train stage" in (tmp_path / "site" / "index.html").read_text("utf-8")
