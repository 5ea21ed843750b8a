"""A gate set's `approval by` under attack: the set's approver is the one the model waits
for even when a stage's other team is let through (GATE012 suppressed); a second line in
one set is P003, not also GATE012; GATE012 names the set that holds the line; and a
stage that uses an undeclared set is left to T001 rather than told it lacks an approval
the set may hold (GATE004, RETRAIN003). The run waits for the set's approver too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from model.project import write_project
from pipec.check import compile
from pipec.manifest import build_manifest

OWN_LINE = "    approval by risk\n"
SCHEDULE = '  retrain scheduled "0 3 * * *"\n'


def _checked(fraud_project: Path, standards: str, stage_lines: str, retrain: str = SCHEDULE) -> Any:
    """The fraud example, importing `standards.pipe` (`standards`), with its own
    `approval by risk` replaced by `stage_lines` and its `retrain` line by `retrain`."""
    (fraud_project / "standards.pipe").write_text(standards, "utf-8")
    text = (fraud_project / "fraud.pipe").read_text("utf-8")
    assert OWN_LINE in text and SCHEDULE in text
    text = text.replace(OWN_LINE, stage_lines).replace(SCHEDULE, retrain)
    (fraud_project / "p.pipe").write_text('import "standards.pipe"\n' + text, "utf-8")
    return compile(fraud_project / "p.pipe")


def _codes(program: Any) -> list[str]:
    return sorted(d.code for d in program.diagnostics)


def _evaluate_entry(program: Any) -> dict[str, Any]:
    return next(s for s in build_manifest(program)["stages"] if s["id"] == "evaluate.fraud_gbm")


def test_a_suppressed_gate012_keeps_the_set_s_approver(fraud_project: Path) -> None:
    """The set's `approval by risk` is the standard: a stage's own line naming another
    team, let through by a suppression, does not replace it (the approval stage, its
    owner and the manifest name the set's team)."""
    program = _checked(fraud_project, "gates standards {\n  approval by risk\n}\n",
                       "    use standards\n    approval by fraud_product  "
                       "# pipec: ignore[GATE012] our product team signs off\n")
    assert "GATE012" not in _codes(program)
    assert program.stages["approval.fraud_gbm"].owner == "risk"
    assert _evaluate_entry(program)["approval_by"] == "risk"
    approval = next(s for s in build_manifest(program)["stages"]
                    if s["id"] == "approval.fraud_gbm")
    assert approval["approver"] == "risk"


def test_two_lines_in_one_set_are_p003_not_also_gate012(fraud_project: Path) -> None:
    """The same mistake is said once, as for two own lines (GATE009: `fraud_product` has
    no risk role, which a `risk high` model needs)."""
    program = _checked(fraud_project, "gates twice {\n  approval by risk\n"
                                "  approval by fraud_product\n}\n", "    use twice\n")
    assert _codes(program) == ["GATE009", "P003"], program.diagnostics


def test_gate012_names_the_set_that_holds_the_line(fraud_project: Path) -> None:
    """A line reached through another set names the set it is in, and two sets that
    disagree are not told to remove a stage's own line they do not have."""
    program = _checked(fraud_project, "gates reviewed {\n  approval by risk\n}\n"
                                "gates wrapper {\n  use reviewed\n}\n"
                                "gates product {\n  approval by fraud_product\n}\n",
                       "    use wrapper\n    use product\n")
    (diagnostic,) = [d for d in program.diagnostics if d.code == "GATE012"]
    assert diagnostic.message.startswith(
        "`evaluate.fraud_gbm` needs approval by `fraud_product` and by `risk` "
        "(gate set `reviewed`, standards.pipe:2:3)"), diagnostic.message
    assert "stage's own" not in (diagnostic.help or "")
    assert "stop using one of the sets" in (diagnostic.help or "")
    assert program.stages["approval.fraud_gbm"].owner == "risk"


@pytest.mark.parametrize("retrain", [SCHEDULE, "  retrain triggered on new_snapshot\n"],
                         ids=["scheduled", "triggered"])
def test_an_undeclared_set_may_hold_the_approval(fraud_project: Path, retrain: str) -> None:
    """`use standardz` (a typo) is T001: GATE004, and RETRAIN003 for a pipeline that
    retrains on its own, would only echo it, as the set may hold the approval."""
    program = _checked(fraud_project, "gates standards {\n  approval by risk\n}\n",
                       "    use standardz\n", retrain)
    assert _codes(program) == ["T001"], program.diagnostics
    declared = _checked(fraud_project, "gates standards {\n  primary roc_auc >= 0.85\n}\n",
                        "    use standards\n", retrain)
    expected = ["GATE004"] if retrain == SCHEDULE else ["GATE004", "RETRAIN003"]
    assert _codes(declared) == expected, declared.diagnostics


def _pipec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", *args], capture_output=True,
                          text=True, timeout=600)


def test_run_waits_for_the_set_s_approver(tmp_path: Path) -> None:
    """A set imported from another file, reached through a second set, with a stage's
    own line for another team let through: the run waits for the set's team, refuses the
    other's approval, and promotes once the set's team has approved."""
    path = write_project(tmp_path)
    (tmp_path / "standards.pipe").write_text(
        "gates reviewed {\n  approval by risk\n}\n\ngates wrapper {\n  use reviewed\n}\n",
        "utf-8")
    text = path.read_text("utf-8").replace(
        "    features compatible\n", "    features compatible\n    use wrapper\n"
        "    approval by product  # pipec: ignore[GATE012] the product team signs off\n")
    path.write_text('import "standards.pipe"\n' + text, "utf-8")
    waiting = _pipec("run", str(path), "--retry-delay", "0")
    assert waiting.returncode == 3, waiting.stdout + waiting.stderr
    assert "pipec registry approve model@1 --by risk" in waiting.stdout
    registry = ("--project", str(tmp_path))
    refused = _pipec("registry", "approve", "model@1", "--by", "product", *registry)
    assert refused.returncode == 2 and "needs approval by team `risk`" in refused.stderr
    assert _pipec("registry", "approve", "model@1", "--by", "risk", *registry).returncode == 0
    done = _pipec("run", str(path), "--retry-delay", "0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "model v1 production" in done.stdout
