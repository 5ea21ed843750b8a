"""GATE011 and VAL005 beyond their fixtures: which of a stage's own gate and check
lines a set's line makes powerless."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pipec.check import compile

from .conftest import FIXTURES

PROGRAM = (FIXTURES / "GATE011.ok.pipe").read_text("utf-8")


@pytest.fixture(autouse=True)
def _in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # diagnostics name files relative to the project


def _with_set(tmp_path: Path, program: str, header: str, a_set: str, stage: str) -> Any:
    """`program`, checked, with its block that opens with `header` replaced by `stage`,
    and the set it uses (`a_set`, named `standards`) declared in a file it imports."""
    (tmp_path / "standards.pipe").write_text(a_set, "utf-8")
    start = program.index(header)
    end = program.index("  }\n", start) + 4
    text = 'import "standards.pipe"\n' + program[:start] + stage + program[end:]
    (tmp_path / "p.pipe").write_text(text, "utf-8")
    return compile(tmp_path / "p.pipe")


def _with_gate_set(tmp_path: Path, gate_set: str, stage_lines: str) -> Any:
    """GATE011's clean fixture with its evaluate stage using `gate_set` and holding
    `stage_lines` (after a primary metric)."""
    stage = f"  evaluate m {{\n    use standards\n    primary roc_auc >= 0.7\n{stage_lines}  }}\n"
    return _with_set(tmp_path, PROGRAM, "  evaluate m {", gate_set, stage)


def _fired(tmp_path: Path, gate_set: str, own_lines: str) -> list[str]:
    """The GATE011 messages of the program of `_with_gate_set` with `own_lines`."""
    program = _with_gate_set(tmp_path, gate_set,
                             f"    compare champion roc_auc >= -0.01\n{own_lines}")
    return [d.message for d in program.diagnostics if d.code == "GATE011"]


SET = "gates standards {\n  calibration ece <= 0.1\n  latency p99 <= 100ms warn\n}\n"


def test_a_looser_line_is_reported_with_the_set_line_that_still_applies(tmp_path: Path) -> None:
    fired = _fired(tmp_path, SET, "    calibration ece <= 0.2\n")
    assert len(fired) == 1
    assert "`calibration ece <= 0.2` does not loosen `calibration ece <= 0.1` of gate set " \
        "`standards` (standards.pipe:2:3)" in fired[0]


def test_an_own_blocking_line_beside_a_set_line_that_only_warns_is_not_redundant(
        tmp_path: Path) -> None:
    # The set warns above 100ms; the stage blocks above 200ms: its line does something.
    assert _fired(tmp_path, SET, "    calibration ece <= 0.05\n    latency p99 <= 200ms\n") == []


def test_equal_and_tighter_lines_are_fine(tmp_path: Path) -> None:
    own = "    calibration ece <= 0.1\n    calibration ece < 0.1\n    latency p99 <= 50ms\n"
    assert _fired(tmp_path, SET, own) == []


def test_a_line_of_a_set_the_used_set_uses_applies_too(tmp_path: Path) -> None:
    nested = SET + "gates strict {\n  size <= 10MB\n}\n"
    nested = nested.replace("  calibration ece <= 0.1\n",
                            "  calibration ece <= 0.1\n  use strict\n")
    fired = _fired(tmp_path, nested, "    calibration ece <= 0.05\n    size <= 20MB\n")
    assert fired == ["`size <= 20MB` does not loosen `size <= 10MB` of gate set `strict` "
                     "(standards.pipe:7:3), which still applies"]


def test_another_slice_or_metric_is_another_measure(tmp_path: Path) -> None:
    gate_set = "gates standards {\n  slice id min 500: roc_auc >= 0.8\n  latency p50 <= 10ms\n}\n"
    own = ("    calibration ece <= 0.05\n    slice id min 100: roc_auc >= 0.7\n"
           "    latency p99 <= 50ms\n")
    assert _fired(tmp_path, gate_set, own) == []


def _check_fired(tmp_path: Path, check_set: str, own_lines: str) -> list[str]:
    """The VAL005 messages of VAL005's clean fixture with its validate stage using
    `check_set` (declared in a file it imports) and holding `own_lines`."""
    program_text = (FIXTURES / "VAL005.ok.pipe").read_text("utf-8")
    declared = program_text.index("checks standards {")
    program_text = program_text[:declared] + program_text[program_text.index("pipeline p"):]
    stage = f"  validate events {{\n    use standards\n    require id\n{own_lines}  }}\n"
    program = _with_set(tmp_path, program_text, "  validate events {", check_set, stage)
    assert [d for d in program.diagnostics if d.code != "VAL005"] == []
    return [d.message for d in program.diagnostics if d.code == "VAL005"]


def test_date_bounds_compare_as_dates(tmp_path: Path) -> None:
    check_set = "checks standards {\n  range at >= 2020-01-01\n}\n"
    fired = _check_fired(tmp_path, check_set, "    range at >= 2019-06-01\n")
    assert fired == ["`range at >= 2019-06-01` does not loosen `range at >= 2020-01-01` of "
                     "check set `standards` (standards.pipe:2:3), which still applies"]
    assert _check_fired(tmp_path, check_set, "    range at >= 2021-01-01\n") == []


def test_a_warning_check_beside_a_stricter_blocking_one_is_powerless(tmp_path: Path) -> None:
    check_set = "checks standards {\n  completeness amount >= 99%\n}\n"
    assert len(_check_fired(tmp_path, check_set, "    completeness amount >= 90% warn\n")) == 1
    # A set's check that only warns does not make the stage's blocking one powerless.
    warned = "checks standards {\n  completeness amount >= 99% warn\n}\n"
    assert _check_fired(tmp_path, warned, "    completeness amount >= 90%\n") == []


def test_one_end_of_a_range_that_is_tighter_keeps_the_check(tmp_path: Path) -> None:
    check_set = "checks standards {\n  range amount >= 0\n  range amount <= 1000\n}\n"
    assert _check_fired(tmp_path, check_set, "    range amount in -5..500\n") == []
    assert len(_check_fired(tmp_path, check_set, "    range amount in -5..5000\n")) == 1


def _threshold(tmp_path: Path, gate_set: str, own_lines: str) -> float:
    from pipec.manifest import build_manifest

    program = _with_gate_set(tmp_path, gate_set, f"    calibration ece <= 0.05\n{own_lines}")
    assert program.diagnostics == [], program.diagnostics
    (evaluate,) = [s for s in build_manifest(program)["stages"] if s["kind"] == "evaluate"]
    return evaluate["threshold"]


def test_a_gate_sets_threshold_applies_unless_the_stage_sets_its_own(tmp_path: Path) -> None:
    """A set's `threshold` was dropped: its `recall` gate was judged at 0.5."""
    gate_set = "gates standards {\n  threshold 0.25\n  guardrail recall >= 0.4\n}\n"
    assert _threshold(tmp_path, gate_set, "") == 0.25
    assert _threshold(tmp_path, gate_set, "    threshold 0.3\n") == 0.3
    assert _threshold(tmp_path, "gates standards {\n  size <= 10MB\n}\n", "") == 0.5
