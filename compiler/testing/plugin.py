"""The pytest plugin (entry point `pytest11`): fixtures for `.pipe` files.

pytest loads this module in every project where pipec is installed, so it imports
nothing heavy and defines nothing that runs unless a test asks for a fixture.

    def test_splits(pipe_split):
        assert_split_properties(pipe_split("model.pipe"))

or, without fixtures, `assert_split_properties("model.pipe")`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def _resolver(request: pytest.FixtureRequest) -> Any:
    here = Path(str(request.path)).parent

    def resolve(path: str | Path) -> Path:
        path = Path(path)
        if path.is_absolute() or path.exists():
            return path
        return here / path

    return resolve


@pytest.fixture
def pipe_program(request: pytest.FixtureRequest) -> Any:
    """`pipe_program("model.pipe")`: the checked program; fails the test with the
    diagnostics when the file has errors. Paths are relative to the working directory,
    else to the test file."""
    resolve = _resolver(request)

    def load(path: str | Path) -> Any:
        from pipec.testing.spec import SpecError, load_program

        try:
            return load_program(resolve(path))
        except SpecError as exc:
            pytest.fail(str(exc), pytrace=False)

    return load


@pytest.fixture
def pipe_split(request: pytest.FixtureRequest) -> Any:
    """`pipe_split("model.pipe")`: the file's `SplitSpec` (what the properties test)."""
    resolve = _resolver(request)

    def load(path: str | Path) -> Any:
        from pipec.testing.spec import SpecError, split_spec

        try:
            spec = split_spec(resolve(path))
        except SpecError as exc:
            pytest.fail(str(exc), pytrace=False)
        if spec is None:
            pytest.fail(f"`{path}` declares no split", pytrace=False)
        return spec

    return load
