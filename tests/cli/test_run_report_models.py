"""What the end of `pipec run` says of the model stages: rows a model never saw for want
of a label, and gates quoted with the units they were written in."""

from __future__ import annotations

from types import SimpleNamespace

from pipec.commands.run_report import report_lines


def _stage(stage_id: str, report: dict) -> SimpleNamespace:
    return SimpleNamespace(stage_id=stage_id, kind=stage_id.split(".")[0], report=report)


def _lines(*stages: SimpleNamespace) -> list[str]:
    return report_lines("succeeded", {"run_id": "r1"}, {s.stage_id: s for s in stages})


def test_rows_without_a_label_are_counted_where_the_model_left_them_out() -> None:
    lines = _lines(_stage("train.m", {"rows": 244_646, "unlabelled_dropped": 7_746}),
                   _stage("evaluate.m", {"blessed": True, "test_rows": 79_909,
                                         "unlabelled_dropped": 1_658, "gates": []}))
    assert "train.m: fitted on 244,646 train rows (7,746 without a label left out)" in lines
    assert "evaluate.m: blessed on 79,909 test rows (1,658 without a label left out)" in lines


def test_a_train_stage_with_every_row_labelled_says_nothing() -> None:
    assert not [line for line in _lines(_stage("train.m", {"rows": 10,
                                                           "unlabelled_dropped": 0}))
                if line.startswith("train.m")]


def test_latency_and_size_are_shown_in_their_units() -> None:
    gates = [{"line": "latency p99 <= 50ms", "kind": "latency", "blocking": True,
              "observed": 0.012245, "passed": True, "note": ""},
             {"line": "size <= 20MB", "kind": "size", "blocking": True,
              "observed": 1_225_418, "passed": True, "note": ""}]
    lines = _lines(_stage("evaluate.m", {"blessed": True, "test_rows": 5, "gates": gates}))
    assert "  ✓ latency p99 <= 50ms: 12.2ms" in lines
    assert "  ✓ size <= 20MB: 1.23MB" in lines


def test_a_line_said_by_the_stage_and_its_gate_set_is_shown_once() -> None:
    gate = {"line": "features compatible", "kind": "features_compatible", "blocking": True,
            "observed": True, "passed": True, "note": ""}
    warned = gate | {"blocking": False}
    lines = _lines(_stage("evaluate.m", {"blessed": True, "test_rows": 5,
                                         "gates": [gate, dict(gate), warned]}))
    assert lines.count("  ✓ features compatible: True") == 2  # blocking, then warning


def test_a_failed_line_said_by_the_stage_and_its_set_is_named_once() -> None:
    from pipec.commands.runs import _record_text
    from pipec.stdlib.runtime.errors import NotBlessed

    gate = {"line": "calibration ece <= 0.1", "kind": "calibration", "blocking": True,
            "observed": 0.2, "passed": False, "note": ""}
    report = {"blessed": False, "gates": [gate, dict(gate)]}
    assert NotBlessed("register.m", report).failed == ["calibration ece <= 0.1"]
    record = {"run_id": "r1", "pipeline": "p", "status": "blocked",
              "evaluations": {"m": report}}
    assert _record_text(record).count("failed calibration ece <= 0.1: 0.2") == 1


def test_a_gate_with_nothing_measured_shows_its_note_alone() -> None:
    gate = {"line": "compare champion roc_auc >= -0.01", "kind": "compare_champion",
            "blocking": True, "observed": None, "passed": True,
            "note": "no champion in production: passes"}
    lines = _lines(_stage("evaluate.m", {"blessed": True, "test_rows": 5, "gates": [gate]}))
    assert "  ✓ compare champion roc_auc >= -0.01: no champion in production: passes" in lines
