"""Diagnostics land on the right span, read like a person wrote them, and every
error in a file is reported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import REPO
from pipec.check import CheckOptions, compile
from pipec.parser import parse_bytes, parse_text
from pipec.render.text import render_plain

GOLDEN = REPO / "tests" / "fixtures" / "diagnostics"


def codes_at(text: str) -> list[tuple[str, int, int]]:
    result = parse_text(text, "t.pipe")
    return [(d.code, d.span.line, d.span.col) for d in result.diagnostics]


def test_syntax_error_position_and_wording() -> None:
    text = "pipeline p {\n  label l {\n    window three years\n  }\n}\n"
    result = parse_text(text, "t.pipe")
    [diagnostic] = result.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.col) == ("P001", 3, 12)
    assert diagnostic.message == ("expected a duration such as `30d` after `window`, "
                                  "found `three`")
    assert "Token" not in diagnostic.message and "__ANON" not in diagnostic.message


def test_every_syntax_error_is_reported() -> None:
    text = ("pipeline p {\n  label l {\n    window three\n  }\n"
            "  split by time { gap 3 }\n  train m {\n    seed x\n  }\n}\n")
    assert codes_at(text) == [("P001", 3, 12), ("P001", 5, 23), ("P001", 7, 10)]


def test_unclosed_block_names_its_line() -> None:
    result = parse_text("pipeline p {\n  source s {\n    entity id\n", "t.pipe")
    [diagnostic] = result.diagnostics
    assert "close the block opened on line 2" in diagnostic.message


def test_invalid_utf8_is_p001_not_a_crash() -> None:
    result = parse_bytes(b"team a { contact \"x\"; role ml }\n# caf\xe9\n", "t.pipe")
    [diagnostic] = result.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.col) == ("P001", 2, 6)


def test_impossible_date_is_p001() -> None:
    text = "pipeline p {\n  source s {\n    snapshot 2026-13-45\n  }\n}\n"
    assert codes_at(text) == [("P001", 3, 14)]


def test_undefined_reference_points_at_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "t.pipe"
    path.write_text("pipeline p {\n  owner x\n  label l {\n    from missing_source\n"
                    "    window 3d\n  }\n}\n")
    program = compile(path)
    t001 = [d for d in program.diagnostics if d.code == "T001"]
    assert [(d.span.line, d.span.col, d.span.end_col) for d in t001] == [(4, 10, 24)]


def test_missing_import_and_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.pipe").write_text('import "b.pipe"\nimport "nope.pipe"\n')
    (tmp_path / "b.pipe").write_text('import "a.pipe"\n')
    program = compile(tmp_path / "a.pipe")
    messages = sorted(d.message for d in program.diagnostics if d.code == "P002")
    assert len(messages) == 2
    assert any("cycle" in m for m in messages) and any("not found" in m for m in messages)


def test_duplicates_are_p003(tmp_path: Path) -> None:
    (tmp_path / "t.pipe").write_text(
        'team a { contact "x"; role ml }\nteam a { contact "y"; role ml }\n'
        "pipeline p {\n  owner a\n  source s {\n    from csv \"s.csv\"\n  }\n"
        "  source s {\n    from csv \"t.csv\"\n  }\n}\n")
    program = compile(tmp_path / "t.pipe")
    assert [(d.code, d.span.line) for d in program.diagnostics if d.code == "P003"] == [
        ("P003", 2), ("P003", 8)]


CASES = sorted(GOLDEN.glob("*.pipe"))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_rendered_diagnostics_golden(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    # Front-end codes only, so that the snapshot does not move with the rule catalogue.
    front_end = {"P001", "P002", "P003", "T001", "T002", "T003", "T004", "T005", "T007"}
    program = compile(Path(path.name), options=CheckOptions(select=front_end))
    sources = {f.display: f.text for f in program.files}
    if not program.files:
        sources = {path.name: path.read_text("utf-8", errors="replace")}
    rendered = render_plain(program.diagnostics, sources)
    golden = path.with_suffix(".txt")
    if os.environ.get("PIPEC_REGENERATE") == "1":
        golden.write_text(rendered, "utf-8")
    assert rendered == golden.read_text("utf-8")
