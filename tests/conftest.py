"""Shared fixtures: paths to the repository's examples and the shared specification."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SHARED = REPO.parent / "shared"


@pytest.fixture
def repo() -> Path:
    return REPO


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*/*.pipe"))
