"""Pipelines a new user writes from language.md alone, on constructs the bundled examples
do not use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pipec
import pyarrow as pa
import pyarrow.parquet as pq
from pipec.manifest import build_manifest
from pipec.stdlib.runtime import run_pipeline
from support.programs import edited

TEAMS = 'team ml { contact "#ml"; role ml }\nteam data { contact "#data"; role data }\n'


def _run(path: Path) -> Any:
    return run_pipeline(build_manifest(pipec.compile(path)), path.parent, path.parent)


def _stage(result: Any, stage_id: str) -> Any:
    return next(s for s in result.stages if s.stage_id == stage_id)


# a static base source (no `time`) with a label read from a column -----------------------
STATIC = TEAMS + """
pipeline static_label {
  owner ml
  predicts iid
  on_failure block
  source s {
    owner data
    from parquet "data.parquet"
    schema { id: string, x: float, flag: bool }
  }
  validate s { owner data; require id; unique id }
  label y { column flag }
  split by random { seed 1 }
  train m { model "sklearn.linear_model.LogisticRegression"; features [x]; seed 1 }
  evaluate m { owners ml; primary accuracy >= 0.5; calibration ece <= 0.5 }
}
"""


def test_a_column_label_on_a_source_without_time_is_not_censored(tmp_path: Path) -> None:
    """A `column` label on a base source with no `time` (a static table, `predicts iid`)
    stopped the label stage with "AttributeError: 'NoneType' object has no attribute
    'replace'": it looked for the newest time of a source that has none. Such a label is
    known at once (nothing to censor), so every row is an example."""
    x = [i / 10 for i in range(-100, 100)]
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(len(x))], "x": x,
                             "flag": [v > 0 for v in x]}), tmp_path / "data.parquet")
    path = tmp_path / "static.pipe"
    path.write_text(STATIC, "utf-8")
    result = _run(path)
    assert result.status == "succeeded", result.report.get("error")
    label = _stage(result, "label.y").report
    assert (label["rows"], label["censored"]) == (200, 0)
    join = _stage(result, "join").report
    assert (join["examples"], join["censored"]) == (200, 0)


# the split's LEAK002 / LEAK007 re-checks speak the language's durations and dates -------
def _split_check(split: dict[str, Any], maturity_s: int, label_snapshot: str) -> str:
    """The reason `_check_gap` stops a time split with, for a base `b` at `snapshot
    latest` and a windowed label from `e` (fixed snapshot `label_snapshot`)."""
    from datetime import date

    import pytest
    from pipec.stdlib.runtime.context import StageContext
    from pipec.stdlib.runtime.data_stages import _check_gap
    from pipec.stdlib.runtime.errors import RunStopped

    stages = [{"id": "source.b", "kind": "source", "snapshot": "latest"},
              {"id": "source.e", "kind": "source", "snapshot": label_snapshot},
              {"id": "label.y", "kind": "label", "source": "e", "maturity_s": maturity_s},
              {"id": "split", "kind": "split", "by": "time"} | split]
    ctx = StageContext({"stages": stages}, Path("."), stages[3], "run", None, None)
    snapshots = {"b": "2026-04-30", "e": label_snapshot}
    ctx.source_meta = lambda source: {"snapshot": snapshots[source]}  # type: ignore[method-assign]
    with pytest.raises(RunStopped) as stopped:
        _check_gap(ctx, {"label": "label.y", "base": "b"}, date(2026, 4, 30))
    return str(stopped.value.reason if hasattr(stopped.value, "reason") else stopped.value)


def test_leak007_on_the_resolved_dates_says_15d_not_a_python_timedelta() -> None:
    """The message said "labels mature 15 days, 0:00:00 after an example, so only
    examples before 2026-04-06 00:00:00+00:00 have one" (Python's timedelta and
    datetime); the checker says `15d` and dates as the file writes them."""
    reason = _split_check({"train_before": {"snapshot_minus_s": 50 * 86_400},
                           "gap_s": 15 * 86_400,
                           "test_from": {"snapshot_minus_s": 16 * 86_400}},
                          15 * 86_400, "2026-04-20")
    assert "labels mature 15d after an example" in reason
    assert "the test period starts 2026-04-14," in reason
    assert "only examples before 2026-04-06 have one" in reason
    assert "days," not in reason and "+00:00" not in reason


def test_leak002_on_the_resolved_dates_says_durations_as_written() -> None:
    reason = _split_check({"train_before": {"date": "2026-04-10"},
                           "test_from": {"snapshot_minus_s": 25 * 86_400}},
                          36 * 3600 + 30 * 60, "2026-04-30")
    assert "training ends 2026-04-10 and its labels mature 1d12h30m later" in reason
    assert "starts at 2026-04-05;" in reason


# docs: a probability threshold only where there is a probability ------------------------
REGRESSOR = edited(STATIC, ("static_label", "eta"), ("flag: bool", "minutes: float"),
                   ("label y { column flag }", "label minutes { column minutes }"),
                   ("linear_model.LogisticRegression", "linear_model.Ridge"),
                   ("primary accuracy >= 0.5; calibration ece <= 0.5", "primary rmse <= 5"))


def test_docs_show_no_probability_threshold_for_a_regressor(tmp_path: Path) -> None:
    """The Gates section of a regression (and a multiclass) evaluate stage said
    "(threshold 0.5)", a cut of predicted probabilities that no gate of such a model
    uses; a binary one still shows its threshold."""
    from pipec.cli import main

    path = tmp_path / "eta.pipe"
    path.write_text(REGRESSOR, "utf-8")
    binary = tmp_path / "binary.pipe"
    binary.write_text(STATIC.replace("static_label", "binary_label"), "utf-8")
    assert main(["docs", str(path), str(binary), "-o", str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "eta.md").read_text("utf-8")
    html = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert "### [`evaluate.m`](#stage-eta--evaluate.m)\n" in page
    assert "threshold" not in page
    assert "(threshold 0.5)" in (tmp_path / "site" / "binary_label.md").read_text("utf-8")
    assert html.count('<span class="policy">threshold') == 1


# `registry mlflow`: the runtime's refusal names what is unsupported, for every target ----
def test_an_mlflow_registry_is_refused_naming_the_fix() -> None:
    """`registry mlflow "file:./mlruns"` checked and built clean, and the run then failed
    at the evaluate stage with "the local runner writes only `registry local`", also
    under Airflow and Argo, whose stages run the same runtime (build and run now refuse
    it first: BUILD001). The refusal says that pipec's runtime has no MLflow registry, on
    any target, and what to write instead."""
    from types import SimpleNamespace

    import pytest
    from pipec.stdlib.runtime import champion
    from pipec.stdlib.runtime.errors import ManifestError

    register = {"id": "register.b", "registry": {"kind": "mlflow", "uri": "file:./mlruns"}}
    with pytest.raises(ManifestError) as refused:
        champion.stage_registry(SimpleNamespace(base_dir=Path(".")), register)
    message = str(refused.value)
    assert "local runner" not in message
    assert "`registry mlflow`" in message and "every target" in message
    assert '`registry local "DIR"`' in message
