"""The wheel holds one import package, `pipec`, with its data files: the grammar, the
standard library's .pipe files, the examples and the templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow


def test_wheel_contents(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(REPO)], check=True, capture_output=True, timeout=600)
    [wheel] = tmp_path.glob("pipec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"pipec", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    for needed in ("pipec/grammar/pipe.lark", "pipec/stdlib/gates/binary.pipe",
                   "pipec/stdlib/checks/events.pipe", "pipec/examples/fraud/fraud.pipe",
                   "pipec/examples/flights/flights.pipe", "pipec/cli.py",
                   "pipec/backends/airflow/__init__.py", "pipec/stdlib/runtime/stage.py"):
        assert needed in names, needed
    assert any(name.startswith("pipec/docsite/templates/") for name in names)
