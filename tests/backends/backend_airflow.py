"""Loading generated DAGs with Airflow's own DagBag, in the Airflow virtualenv."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .backend_helpers import REPO

try:  # the shared helper, when present
    from support.airflow_env import airflow_python as _shared_python
    from support.airflow_env import probe_dagbag as _shared_probe
except ImportError:  # pragma: no cover - until tests/support/airflow_env.py lands
    _shared_python = _shared_probe = None

SKIP_REASON = ("the Airflow virtualenv (.venv-airflow, made by .ci/airflow-venv.sh) is "
               "absent; CI creates it")


def airflow_python() -> Path | None:
    if _shared_python is not None:
        found = _shared_python()
        return Path(found) if found else None
    candidate = REPO / ".venv-airflow" / "bin" / "python"
    return candidate if candidate.exists() else None


def probe(folder: Path) -> dict:
    """DagBag's view of every DAG file in `folder` (skips when Airflow is absent)."""
    python = airflow_python()
    if python is None:
        pytest.skip(SKIP_REASON)
    if _shared_probe is not None:
        return _shared_probe(folder)
    script = REPO / "tests" / "support" / "dagbag_probe.py"
    done = subprocess.run([str(python), str(script), str(folder)], capture_output=True,
                          text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)
