"""`pipec build` into a folder that already holds a build."""

from __future__ import annotations

from pathlib import Path

from pipec.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FRAUD = str(EXAMPLES / "fraud" / "fraud.pipe")
FLIGHTS = str(EXAMPLES / "flights" / "flights.pipe")


def test_a_second_pipeline_is_refused_a_folder_holding_another(tmp_path: Path,
                                                               capsys) -> None:
    """Both DAGs would run their stages from the one `lineage.json`: the second's."""
    out = tmp_path / "dags"
    assert main(["build", FRAUD, "--target", "airflow", "-o", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["build", FLIGHTS, "--target", "airflow", "-o", str(out)]) == 2
    assert "holds the build of pipeline `fraud_detection`" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_the_same_pipeline_rebuilds_into_its_folder(tmp_path: Path) -> None:
    out = tmp_path / "dags"
    assert main(["build", FRAUD, "--target", "airflow", "-o", str(out)]) == 0
    assert main(["build", FRAUD, "--target", "argo", "-o", str(out)]) == 0
    (out / "lineage.json").write_text("not json")  # a damaged old build is replaced
    assert main(["build", FLIGHTS, "--target", "airflow", "-o", str(out / "flights")]) == 0
    assert main(["build", FRAUD, "--target", "airflow", "-o", str(out)]) == 0
