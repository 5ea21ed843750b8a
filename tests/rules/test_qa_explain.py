"""`pipec explain` as a demanding user reads it: the fix a page shows introduces no new
problem, a front-end page's examples show only its own mistake, prose fits the page's
width (and a narrow terminal's, examples kept whole), and a code that is empty,
padded or only a prefix (`LEAK`) gets a helpful usage error."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pipec.cli import main
from pipec.rules import load_all

from .test_docs import _program, compile_example

FENCE = re.compile(r"^```")
# The Example does not parse: nothing else in it is checked, so its fix reports more.
UNPARSED = {"P001"}
# The Example names a source that no stage provides, so there is no base source either.
BOTH_NAME_ERRORS = {"T001": {"T007"}}


def _example_codes(doc: str, title: str, folder: Path) -> set[str]:
    """The codes of a page's section, with the files it imports (P004's) beside it."""
    return {d.code for d in compile_example(doc, title, folder).diagnostics}


def _pages() -> list[str]:
    """The codes `pipec check` reports (not `build`) whose pages hold programs."""
    return [code for code, entry in load_all().items()
            if entry.phase != "build" and "```pipe" in entry.doc]


# An Example that does not parse (P001's) reports no other code to compare with.
@pytest.mark.parametrize("code", [c for c in _pages() if c not in UNPARSED])
def test_use_instead_reports_nothing_the_example_does_not(code: str, tmp_path: Path) -> None:
    """Following a page's fix must not make a new mistake (GATE003's fix once
    registered without an evaluate stage: GATE001)."""
    doc = load_all()[code].doc
    new = _example_codes(doc, "## Use instead", tmp_path / "use_instead") \
        - _example_codes(doc, "## Example", tmp_path / "example")
    assert not new, f"{code}: the Use instead reports {sorted(new)}"


@pytest.mark.parametrize("code", [c for c in _pages() if c[0] in "PT" and c[1].isdigit()])
def test_front_end_examples_show_only_their_own_error(code: str, tmp_path: Path) -> None:
    """A page about a name, type or syntax error shows that error alone: its examples
    are otherwise complete programs (T005's once evaluated an undeclared model, T001)."""
    doc = load_all()[code].doc
    for title in ("## Example", "## Use instead"):
        codes = _example_codes(doc, title, tmp_path / title.strip("# ").replace(" ", "_"))
        front_end = {c for c in codes if c[0] in "PT" and c[1].isdigit()}
        allowed = {code} | BOTH_NAME_ERRORS.get(code, set()) if title == "## Example" else set()
        assert front_end <= allowed, f"{code} {title}: {sorted(front_end - allowed)}"


def _prose(text: str) -> list[str]:
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def _fenced(text: str) -> list[str]:
    prose = set(_prose(text))
    return [line for line in text.splitlines() if line not in prose]


@pytest.mark.parametrize("code", sorted(load_all()))
def test_prose_fits_the_page_width(code: str) -> None:
    long = [line for line in _prose(load_all()[code].doc) if len(line) > 88]
    assert not long, long


def _explain(code: str | None, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["explain"] if code is None else ["explain", code])
    out, err = capsys.readouterr()
    return status, out, err


def _as_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout (capsys's, as the test runs) is a 60-column terminal."""
    import sys

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a, **k: os.terminal_size((60, 24)))


@pytest.mark.parametrize("code", ["SUP001", "LEAK007", "P001", "BUILD003"])
def test_page_fits_a_narrow_terminal(code: str, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    _as_terminal(monkeypatch)
    status, out, _ = _explain(code, capsys)
    assert status == 0
    assert all(len(line) <= 60 for line in _prose(out)), out
    doc = load_all()[code].doc
    assert _fenced(out) == _fenced(doc), "examples must be printed as written"
    assert " ".join(" ".join(_prose(out)).split()).endswith(" ".join(" ".join(
        _prose(doc)).split())), "re-wrapping must not change the words"


def test_list_fits_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    _as_terminal(monkeypatch)
    status, out, _ = _explain(None, capsys)
    assert status == 0 and all(len(line) <= 60 for line in out.splitlines()), out
    assert "SUP001      warning  a suppression" in out


def test_piped_page_is_printed_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    entry = load_all()["SUP001"]
    status, out, _ = _explain("SUP001", capsys)
    assert status == 0
    assert out == f"# SUP001: {entry.summary} ({entry.severity.value})\n\n{entry.doc}\n"
    status, out, _ = _explain(None, capsys)
    assert len(out.splitlines()) == len(load_all())


def test_empty_code_says_what_to_give(capsys: pytest.CaptureFixture[str]) -> None:
    for code in ("", "  "):
        status, out, err = _explain(code, capsys)
        assert status == 2 and not out
        assert "give a rule code" in err and "no rule ``" not in err


def test_prefix_lists_the_codes_it_covers(capsys: pytest.CaptureFixture[str]) -> None:
    """`LEAK` (which `--select` accepts) is eight rules, not a typo of LEAK008."""
    status, out, err = _explain("leak", capsys)
    leak = [c for c in load_all() if c.startswith("LEAK")]
    assert status == 2 and not out
    assert ", ".join(leak) in err and "did you mean" not in err


def test_padded_code_is_the_code(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _explain(" leak002 ", capsys)
    assert status == 0 and out.startswith("# LEAK002:")


def test_mistyped_code_still_gets_its_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _explain("LEAK2", capsys)
    assert status == 2 and "did you mean `LEAK002`?" in err
    status, _, err = _explain("XYZ999", capsys)
    assert status == 2 and "no rule `XYZ999`" in err


def test_build003_page_tables_behave_as_documented(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """BUILD003's examples are `[tool.pipec]` tables: under the Example's an Argo build
    warns, under the Use instead's it does not."""
    doc = load_all()["BUILD003"].doc
    program = _program(load_all()["BUILD001"].doc, "## Use instead")  # builds for Argo
    tables = re.findall(r"```toml\n(.*?)```", doc, re.DOTALL)
    assert len(tables) == 2
    for name, table, warned in (("bad", tables[0], True), ("good", tables[1], False)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "p.pipe").write_text(program, "utf-8")
        (folder / "pyproject.toml").write_text(table, "utf-8")
        capsys.readouterr()
        status = main(["build", str(folder / "p.pipe"), "--target", "argo",
                       "-o", str(folder / "out")])
        out = capsys.readouterr().out
        assert status == 0 and ("[BUILD003]" in out) == warned, out
