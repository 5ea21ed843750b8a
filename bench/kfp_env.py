"""The separate virtualenv that holds Kubeflow Pipelines (`kfp`) for the peer benchmark.

kfp pins its own protobuf, kubernetes and click ranges, which may clash with the project's
venv, so it lives in `bench/.venv-kfp` (gitignored) and is only ever run as a subprocess.

    python -m bench.kfp_env        # create or reuse it; prints its python on stdout
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".venv-kfp"
REQUIREMENT = "kfp"


def kfp_python() -> Path:
    return VENV / "bin" / "python"


def healthy() -> bool:
    python = kfp_python()
    if not python.is_file():
        return False
    probe = subprocess.run([str(python), "-c", "import kfp.dsl, kfp.compiler"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def ensure() -> Path:
    """The kfp venv's python, creating the venv and installing kfp when needed."""
    if healthy():
        return kfp_python()
    print(f"bench: creating {VENV.name} with {REQUIREMENT}", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    subprocess.run([str(kfp_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "--no-input", REQUIREMENT], check=True, stdout=sys.stderr)
    if not healthy():
        raise RuntimeError(f"kfp does not import from {VENV.name}")
    return kfp_python()


def version() -> str:
    out = subprocess.run([str(kfp_python()), "-c", "import kfp; print(kfp.__version__)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


if __name__ == "__main__":
    print(ensure())
