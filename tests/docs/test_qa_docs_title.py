"""QA: the HTML page's `<title>` (a browser tab, a bookmark, a search result) says what
the page documents. It said "Pipeline documentation" for every site."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from docs.docsite_support import build
from pipec.docsite import render_site

DASH = "\u2013"


class _Title(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.titles: list[str] = []
        self._depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._depth += tag == "svg"
        if tag == "title" and not self._depth:  # an SVG <title> is a tooltip
            self._in_title = True
            self.titles.append("")

    def handle_endtag(self, tag: str) -> None:
        self._depth -= tag == "svg"
        self._in_title = self._in_title and tag != "title"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.titles[-1] += data


def _title(page: str) -> str:
    parser = _Title()
    parser.feed(page)
    (title,) = parser.titles
    return title


def test_the_title_names_the_pipelines(site: Path) -> None:
    page = (site / "index.html").read_text("utf-8")
    assert _title(page) == f"flights_delay, fraud_detection {DASH} pipeline documentation"


def test_the_title_of_one_pipelines_page(tmp_path: Path) -> None:
    assert build(tmp_path / "site", "examples/flights/flights.pipe") == 0
    page = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert _title(page) == f"flights_delay {DASH} pipeline documentation"


def test_a_site_of_team_files_only_is_titled_by_its_teams(tmp_path: Path) -> None:
    assert build(tmp_path / "site", "examples/fraud/teams.pipe") == 0
    page = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert _title(page) == ("Teams data_platform, fraud_product, ml_fraud and 3 more "
                            f"{DASH} pipeline documentation")


def test_the_title_is_escaped(site: Path) -> None:
    """A crafted manifest's pipeline name is text in the title, never markup."""
    manifest = json.loads((site / "manifest.json").read_text("utf-8"))
    evil = "</title><script>alert('x')</script>&amp;"
    manifest["pipelines"][0]["name"] = evil
    page = render_site(manifest)["index.html"]
    assert _title(page) == f"{evil}, fraud_detection {DASH} pipeline documentation"
    assert "<script" not in page
