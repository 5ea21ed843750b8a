"""`pipec docs` into a folder that holds an earlier site, and small wording checks."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipec.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_a_renamed_pipeline_leaves_no_stale_page(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "fraud", tmp_path / "fraud")
    pipe, site = tmp_path / "fraud" / "fraud.pipe", tmp_path / "site"
    assert main(["docs", str(pipe), "-o", str(site)]) == 0
    (site / "notes.md").write_text("the team's own page\n")
    pipe.write_text(pipe.read_text().replace("pipeline fraud_detection", "pipeline fraud_v2"))
    assert main(["docs", str(pipe), "-o", str(site)]) == 0
    assert sorted(p.name for p in site.iterdir()) == [
        "fraud_v2.md", "index.html", "index.md", "manifest.json", "notes.md"]


def test_a_manifest_not_written_by_pipec_removes_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "manifest.json").write_text('{"generator": {"name": "other"}, '
                                        '"pipelines": [{"slug": "keep"}]}')
    (site / "keep.md").write_text("mine\n")
    assert main(["docs", str(EXAMPLES / "fraud" / "fraud.pipe"), "-o", str(site)]) == 0
    assert (site / "keep.md").read_text() == "mine\n"


def test_one_retry_is_singular_in_markdown_as_in_html(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert main(["docs", str(EXAMPLES / "flights" / "flights.pipe"), "-o", str(site)]) == 0
    page = (site / "flights_delay.md").read_text()
    assert "1 retry, timeout 30m" in page and "1 retries" not in page
