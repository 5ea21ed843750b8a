"""`approval by TEAM` in a gate set: an organisation's standard that a human approves
every model of a stage that uses the set, as the stage's own line does (GATE004,
RETRAIN003, the approval stage and the manifest), checked where the set is used
(OWN002, GATE009 at the `use` line), and one team per model (GATE012)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipec.check import compile
from pipec.fmt import format_module
from pipec.manifest import build_manifest
from pipec.parser import parse_text

OWN_LINE = "    approval by risk\n"


def _checked(fraud_project: Path, standards: str, stage_lines: str = "") -> Any:
    """The fraud example with its own `approval by risk` replaced by `stage_lines` and a
    `use` of each gate set in `standards.pipe` (`standards`)."""
    (fraud_project / "standards.pipe").write_text(standards, "utf-8")
    text = (fraud_project / "fraud.pipe").read_text("utf-8")
    assert OWN_LINE in text
    uses = "".join(f"    use {name}\n" for name in _set_names(standards))
    text = 'import "standards.pipe"\n' + text.replace(OWN_LINE, uses + stage_lines)
    (fraud_project / "p.pipe").write_text(text, "utf-8")
    return compile(fraud_project / "p.pipe")


def _set_names(standards: str) -> list[str]:
    return [line.split()[1] for line in standards.splitlines() if line.startswith("gates ")]


def _codes(program: Any) -> list[str]:
    return sorted(d.code for d in program.diagnostics)


def test_a_set_s_approval_is_the_stage_s_approval(fraud_project: Path) -> None:
    own = compile(fraud_project / "fraud.pipe")
    assert own.diagnostics == []
    program = _checked(fraud_project, "gates standards {\n  approval by risk\n}\n")
    assert program.diagnostics == []  # GATE004 and RETRAIN003 are satisfied by the set
    assert sorted(program.graph.edges) == sorted(own.graph.edges)
    assert program.stages["approval.fraud_gbm"].owner == "risk"
    evaluate = next(s for s in build_manifest(program)["stages"]
                    if s["id"] == "evaluate.fraud_gbm")
    assert evaluate["approval_by"] == "risk"


def test_without_any_approval_a_high_risk_stage_is_refused(fraud_project: Path) -> None:
    program = _checked(fraud_project, "gates standards {\n  primary roc_auc >= 0.85\n}\n")
    assert _codes(program) == ["GATE004"]


def test_a_set_s_approver_is_checked_where_the_set_is_used(fraud_project: Path) -> None:
    """The model's own team approving it, and a team the program does not declare, are
    reported at the stage's `use` line, naming the set's line."""
    program = _checked(fraud_project, "gates standards {\n  approval by ml_fraud\n}\n"
                                "gates other {\n  approval by nobody\n}\n"
                                "gates more {\n  primary roc_auc >= 0.85\n}\n",
                       "    approval by ml_fraud\n")
    by_code = {d.code: d for d in program.diagnostics}
    assert set(by_code) >= {"GATE009", "OWN002", "GATE012"}, program.diagnostics
    own002 = by_code["OWN002"]
    assert own002.message.startswith("approver `nobody` is not a declared team")
    assert "(a line of `use other`, at standards.pipe:5:15)" in own002.message
    assert own002.span.file.endswith("p.pipe") and own002.span.line > 90


def test_two_teams_are_one_too_many(fraud_project: Path) -> None:
    program = _checked(fraud_project, "gates standards {\n  approval by risk\n}\n",
                       "    approval by fraud_product\n")
    # GATE009 too: `fraud_product` has no risk role, which a `risk high` model needs.
    assert _codes(program) == ["GATE009", "GATE012"]
    (diagnostic,) = [d for d in program.diagnostics if d.code == "GATE012"]
    assert diagnostic.message.startswith(
        "`evaluate.fraud_gbm` needs approval by `fraud_product` and by `risk` "
        "(gate set `standards`, standards.pipe:2:3)")
    same = _checked(fraud_project, "gates standards {\n  approval by risk\n}\n",
                    "    approval by risk\n")
    assert same.diagnostics == []


def test_two_sets_that_disagree_are_reported_at_the_second_use(fraud_project: Path) -> None:
    program = _checked(fraud_project, "gates first {\n  approval by risk\n}\n"
                                "gates second {\n  approval by fraud_product\n}\n")
    assert _codes(program) == ["GATE009", "GATE012"]
    (diagnostic,) = [d for d in program.diagnostics if d.code == "GATE012"]
    assert "(a line of `use second`, at standards.pipe:5:3)" in diagnostic.message


def test_fmt_keeps_a_set_s_approval() -> None:
    text = "gates standards {\n  primary roc_auc >= 0.8\n  approval by risk\n}\n"
    result = parse_text(text, "x.pipe")
    assert result.module is not None, result.diagnostics
    assert format_module(result.module, text) == text


def test_two_own_lines_are_p003_not_gate012(fraud_project: Path) -> None:
    """The same mistake is said once (GATE009: `fraud_product` has no risk role)."""
    program = _checked(fraud_project, "gates standards {\n  primary roc_auc >= 0.85\n}\n",
                       "    approval by risk\n    approval by fraud_product\n")
    assert _codes(program) == ["GATE009", "P003"]
