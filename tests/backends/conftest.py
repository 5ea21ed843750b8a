"""Fixtures for the backend tests: the programs every test builds, and one DagBag load
per Airflow operator for all of them (loading Airflow takes seconds)."""

from __future__ import annotations

from pathlib import Path

import pipec
import pytest
from pipec.backends.plan import Plan, plan_of

from .backend_helpers import EXAMPLES, build, hostile_program, pipeline_examples, variant

# Every retraining pattern, applied to the reference program.
RETRAIN_VARIANTS = {
    "fraud_manual": "manual",
    "fraud_scheduled": 'scheduled "*/30 2 * * 1-5"',
    "fraud_new_snapshot": "triggered on new_snapshot",
    "fraud_drift": "triggered on drift(amount) > 0.2",
    "fraud_continuous": "continuous",
}

HOSTILE_SAMPLE = {
    "contact": "it's \"{{ dag }}\" ${HOME} `id`",
    "description": "line one\n- item: [x]\n  {{ ti.xcom_pull() }} {% raw %} # not a comment",
    "path": "data/'; rm -rf / #.parquet",
    "param": "--- &anchor *alias !!python/object:os.system ''' \"\"\"",
    "stage": "\u2028 é 🚀 {{ macros.ds_add(ds, 1) }}",
    "image": "registry.example.com/ml-train",
}


@pytest.fixture(scope="session")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Pipeline name -> .pipe file: every example plus the retraining variants."""
    found = {pipec.compile(p).name: p for p in pipeline_examples()}
    folder = tmp_path_factory.mktemp("variants")
    reference = EXAMPLES / "fraud" / "fraud.pipe"
    for name, retrain in RETRAIN_VARIANTS.items():
        found[name] = variant(reference, folder / name, name, retrain)
    # Pods that keep the run store and the registries on a claim (`state_volume`).
    found["fraud_stateful"] = variant(reference, folder / "stateful", "fraud_stateful", "manual")
    (folder / "stateful" / "pyproject.toml").write_text(
        '[tool.pipec]\nstate_volume = "ml-state"\nservice_account = "ml-stages"\n'
        'max_parallel_stages = 8\n', "utf-8")
    # A fixed hostile sample goes through every consumer (DagBag, the Argo schema) too.
    found["fraud_hostile"] = hostile_program(folder / "hostile", HOSTILE_SAMPLE, "0 3 * * *",
                                             "fraud_hostile")
    return found


@pytest.fixture(scope="session")
def plans(programs: dict[str, Path]) -> dict[str, Plan]:
    return {name: plan_of(pipec.compile(path)) for name, path in programs.items()}


@pytest.fixture(scope="session")
def dagbags(programs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """operator -> DagBag probe of a folder holding the DAG of every program."""
    from .backend_airflow import probe

    loaded = {}
    for operator in ("bash", "kubernetes"):
        folder = tmp_path_factory.mktemp(f"dags-{operator}")
        for name, path in programs.items():
            result = build(path, "airflow", folder / name, operator)
            for file_name, text in result.files.items():
                (folder / name).mkdir(exist_ok=True)
                (folder / name / file_name).write_text(text, "utf-8")
        loaded[operator] = probe(folder)
    return loaded
