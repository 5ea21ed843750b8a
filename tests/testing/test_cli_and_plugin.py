"""`pipec test` on the examples and on broken files; the pytest plugin in a scratch
project, run the way a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES
from pipec.cli import main

from testing.programs import program_text

CLEAN = program_text("split by time { train before 2025-06-01; gap 3d }", snapshot="2026-01-01",
                     predicts="future")
LEAKY = program_text("split by time { train before 2025-06-01; gap 1d }", snapshot="2026-01-01",
                     predicts="future",
                     suppress=" # pipec: ignore[LEAK002] the property test must catch it")


@pytest.mark.parametrize("example", ["flights/flights.pipe", "fraud/fraud.pipe"])
def test_pipec_test_passes_on_the_examples(example: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["test", str(EXAMPLES / example)]) == 0
    out = capsys.readouterr().out
    assert "split properties hold" in out and "ok   time bounds hold" in out


def test_pipec_test_fails_with_a_counterexample(tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "leaky.pipe"
    path.write_text(LEAKY, encoding="utf-8")
    assert main(["test", str(path), "--max-examples", "10", "--no-cross-process"]) == 1
    out = capsys.readouterr().out
    assert "FAIL labels mature" in out
    assert "split property `labels_mature` does not hold" in out
    assert "shorter than the label maturity" in out


def test_pipec_test_refuses_a_file_with_errors(tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "bad.pipe"
    path.write_text(LEAKY.split(" # pipec")[0] + "\n}\n", encoding="utf-8")
    assert main(["test", str(path)]) == 1
    assert "LEAK002" in capsys.readouterr().out


def _scratch(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "model.pipe").write_text(text, encoding="utf-8")
    (tmp_path / "test_model.py").write_text(
        "from pipec.testing import assert_split_properties\n\n\n"
        "def test_splits():\n"
        "    assert_split_properties('model.pipe', max_examples=10, cross_process=False)\n\n\n"
        "def test_fixture(pipe_split):\n"
        "    assert pipe_split('model.pipe').kind == 'time'\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=False)


def test_plugin_in_a_scratch_project(tmp_path: Path) -> None:
    done = _scratch(tmp_path, CLEAN)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_plugin_fails_a_leaky_split(tmp_path: Path) -> None:
    done = _scratch(tmp_path, LEAKY)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "split property `labels_mature` does not hold" in done.stdout
    # The seed and the command that replay it, as `pipec test` prints them.
    assert ("replay with the same examples (the fixed default seed): pipec test model.pipe "
            "--max-examples 10 --no-cross-process") in done.stdout
    assert "1 failed, 1 passed" in done.stdout
