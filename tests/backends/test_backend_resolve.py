"""`pipec build --resolve`: `snapshot latest` resolved from the data, and the rules that
need the date (here LEAK002) checked with it (language.md, Snapshots)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipec.cli import main

PROGRAM = """team ml { contact "#ml"; role ml }
pipeline p {
  owner ml; on_failure block; predicts future
  image "registry.example.com/t@sha256:%s"
  source ev { from csv "ev.csv"; snapshot latest; entity id; time at
    schema { id: string, at: timestamp, amount: float, late: bool } }
  validate ev { require id }
  label late { column late; known_after 1d }
  split by time on at { train before 2024-03-01; test from snapshot - 40d }
  train m { model "sklearn.linear_model.LogisticRegression"; seed 1; features [amount] }
  evaluate m { primary roc_auc >= 0.5; calibration ece <= 0.3 }
}
""" % ("0" * 64)


def _project(tmp_path: Path, last_day: dt.date) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    start = dt.datetime(2024, 2, 1)
    days = (dt.datetime.combine(last_day, dt.time(12)) - start).days
    rows = ["id,at,amount,late"] + [
        f"u{i % 7},{(start + dt.timedelta(days=i)).isoformat()}Z,{i % 5 + 1.5},{i % 3 == 0}"
        for i in range(days + 1)]
    (tmp_path / "ev.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "p.pipe"
    path.write_text(PROGRAM)
    return path


def test_resolved_dates_are_checked(tmp_path: Path, capsys) -> None:
    path = _project(tmp_path, dt.date(2024, 4, 7))  # test from 2024-02-27: overlaps training
    assert main(["build", str(path), "--target", "argo", "-o", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    assert main(["build", str(path), "--target", "argo", "-o", str(tmp_path / "b"),
                 "--resolve"]) == 1
    out = capsys.readouterr()
    assert "resolves to 2024-04-07" in out.err
    assert "error[LEAK002]" in out.out and "after the test start 2024-02-27" in out.out
    assert not (tmp_path / "b").exists()


def test_a_later_snapshot_resolves_clean(tmp_path: Path, capsys) -> None:
    path = _project(tmp_path, dt.date(2024, 4, 20))  # test from 2024-03-11
    assert main(["build", str(path), "--target", "argo", "-o", str(tmp_path / "b"),
                 "--resolve"]) == 0
    assert "resolves to 2024-04-20" in capsys.readouterr().err


def test_unreadable_data_is_a_usage_error(tmp_path: Path, capsys) -> None:
    path = _project(tmp_path, dt.date(2024, 4, 7))
    (tmp_path / "ev.csv").unlink()
    assert main(["build", str(path), "--target", "argo", "-o", str(tmp_path / "b"),
                 "--resolve"]) == 2
    err = capsys.readouterr().err
    assert "pipec: --resolve:" in err and "does not exist" in err
