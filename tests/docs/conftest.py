"""The examples site, built once for the `pipec docs` tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from docs.docsite_support import build


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("docs") / "site"
    assert build(output, "examples/*/*.pipe") == 0
    return output
