"""Golden outputs per example per target: tests/golden/<example>/<target>/.

Regenerate after an intended change with `PIPEC_REGENERATE=1 pytest tests/backends`.
Outputs are built as if written into the golden folder, so `base_dir` in lineage.json
is the path from there to the example.
"""

from __future__ import annotations

import os

import pytest

from .backend_helpers import GOLDEN, build, pipeline_examples

VARIANTS = {"airflow": ("airflow", "bash"), "airflow-kubernetes": ("airflow", "kubernetes"),
            "argo": ("argo", "bash"), "local": ("local", "bash")}
CASES = [(p, v) for p in pipeline_examples() for v in VARIANTS]


@pytest.mark.parametrize(("path", "variant"), CASES,
                         ids=[f"{p.parent.name}-{v}" for p, v in CASES])
def test_golden(path, variant):
    target, operator = VARIANTS[variant]
    folder = GOLDEN / path.parent.name / variant
    files = build(path, target, folder, operator).files
    if os.environ.get("PIPEC_REGENERATE"):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():
            stale.unlink()
        for name, text in files.items():
            (folder / name).write_text(text, "utf-8", newline="\n")
    assert folder.is_dir(), f"no golden output: run `PIPEC_REGENERATE=1 pytest {__file__}`"
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    for name, text in files.items():
        assert (folder / name).read_text("utf-8") == text, f"{variant}/{name} changed"
