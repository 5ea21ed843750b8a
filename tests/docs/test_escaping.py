"""Hostile strings never reach the pages unescaped: neither from a .pipe file (where
free text lives in strings) nor from a crafted manifest (where even team and stage
names could be anything)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
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


def test_controls_are_shown_and_the_alert_message_is_published(tmp_path: Path) -> None:
    """QA: a bidi override in a contact reversed its cell and a BEL made the HTML
    invalid; both are now shown by name or picture (manifest.json keeps the exact
    text). The `on_failure alert "MESSAGE"` text was missing from every page."""
    text = (Path("tests/docs/fixtures/hostile.pipe")).read_text("utf-8")
    text = text.replace('"a|b <img src=x onerror=alert(1)> & `tick`"',
                        '"\\u202e RTL override \\u0007 bell"')
    text = text.replace("  risk low\n", '  risk low\n  on_failure alert "page <b>on-call</b>"\n')
    source = tmp_path / "hostile_controls.pipe"
    source.write_text(text, "utf-8")
    assert build(tmp_path / "site", str(source)) == 0
    pages = {p.name: p.read_text("utf-8") for p in (tmp_path / "site").iterdir()}
    for name, page in pages.items():
        if name == "manifest.json":
            assert "\\u202e RTL override \\u0007 bell" in page or "\u202e" in page
            continue
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]", page), name
    assert "[U+202E] RTL override \u2407 bell" in pages["index.html"]
    assert 'alert "page &lt;b&gt;on-call&lt;/b&gt;"' in pages["index.html"]
    assert 'alert "page \\<b\\>on-call\\</b\\>"' in pages["hostile_demo.md"]


DOLLARS = "costs $5 to $10 a run"


def _unescaped_dollars(markdown: str) -> list[str]:
    """Each `$` outside code spans that no backslash escapes, with what follows it."""
    prose = re.sub(r"(`+).*?\1", "", markdown)
    return [m.group(0) for m in re.finditer(r"(?<!\\)(?:\\\\)*\$.{0,10}", prose)]


def test_dollars_in_free_text_read_as_dollars_not_maths(tmp_path: Path) -> None:
    """QA: a pipeline, stage or team description `costs $5 to $10 a run` went into the
    Markdown as written, and GitHub, which reads `$...$` as maths, showed `5 to ` as a
    formula. Every `$` of a user string is now `\\$`, CommonMark's literal dollar."""
    text = Path("tests/docs/fixtures/hostile.pipe").read_text("utf-8")
    edits = [('description "<script>alert(\\"desc\\")</script> | pipe\\nnewline ``` fence"',
              f'description "{DOLLARS}"'),
             ("  source events {\n    owner data_team\n",
              f'  source events {{\n    owner data_team\n    description "{DOLLARS}"\n'),
             ("role data }", f'role data; description "{DOLLARS}" }}')]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    source = tmp_path / "dollars.pipe"
    source.write_text(text, "utf-8")
    assert build(tmp_path / "site", str(source)) == 0
    page = (tmp_path / "site" / "hostile_demo.md").read_text("utf-8")
    index = (tmp_path / "site" / "index.md").read_text("utf-8")
    escaped = "costs \\$5 to \\$10 a run"
    assert page.count(escaped) == 2 and index.count(escaped) == 1
    assert _unescaped_dollars(page) == [] and _unescaped_dollars(index) == []
    markdown_it = pytest.importorskip("markdown_it")
    renderer = markdown_it.MarkdownIt("commonmark").enable("table")
    assert renderer.render(page).count(DOLLARS) == 2
    assert renderer.render(index).count(DOLLARS) == 1
