"""Where a stage's state lives when it runs in a pod: the run store and every `registry
local` folder, on the volume the generated manifests mount at PIPEC_STATE_DIR
(`[tool.pipec] state_volume`); unset, both stay beside the .pipe file. Standard library
only: the backends that set the variable import it too."""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR_ENV = "PIPEC_STATE_DIR"


def registry_base(base_dir: Path) -> Path:
    """What a `registry local` path is relative to: the state folder, else `base_dir`."""
    state = os.environ.get(STATE_DIR_ENV)
    return Path(state).resolve() if state else base_dir
