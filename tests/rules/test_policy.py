"""Suppressions, [tool.pipec] selection and severities, and --strict."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.check import CheckOptions, compile
from pipec.cli import main
from pipec.config import options_for

from .conftest import FIXTURES


def codes(text: str, options: CheckOptions | None = None) -> list[str]:
    return [d.code for d in compile(text, options=options).diagnostics]


def fixture(code: str, ok: bool = False) -> str:
    return (FIXTURES / f"{code}{'.ok' if ok else ''}.pipe").read_text("utf-8")


# ------------------------------------------------------------------ suppressions

def test_trailing_suppression_with_reason() -> None:
    text = fixture("LEAK004").replace(
        "# LEAK004", "# pipec: ignore[LEAK004] the label is lagged in the upstream table")
    assert codes(text) == []


def test_suppression_on_the_line_above() -> None:
    text = fixture("LEAK004").replace(
        "    features [amount, late]  # LEAK004",
        "    # pipec: ignore[LEAK004] reviewed with the risk team\n"
        "    # a second comment line may follow\n    features [amount, late]")
    assert codes(text) == []


def test_suppression_above_a_block_header() -> None:
    text = fixture("GATE005").replace(
        "  evaluate m {  # GATE005",
        "  # pipec: ignore[GATE005, GATE007] scores are ranked, never read as probabilities\n"
        "  evaluate m {")
    diagnostics = compile(text).diagnostics
    # GATE007 is not reported in the block, so that half of the list suppresses nothing.
    assert [(d.code, d.message) for d in diagnostics] == [
        ("SUP001", "the suppression of GATE007 suppresses nothing: no GATE007 is reported "
                   "on lines 33-35")]


def test_blank_line_breaks_a_suppression() -> None:
    text = fixture("LEAK004").replace(
        "    features [amount, late]  # LEAK004",
        "    # pipec: ignore[LEAK004] reason\n\n    features [amount, late]")
    assert sorted(codes(text)) == ["LEAK004", "SUP001"]


def test_suppression_without_reason_still_suppresses_but_warns() -> None:
    text = fixture("LEAK004").replace("# LEAK004", "# pipec: ignore[LEAK004]")
    diagnostics = compile(text).diagnostics
    assert [d.code for d in diagnostics] == ["SUP001"]
    assert "gives no reason" in diagnostics[0].message


def test_unknown_code_and_empty_list() -> None:
    text = fixture("LEAK004", ok=True).replace(
        "    features [amount]", "    features [amount]  # pipec: ignore[LEAK999] why")
    assert "not a pipec rule" in compile(text).diagnostics[0].message
    text = fixture("LEAK004", ok=True).replace(
        "    features [amount]", "    features [amount]  # pipec: ignore[] why")
    assert "names no code" in compile(text).diagnostics[0].message


def test_unused_suppression_of_a_deselected_rule_is_not_reported() -> None:
    text = fixture("LEAK004", ok=True).replace(
        "    features [amount]", "    features [amount]  # pipec: ignore[GATE005] why")
    assert codes(text) == ["SUP001"]
    assert codes(text, CheckOptions(ignore={"GATE005"})) == []


def test_syntax_errors_cannot_be_suppressed() -> None:
    text = fixture("P001").replace("# P001", "# pipec: ignore[P001] no")
    assert codes(text) == ["P001"]


@pytest.mark.parametrize("code", ["P003", "T001", "T002", "T003", "T004", "T005", "T007"])
def test_unresolved_programs_are_reported_whatever_is_selected(tmp_path: Path,
                                                                code: str) -> None:
    """A program whose names, columns or types do not resolve cannot be built or run:
    selection, ignore, `severity off` and a suppression comment all leave it an error
    (`select = ["OWN"]` checked clean and let `build` write a broken pipeline)."""
    for table in ('select = ["OWN"]', f'ignore = ["{code}"]'):
        path = _project(tmp_path, table, code=code)
        found = compile(path, options=options_for(path)).diagnostics
        assert code in [d.code for d in found if d.severity.value == "error"], table
        assert main(["check", str(path)]) == 1
    marked = fixture(code).replace(f"# {code}", f"# pipec: ignore[{code}] reviewed")
    assert code in codes(marked)


# ----------------------------------------------------------- selection, severities

def _project(tmp_path: Path, table: str, code: str = "GATE005") -> Path:
    # A fresh folder per project: the parsed configuration is cached per pyproject path.
    folder = tmp_path / f"project{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(f"[tool.pipec]\n{table}\n", "utf-8")
    path = folder / "p.pipe"
    path.write_text(fixture(code), "utf-8")
    return path


def test_severity_override_from_pyproject(tmp_path: Path) -> None:
    path = _project(tmp_path, '[tool.pipec.severity]\nGATE005 = "error"')
    diagnostics = compile(path, options=options_for(path)).diagnostics
    assert [(d.code, d.severity.value) for d in diagnostics] == [("GATE005", "error")]
    assert main(["check", str(path)]) == 1


def test_severity_off_and_warn_spelling(tmp_path: Path) -> None:
    path = _project(tmp_path, '[tool.pipec.severity]\nGATE005 = "off"')
    assert compile(path, options=options_for(path)).diagnostics == []
    path = _project(tmp_path, '[tool.pipec.severity]\nLEAK004 = "warn"', code="LEAK004")
    diagnostics = compile(path, options=options_for(path)).diagnostics
    assert [(d.code, d.severity.value) for d in diagnostics] == [("LEAK004", "warning")]
    assert main(["check", str(path)]) == 0


def test_select_and_ignore_by_prefix(tmp_path: Path) -> None:
    path = _project(tmp_path, 'select = ["LEAK"]', code="GATE005")
    assert compile(path, options=options_for(path)).diagnostics == []
    path = _project(tmp_path, 'ignore = ["LEAK"]', code="LEAK004")
    assert compile(path, options=options_for(path)).diagnostics == []
    path = _project(tmp_path, 'select = ["LEAK"]', code="LEAK004")
    assert [d.code for d in compile(path, options=options_for(path)).diagnostics] == ["LEAK004"]


def test_command_line_select_and_ignore(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = _project(tmp_path, "", code="LEAK004")
    assert main(["check", "--ignore", "LEAK004", str(path)]) == 0
    assert main(["check", "--select", "GATE", str(path)]) == 0
    assert main(["check", "--select", "LEAK004", str(path)]) == 1
    capsys.readouterr()


def test_strict_fails_on_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _project(tmp_path, "")
    assert main(["check", str(path)]) == 0
    assert main(["check", "--strict", str(path)]) == 1
    path = _project(tmp_path, "strict = true")
    assert main(["check", str(path)]) == 1
    assert "GATE005" in capsys.readouterr().out


def test_an_edited_pyproject_is_read_again_in_the_same_process(tmp_path: Path) -> None:
    """The parsed `[tool.pipec]` was cached by path for the life of the process: an
    editor plugin or a notebook calling the API kept the old settings after an edit."""
    from pipec.config import load_config

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.pipec]\nstate_volume = "first"\n', "utf-8")
    assert load_config(tmp_path).state_volume == "first"
    pyproject.write_text('[tool.pipec]\nstate_volume = "the-second"\n', "utf-8")
    assert load_config(tmp_path).state_volume == "the-second"
