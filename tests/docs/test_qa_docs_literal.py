"""QA: every user string in the Markdown pages reads literally, wherever the templates
put it (a paragraph of its own, a table cell, a list item), with the characters that
mean something to GitHub-flavoured Markdown: emphasis, strikethrough, maths, HTML,
table pipes, backslashes and block markers at the start of a line."""

from __future__ import annotations

import html
import re

import pytest
from pipec.docsite.text import md_text

markdown_it = pytest.importorskip("markdown_it")
# CommonMark with GFM's tables and strikethrough: what GitHub adds that a value could
# trigger by accident (its maths is checked on the source, below).
RENDERER = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])

VALUES = ["costs $5 to $10 a run", "$x$ and $$y$$", "~~struck~~", "~one~", "a < b > c",
          "<b>bold</b>", "a | b", "C:\\temp\\", "ends in \\", "# heading", "> quote",
          "- item", "+ item", "* item", "1. item", "1) item", "***", "___", "- - -", "===",
          "    code", "`tick`", "*em* _em_", "a_b_c", "[a](b)", "![a](b)", "[^1]", "&copy;",
          "&#35;", "<http://example.com>", "line\n# two", "line\n    two"]
CONTEXTS = {
    "paragraph": ("{}\n", r"<p>(.*)</p>"),
    "table cell": ("| h | k |\n|---|---|\n| {} | z |\n", r"<tbody>\s*<tr>\s*<td>(.*?)</td>"),
    "list item": ("- Owner: {}\n", r"<li>Owner: (.*)</li>"),
}


def _shown(rendered: str, pattern: str) -> str:
    """The text a reader sees in the rendered value: line breaks as `\\n`, no tags."""
    match = re.search(pattern, rendered, re.DOTALL)
    assert match, rendered
    text = re.sub(r"<br\s*/?>", "\n", match.group(1))
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize("value", VALUES)
def test_a_value_reads_as_written(value: str, context: str) -> None:
    template, pattern = CONTEXTS[context]
    rendered = RENDERER.render(template.format(md_text(value)))
    assert _shown(rendered, pattern) == value, rendered


@pytest.mark.parametrize("value", [v for v in VALUES if "$" in v])
def test_every_dollar_is_escaped(value: str) -> None:
    """Renderers with dollar maths (GitHub's) read `$...$` on the source: a `$` that no
    backslash escapes may open a formula."""
    assert not re.search(r"(?<!\\)(?:\\\\)*\$", md_text(value)), md_text(value)
