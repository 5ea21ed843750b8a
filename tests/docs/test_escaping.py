"""Hostile strings never reach the pages unescaped: neither from a .pipe file (where
free text lives in strings) nor from a crafted manifest (where even team and stage
names could be anything)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from docs.docsite_support import build
from pipec.docsite import render_site

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "nav", "main", "section",
    "h1", "h2", "h3", "h4", "p", "ul", "li", "a", "span", "code", "table", "thead", "tbody",
    "tr", "th", "td", "dl", "dt", "dd", "br", "div",
    "svg", "defs", "marker", "path", "rect", "text",
}
EVIL_NAME = "<script>alert('x')</script>\"'"
EVIL_STAGE = "train.\"><img src=x onerror=alert(1)>"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def _assert_safe_html(html: str) -> None:
    parser = _Tags()
    parser.feed(html)
    assert parser.tags <= ALLOWED_TAGS, parser.tags - ALLOWED_TAGS
    assert parser.handlers == []


def _assert_safe_markdown(text: str) -> None:
    # Outside code spans a `<` is always backslash-escaped or one of our own tags.
    prose = re.sub(r"(`+).*?\1", "", text)
    for match in re.finditer(r"(?<!\\)<(/?[A-Za-z]+)", prose):
        assert match.group(1) in ("br", "a", "/a"), match.group(0)


def test_hostile_strings_in_a_pipe_file(tmp_path: Path) -> None:
    assert build(tmp_path / "site", "tests/docs/fixtures/hostile.pipe") == 0
    html = (tmp_path / "site" / "index.html").read_text("utf-8")
    _assert_safe_html(html)
    assert "&lt;/td&gt;&lt;script&gt;alert(&#39;contact&#39;)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;svg onload=alert(1)&gt;" in html
    for page in ("index.md", "hostile_demo.md"):
        _assert_safe_markdown((tmp_path / "site" / page).read_text("utf-8"))
    md = (tmp_path / "site" / "hostile_demo.md").read_text("utf-8")
    assert "a\\|b \\<img src=x onerror=alert(1)\\> &amp; \\`tick\\`" in md


def _hostile_manifest(site: Path) -> dict:
    text = (site / "manifest.json").read_text("utf-8")
    text = text.replace("ml_fraud", json.dumps(EVIL_NAME)[1:-1])
    text = text.replace("train.fraud_gbm", json.dumps(EVIL_STAGE)[1:-1])
    return json.loads(text)


def test_hostile_team_and_stage_names_in_a_manifest(site: Path) -> None:
    pages = render_site(_hostile_manifest(site))
    _assert_safe_html(pages["index.html"])
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&#34;&#39;" in pages["index.html"]
    for name, text in pages.items():
        if name.endswith(".md"):
            _assert_safe_markdown(text)
    mermaid = pages["fraud_detection.md"].split("```mermaid")[1].split("```")[0]
    assert "<script" not in mermaid and "<img" not in mermaid
    assert "#lt;script#gt;" in mermaid
