"""`pipec build`: exit codes, refusal, atomic output, build-time diagnostics."""

from __future__ import annotations

import json
import subprocess
import sys

from pipec.cli import main

from .backend_helpers import EXAMPLES, variant


def test_build_writes_target_files_and_lineage(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", str(EXAMPLES / "fraud" / "fraud.pipe"), "--target", "argo",
                 "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["fraud_detection.yaml", "lineage.json"]
    manifest = json.loads((out / "lineage.json").read_text("utf-8"))
    assert manifest["pipeline"]["name"] == "fraud_detection"


def test_repro005_is_reported_by_build(tmp_path, capsys):
    # `code_commit auto` outside a git checkout: a warning, and the build still succeeds
    program = variant(EXAMPLES / "fraud" / "fraud.pipe", tmp_path / "src", "fraud_detection",
                      'scheduled "0 3 * * *"')
    assert main(["build", str(program), "--target", "local", "-o", str(tmp_path / "o")]) == 0
    assert "REPRO005" in capsys.readouterr().out


def test_build_refuses_a_program_with_errors(tmp_path, capsys):
    bad = tmp_path / "bad.pipe"
    bad.write_text("pipeline p {\n  source s { from csv \"s.csv\" }\n  train m { }\n}\n")
    out = tmp_path / "out"
    assert main(["build", str(bad), "--target", "airflow", "-o", str(out)]) == 1
    assert not out.exists()
    assert "error" in capsys.readouterr().out


def test_unknown_target_and_missing_file(tmp_path):
    fraud = str(EXAMPLES / "fraud" / "fraud.pipe")
    assert main(["build", fraud, "--target", "nope", "-o", str(tmp_path / "o")]) == 2
    assert main(["build", str(tmp_path / "x.pipe"), "--target", "argo"]) == 2


def test_budget001_reports_the_size(tmp_path, capsys):
    program = variant(EXAMPLES / "fraud" / "fraud.pipe", tmp_path, "fraud_detection",
                      'scheduled "0 3 * * *"')
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pipec]\nargo_max_bytes = 2000\nairflow_max_tasks = 5\n")
    out = tmp_path / "out"
    assert main(["build", str(program), "--target", "argo", "-o", str(out)]) == 1
    text = capsys.readouterr().out
    assert "BUDGET001" in text and "bytes" in text and "2,000" in text
    assert main(["build", str(program), "--target", "airflow", "-o", str(out)]) == 1
    # 12 stages, the human step and the task that records its Reject: what DagBag loads.
    assert "15 tasks" in capsys.readouterr().out
    assert not out.exists()


def test_existing_output_is_replaced_whole(tmp_path):
    out = tmp_path / "out"
    fraud = str(EXAMPLES / "fraud" / "fraud.pipe")
    assert main(["build", fraud, "--target", "local", "-o", str(out)]) == 0
    assert main(["build", fraud, "--target", "argo", "-o", str(out)]) == 0
    assert (out / "fraud_detection.yaml").exists() and (out / "run_fraud_detection.py").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_local_script_runs_through_the_runtime_entry_point(tmp_path):
    out = tmp_path / "out"
    assert main(["build", str(EXAMPLES / "fraud" / "fraud.pipe"), "--target", "local",
                 "-o", str(out)]) == 0
    done = subprocess.run([sys.executable, str(out / "run_fraud_detection.py"), "--help"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "fraud_detection" in done.stdout


def test_kubernetes_operator_option(tmp_path):
    out = tmp_path / "out"
    assert main(["build", str(EXAMPLES / "fraud" / "fraud.pipe"), "--target", "airflow",
                 "--airflow-operator", "kubernetes", "-o", str(out)]) == 0
    assert "KubernetesPodOperator" in (out / "fraud_detection.py").read_text("utf-8")


def test_build002_points_at_the_resources_setting(tmp_path, capsys):
    path = EXAMPLES / "flights" / "flights.pipe"
    assert main(["build", str(path), "--target", "airflow", "-o", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    line = next(i for i, text in enumerate(path.read_text("utf-8").splitlines(), 1)
                if text.strip().startswith("resources"))
    note = out.split("`resources` is not applied", 1)[1].split("help", 1)[0]
    assert f"flights.pipe:{line}:5" in note


def test_bash_operator_says_the_image_is_not_used(tmp_path, capsys):
    path = EXAMPLES / "flights" / "flights.pipe"
    line = next(i for i, text in enumerate(path.read_text("utf-8").splitlines(), 1)
                if text.strip().startswith("image"))
    assert main(["build", str(path), "--target", "airflow", "-o", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "`image` is not used by Airflow's BashOperator" in out
    assert f"flights.pipe:{line}:3" in out
    # In a pod the image is used, so the note is not given.
    assert main(["build", str(path), "--target", "airflow", "--airflow-operator",
                 "kubernetes", "-o", str(tmp_path / "k")]) == 0
    assert "`image` is not used" not in capsys.readouterr().out


def test_a_state_volume_with_bash_tasks_is_a_note(tmp_path, capsys):
    """The claim is for pods; Bash tasks keep their state on the workers' folder."""
    program = variant(EXAMPLES / "fraud" / "fraud.pipe", tmp_path, "fraud_detection", "manual")
    (tmp_path / "pyproject.toml").write_text('[tool.pipec]\nstate_volume = "ml-state"\n')
    assert main(["build", str(program), "--target", "airflow", "-o", str(tmp_path / "b")]) == 0
    assert "`[tool.pipec] state_volume` is not used by Airflow's BashOperator" in \
        capsys.readouterr().out
    assert main(["build", str(program), "--target", "airflow", "--airflow-operator",
                 "kubernetes", "-o", str(tmp_path / "k")]) == 0
    assert "is not used by Airflow" not in capsys.readouterr().out
