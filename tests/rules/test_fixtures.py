"""Per-rule fixtures: `CODE.pipe` fires exactly CODE at the lines marked `# CODE`;
`CODE.ok.pipe` is clean. The rendered text output is a snapshot (`CODE.txt`),
regenerated with `PIPEC_REGENERATE=1`."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pipec.check import compile
from pipec.render.text import render_plain

from .conftest import ADDED, BUILD_PHASE, CATALOGUE, FIXTURES, REPO

CODES = [c for c in CATALOGUE + ADDED if c not in BUILD_PHASE]
# Other codes a failing fixture cannot avoid (none so far: every fixture is otherwise clean).
UNAVOIDABLE: dict[str, set[str]] = {}


def marked_lines(path: Path, code: str) -> set[int]:
    marker = re.compile(rf"#\s*{code}\s*$")
    text = path.read_text("utf-8")
    return {i for i, line in enumerate(text.splitlines(), start=1) if marker.search(line)}


def _check(path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(REPO)  # diagnostics show paths relative to the repository
    return compile(path.relative_to(REPO))


@pytest.mark.parametrize("code", CODES)
def test_failing_fixture_fires_at_marked_lines(code: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = FIXTURES / f"{code}.pipe"
    expected = marked_lines(path, code)
    assert expected, f"{path.name} has no `# {code}` marker"
    program = _check(path, monkeypatch)
    fired = {d.span.line for d in program.diagnostics if d.code == code}
    assert fired == expected
    others = {d.code for d in program.diagnostics} - {code} - UNAVOIDABLE.get(code, set())
    assert not others, [d for d in program.diagnostics if d.code in others]


@pytest.mark.parametrize("code", CODES)
def test_passing_fixture_is_clean(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    program = _check(FIXTURES / f"{code}.ok.pipe", monkeypatch)
    assert program.diagnostics == []


@pytest.mark.parametrize("code", CODES)
def test_text_snapshot(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = FIXTURES / f"{code}.pipe"
    program = _check(path, monkeypatch)
    sources = {f.display: f.text for f in program.files}
    rendered = render_plain(program.diagnostics, sources)
    snapshot = FIXTURES / f"{code}.txt"
    if os.environ.get("PIPEC_REGENERATE") == "1" or not snapshot.exists():
        snapshot.write_text(rendered, encoding="utf-8")
        if os.environ.get("PIPEC_REGENERATE") != "1":
            pytest.fail(f"wrote the missing snapshot {snapshot.name}; check it in")
    assert rendered == snapshot.read_text("utf-8")
