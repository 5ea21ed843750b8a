"""`pipec fmt` as a demanding user runs it (QA pass): a block whose last comment is
followed by a blank line before its `}` formats as the same block without that blank
line, as fmt writes no blank line before a closing bracket anywhere else."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.cli import main
from pipec.fmt import format_module
from pipec.parser import parse_text

TIGHT = """pipeline p {
  train m {
    seed 1
    # the seed is pinned for the audit
  }
}
"""


def _fmt(text: str) -> str:
    result = parse_text(text, "model.pipe")
    assert result.module is not None, result.diagnostics
    return format_module(result.module, text)


@pytest.mark.parametrize("loose", [
    TIGHT.replace("audit\n", "audit\n\n"),
    TIGHT.replace("audit\n", "audit\n\n\n"),
])
def test_no_blank_line_before_a_closing_brace_after_a_comment(loose: str) -> None:
    assert _fmt(loose) == TIGHT


def test_a_blank_line_between_comments_before_a_closing_bracket_stays() -> None:
    text = ("pipeline p {\n  train m {\n    params {\n      a: 1\n      # x\n\n"
            "      # y\n\n    }\n  }\n}\n")
    assert _fmt(text) == ("pipeline p {\n  train m {\n    params {\n      a: 1\n      # x\n\n"
                          "      # y\n    }\n  }\n}\n")


def test_fmt_check_accepts_the_canonical_form(tmp_path: Path) -> None:
    path = tmp_path / "model.pipe"
    path.write_text(TIGHT.replace("audit\n", "audit\n\n"), encoding="utf-8")
    assert main(["fmt", "--check", str(path)]) == 1
    assert main(["fmt", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == TIGHT
    assert main(["fmt", "--check", str(path)]) == 0
