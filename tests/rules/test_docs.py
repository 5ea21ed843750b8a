"""Every rule has a page in the fixed template, and its examples behave as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pipec.check import compile
from pipec.cli import main
from pipec.model import Program
from pipec.rules import load_all

from .conftest import ADDED, BUILD_PHASE, CATALOGUE, catalogue_codes

CODES = CATALOGUE + ADDED

SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead")
FENCE = re.compile(r"```pipe\n(.*?)```", re.DOTALL)
# A file the example imports, shown beside it (P004's): ```pipe file=NAME.
COMPANION = re.compile(r"```pipe file=(\S+)\n(.*?)```", re.DOTALL)


def _section(doc: str, title: str) -> str:
    start = doc.index(title) + len(title)
    following = [doc.index(t) for t in SECTIONS if t in doc and doc.index(t) > start]
    return doc[start:min(following, default=len(doc))]


def _program(doc: str, title: str) -> str:
    found = FENCE.findall(_section(doc, title))
    assert len(found) == 1, f"{title} must hold exactly one ```pipe example"
    return found[0]


def compile_example(doc: str, title: str, folder: Path) -> Program:
    """A section's program, checked with the files it imports written beside it (in
    `folder`) when the page shows some; otherwise checked as text."""
    companions = COMPANION.findall(_section(doc, title))
    if not companions:
        return compile(_program(doc, title))
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in companions:
        (folder / name).write_text(text, "utf-8")
    example = folder / "example.pipe"
    example.write_text(_program(doc, title), "utf-8")
    return compile(example)


def test_catalogue_matches_design() -> None:
    assert sorted(catalogue_codes()) == sorted(CATALOGUE)


def test_every_code_is_registered() -> None:
    assert set(CODES) <= set(load_all())


@pytest.mark.parametrize("code", CODES)
def test_page_has_the_four_sections(code: str) -> None:
    doc = load_all()[code].doc
    positions = [doc.find(title) for title in SECTIONS]
    assert -1 not in positions, f"{code} lacks a section"
    assert positions == sorted(positions)
    for title in ("## Example", "## Use instead"):
        _program(doc, title)


@pytest.mark.parametrize("code", CODES)
def test_explain_exits_zero(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", code]) == 0
    assert "## What it does" in capsys.readouterr().out


@pytest.mark.parametrize("code", [c for c in CODES if c not in BUILD_PHASE])
def test_example_fires_and_fix_does_not(code: str, tmp_path: Path) -> None:
    doc = load_all()[code].doc
    bad = compile_example(doc, "## Example", tmp_path / "example")
    assert code in {d.code for d in bad.diagnostics}, f"{code}: the Example does not fire"
    good = compile_example(doc, "## Use instead", tmp_path / "use_instead")
    fired = [d for d in good.diagnostics if d.code == code]
    assert not fired, f"{code}: the Use instead fires: {fired}"
