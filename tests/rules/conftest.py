"""Shared helpers for the rule tests."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
FIXTURES = REPO / "tests" / "fixtures" / "rules"

# Every code of the rule catalogue (design/rules.md); checked against the catalogue
# itself when the shared design folder is present.
CATALOGUE = [
    "P001", "P002", "P003", "T001", "T002", "T003", "T004", "T005", "T007", "OWN001", "OWN002",
    "OWN003", "FAIL001", "LEAK001", "LEAK002", "LEAK003", "LEAK004", "LEAK005", "LEAK006",
    "LEAK007", "LEAK008", "VAL001", "VAL002", "VAL003", "REPRO001", "REPRO002", "REPRO003",
    "REPRO004", "REPRO005", "GATE001", "GATE002", "GATE003", "GATE004", "GATE005", "GATE006",
    "GATE007", "GATE008", "GATE009", "RETRAIN001", "RETRAIN002", "RETRAIN003", "RETRAIN004",
    "RETRAIN005", "BACKFILL001", "BACKFILL002", "DIST001", "PII001", "SEC001", "BUDGET001",
    "SUP001",
]
# Codes the project added beyond the catalogue (checked like the catalogue's own).
ADDED = [
    "GATE010", "LEAK009", "SEC002", "VAL004", "FAIL002", "P004", "GATE011", "VAL005",
    "FEAT001", "LEAK010", "LEAK011", "LEAK012", "GATE012",
]

# Reported by `build`/`run` (tested through their functions) or by the suppression pass.
BUILD_PHASE = ("REPRO005", "BUDGET001")


def catalogue_codes() -> list[str]:
    rules_md = SHARED / "design" / "rules.md"
    if rules_md.is_file():
        return re.findall(r"^\| ([A-Z]+\d{3}) \|", rules_md.read_text("utf-8"), re.MULTILINE)
    return list(CATALOGUE)


@pytest.fixture
def fraud_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fraud example (risk high, its evaluate stage approved by `risk`),
    the current directory."""
    shutil.copytree(REPO / "examples" / "fraud", tmp_path / "fraud")
    monkeypatch.chdir(tmp_path / "fraud")
    return tmp_path / "fraud"
