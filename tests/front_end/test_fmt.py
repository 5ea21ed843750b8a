"""`pipec fmt`: canonical, idempotent, meaning-preserving, comments kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, REPO, example_files
from hypothesis import HealthCheck, given, settings
from pipec.fmt import format_module
from pipec.parser import parse_text
from support.pipe_strategies import programs


def fmt(text: str) -> str:
    result = parse_text(text, "x.pipe")
    assert result.module is not None, result.diagnostics
    return format_module(result.module, text)


def test_examples_are_canonical() -> None:
    for path in example_files() + sorted((REPO / "stdlib").rglob("*.pipe")):
        text = path.read_text("utf-8")
        assert fmt(text) == text, path


def test_badly_indented_copy_is_rewritten_with_its_comments(tmp_path: Path) -> None:
    original = (EXAMPLES / "flights" / "flights.pipe").read_text("utf-8")
    ugly = "\n".join("   " * (i % 3) + line.strip() for i, line in enumerate(
        original.splitlines())) + "\n"
    path = tmp_path / "flights.pipe"
    path.write_text(ugly, "utf-8")
    (tmp_path / "teams.pipe").write_text("", "utf-8")
    check = subprocess.run([sys.executable, "-m", "pipec", "fmt", "--check", str(path)],
                           capture_output=True, text=True)
    assert check.returncode == 1
    subprocess.run([sys.executable, "-m", "pipec", "fmt", str(path)], check=True,
                   capture_output=True)
    rewritten = path.read_text("utf-8")
    comments = [line.strip() for line in original.splitlines() if line.strip().startswith("#")]
    for comment in comments:
        assert comment in rewritten
    assert "# delays of a departed flight" in rewritten
    assert fmt(rewritten) == rewritten


def test_unparsable_file_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "bad.pipe"
    path.write_bytes(b"pipeline p {\n  window three\n")
    result = subprocess.run([sys.executable, "-m", "pipec", "fmt", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "P001" in result.stdout
    assert path.read_bytes() == b"pipeline p {\n  window three\n"


def test_a_file_with_nothing_to_keep_formats_to_empty() -> None:
    for text in ("", "\n", "\n\n  \n", "\t\n"):
        assert fmt(text) == "", repr(text)
    assert fmt("\n# only a comment\n\n") == "# only a comment\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_fmt_is_idempotent_and_preserves_meaning(text: str) -> None:
    before = parse_text(text, "x.pipe")
    assert before.module is not None, (text, before.diagnostics)
    once = format_module(before.module, text)
    after = parse_text(once, "x.pipe")
    assert after.module is not None, (once, after.diagnostics)
    assert after.module.items == before.module.items
    assert format_module(after.module, once) == once
    assert [c.text.rstrip() for c in after.module.comments] == [
        c.text.rstrip() for c in before.module.comments]
