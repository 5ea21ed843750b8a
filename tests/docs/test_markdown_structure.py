"""User strings never change the structure of the pages around them: a Unicode line
separator does not end a table row, a description that looks like a list or a code
block stays a paragraph, and a pipeline's name cannot take the index page's file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docs.docsite_support import FIXTURES, build
from pipec.docsite.text import md_text

# U+2028, U+2029, U+0085 and form feed: line breaks to `str.splitlines`, not to Markdown.
SEPARATORS = "a\u2028b\u2029c\u0085d\x0ce"


def _program(tmp_path: Path, **replacements: str) -> Path:
    text = (FIXTURES / "hostile.pipe").read_text("utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "program.pipe"
    path.write_text(text, "utf-8")
    return path


def test_a_pipeline_called_index_keeps_the_index_page(tmp_path: Path) -> None:
    path = _program(tmp_path, **{"pipeline hostile_demo": "pipeline index"})
    assert build(tmp_path / "site", str(path)) == 0
    index = (tmp_path / "site" / "index.md").read_text("utf-8")
    assert index.startswith("# Pipeline documentation\n")
    assert "[`index`](index-2.md)" in index
    assert (tmp_path / "site" / "index-2.md").read_text("utf-8").startswith("# Pipeline `index`")


def test_unicode_line_separators_stay_inside_their_table_cell(tmp_path: Path) -> None:
    contact = json.dumps(SEPARATORS)  # JSON escapes are the .pipe string escapes
    path = _program(tmp_path, **{'"a|b <img src=x onerror=alert(1)> & `tick`"': contact})
    assert build(tmp_path / "site", str(path)) == 0
    page = (tmp_path / "site" / "hostile_demo.md").read_text("utf-8")
    rows = [line for line in page.split("\n") if line.startswith("| [`source.events`]")]
    assert len(rows) == 2  # the ownership and the data snapshots tables
    # The controls among them (NEL, form feed) are shown as in diagnostics: U+FFFD, ␌.
    shown = "a\u2028b\u2029c\ufffdd\u240ce"
    assert shown in rows[0] and rows[0].endswith("| Dataset |")
    html = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert shown in html


@pytest.mark.parametrize("text", ["- not a list", "+ not a list", "1. not a list",
                                  "2026) not a list", "---", "===", "    not code",
                                  "\t- not code"])
def test_a_value_that_starts_a_line_stays_a_paragraph(text: str) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").render(f"# Title\n\n{md_text(text)}\n")
    assert html == f"<h1>Title</h1>\n<p>{text}</p>\n"


def test_ordinary_values_are_not_escaped_more_than_needed() -> None:
    for text in ("0.1.0", "-0.01", "2026-01-01", "a - b", "1.5x"):
        assert md_text(text) == text


def test_a_description_that_looks_like_a_list_is_shown_as_written(tmp_path: Path) -> None:
    description = json.dumps("- first\n    second")
    path = _program(tmp_path, **{
        'description "<script>alert(\\"desc\\")</script> | pipe\\nnewline ``` fence"':
            f"description {description}"})
    assert build(tmp_path / "site", str(path)) == 0
    page = (tmp_path / "site" / "hostile_demo.md").read_text("utf-8")
    assert "\n\\- first<br>    second\n" in page


def test_a_pipe_in_a_code_span_outside_a_table_is_not_escaped(tmp_path: Path) -> None:
    """`\\|` is the character `|` only in a GFM table cell; in a list item's code span a
    backslash is literal, so the page showed `a\\|b` for a value `a|b`."""
    digest = "@sha256:4b1c0f9e2d7a8c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d"
    path = _program(tmp_path, **{f'image "registry.example.com/x{digest}"':
                                 f'image "registry.example.com/a|b{digest}"'})
    assert build(tmp_path / "site", str(path)) == 0
    page = (tmp_path / "site" / "hostile_demo.md").read_text("utf-8")
    assert f"- Image: `registry.example.com/a|b{digest}`" in page
