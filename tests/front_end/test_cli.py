"""The command line: exit codes of interfaces.md, no traceback on user errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES
from pipec import __version__
from pipec.cli import main


def pipec(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_version() -> None:
    result = pipec("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"pipec {__version__}"


@pytest.mark.parametrize("example", ["fraud/fraud.pipe", "flights/flights.pipe",
                                     "fraud/teams.pipe"])
def test_examples_check_clean(example: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(EXAMPLES / example)]) == 0
    assert capsys.readouterr().out == ""


def test_lint_alias_and_directories(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(EXAMPLES / "fraud"), str(EXAMPLES / "flights" / "*.pipe")]) == 0
    # The whole tree holds the deliberately leaky variant, which must be refused.
    assert main(["lint", str(EXAMPLES)]) == 1
    assert "LEAK008" in capsys.readouterr().out


def test_error_exit_code_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.pipe"
    bad.write_text("pipeline p {\n  source s {\n    lag two\n  }\n}\n")
    assert main(["check", "--format", "json", str(bad)]) == 1
    [diagnostic] = json.loads(capsys.readouterr().out)
    assert diagnostic["code"] == "P001"
    assert (diagnostic["line"], diagnostic["column"]) == (3, 9)
    assert set(diagnostic) == {"code", "severity", "message", "file", "line", "column",
                               "end_line", "end_column", "help"}


def test_missing_file_is_usage_error() -> None:
    result = pipec("check", "no/such/file.pipe")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "no such file" in result.stderr


def test_bad_bytes_are_p001_not_2(tmp_path: Path) -> None:
    bad = tmp_path / "bytes.pipe"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    result = pipec("check", str(bad))
    assert result.returncode == 1 and "P001" in result.stdout
    assert "Traceback" not in result.stderr


def test_unknown_command_is_usage_error() -> None:
    assert pipec("frobnicate").returncode == 2


def test_graph_json_lists_every_kind_with_lineage() -> None:
    result = pipec("graph", str(EXAMPLES / "fraud" / "fraud.pipe"), "--format", "json")
    assert result.returncode == 0, result.stderr
    graph = json.loads(result.stdout)
    kinds = {node["kind"] for node in graph["nodes"]}
    assert kinds == {"source", "validate", "label", "features", "join", "split", "train",
                     "evaluate", "register", "approval", "deploy"}
    edges = {(e["source"], e["target"]): e for e in graph["edges"]}
    assert edges[("features.account_risk", "join")]["feature_version"] == 12
    assert len(edges[("features.account_risk", "join")]["definition_hash"]) == 64
    assert edges[("train.fraud_gbm", "evaluate.fraud_gbm")]["seed"] == 42
    assert edges[("validate.transactions", "join")]["dataset"] == {
        "snapshot": "latest", "source": "transactions"}
    assert ("register.fraud_gbm", "approval.fraud_gbm") in edges
    assert ("approval.fraud_gbm", "deploy.fraud_gbm") in edges
    for node in graph["nodes"]:
        assert {"id", "kind", "name", "owner"} <= set(node)


def test_graph_formats_are_deterministic() -> None:
    for fmt in ("mermaid", "dot", "json"):
        first = pipec("graph", str(EXAMPLES / "flights" / "flights.pipe"), "--format", fmt)
        second = pipec("graph", str(EXAMPLES / "flights" / "flights.pipe"), "--format", fmt)
        assert first.returncode == 0 and first.stdout == second.stdout


def test_graph_pictures_name_every_owner_of_a_co_owned_stage() -> None:
    """The JSON lists `owners`; mermaid and dot named the first owner alone."""
    owners = "owners: ml_flights, flights_product, ops_risk"
    for fmt in ("mermaid", "dot"):
        shown = pipec("graph", str(EXAMPLES / "flights" / "flights.pipe"), "--format", fmt)
        assert owners in shown.stdout, fmt


def test_explain_known_and_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "T002"]) == 0
    assert "## What it does" in capsys.readouterr().out
    assert main(["explain", "NOPE999"]) == 2


def test_python_api_compiles_text() -> None:
    import pipec

    program = pipec.compile('team a { contact "x"; role ml }\n')
    assert program.ok and program.teams.keys() == {"a"}
