"""Train sets that are legal data but that an estimator cannot learn from as given: one
class (HistGradientBoosting fitted a constant model, which was registered and deployed)
and a string feature with more distinct values than HistGradientBoosting takes (it
refused to train, naming a column index rather than the column)."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pipec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from model.project import events, write_project
from pipec.commands._runtime import EXIT_CODES
from pipec.manifest import build_manifest
from pipec.stdlib.runtime import model_stages, modeling, run_pipeline, serialize
from pipec.stdlib.runtime.errors import TrainingRefused

GBM = "sklearn.ensemble.HistGradientBoostingClassifier"
ALLOWED = ("sklearn",)


def _spec(**fields: Any) -> dict[str, Any]:
    return {"id": "train.model", "model": GBM, "params": {"max_iter": 10}, "seed": 1,
            "features": ["amount", "merchant"], "label": "late", "task": "binary"} | fields


def _merchants(rows: int = 3000, values: int = 1000, seed: int = 0) -> pa.Table:
    """`values` merchants, each in one row, then every other row at one of the first
    tenth of them (a few large merchants, many small), and a label that depends on the
    amount only."""
    rng = np.random.default_rng(seed)
    large = rng.integers(0, values // 10, rows - values)
    merchant = [f"m{int(i):04d}" for i in np.concatenate([np.arange(values), large])]
    amount = rng.normal(size=rows)
    return pa.table({"amount": amount, "merchant": merchant,
                     "late": (amount + rng.normal(0, 0.5, rows) > 0).astype(int)})


def _run(path: Path) -> Any:
    return run_pipeline(build_manifest(pipec.compile(path)), path.parent, path.parent)


def _gbm_project(folder: Path, table: pa.Table, features: str = "") -> Path:
    """The spend project, trained with HistGradientBoosting on `table`."""
    path = write_project(folder)
    pq.write_table(table, folder / "data" / "events.parquet")
    text = path.read_text().replace('"sklearn.linear_model.LogisticRegression"', f'"{GBM}"')
    path.write_text(text.replace("params { C: 1.0, max_iter: 300 }",
                                 f"{features}params {{ max_iter: 10 }}"))
    return path


# one class -------------------------------------------------------------------------------
def test_a_one_class_train_set_is_refused_not_deployed(tmp_path: Path) -> None:
    """HistGradientBoosting fits one class without complaint: the run went on to
    register and deploy a model that predicts "not a big spender" for everyone."""
    table = events(rows=3000)
    table = table.set_column(4, "spend_next", pa.array([1.0] * 3000))
    result = _run(_gbm_project(tmp_path, table))
    assert EXIT_CODES[result.status] == 1 and result.report["blocked_by"] == "train.model"
    assert [s.stage_id for s in result.stages][-1] == "split"  # nothing registered
    assert result.report["reason"] == (
        "train.model: the train set has one class: all 2,034 of its labelled rows have the "
        "label `big_spender` = False; a classifier needs two or more (this one would predict "
        "False for every row). Widen the training period (the split's train range) or check "
        "how the label is defined")


def test_a_one_class_multiclass_train_set_names_its_one_row_and_class() -> None:
    ctx = SimpleNamespace(stage=_spec(task="multiclass", features=["amount"]), options={})
    train = pa.table({"amount": [1.0, 2.0], "late": ["on time", None]})
    known, unlabelled = model_stages.labelled(train, "late")
    with pytest.raises(TrainingRefused) as refused:
        model_stages._fit_or_stop(ctx, known, unlabelled)
    assert str(refused.value).startswith(
        "train.model: the train set has one class: its one labelled row has the label "
        "`late` = 'on time' (1 unlabelled rows dropped); a classifier needs two or more")
    assert refused.value.report == {"rows": 1, "unlabelled_dropped": 1,
                                    "classes": ["on time"]}


def test_a_regression_with_one_label_value_still_trains() -> None:
    """A constant target is not "one class": a regression is not refused for it."""
    ctx = SimpleNamespace(stage=_spec(task="regression", features=["amount"], params={},
                                      model="sklearn.linear_model.LinearRegression"),
                          options={})
    train = pa.table({"amount": [1.0, 2.0, 3.0], "late": [5.0, 5.0, 5.0]})
    assert model_stages._fit_or_stop(ctx, train, 0).predict(
        modeling.frame(train, ["amount"])).tolist() == [5.0, 5.0, 5.0]


# many categories -------------------------------------------------------------------------
def test_a_string_feature_with_1000_values_trains_and_predicts() -> None:
    table = _merchants()
    model = modeling.fit(_spec(), table, ALLOWED)
    assert modeling.grouped_categories(model) == {
        "merchant": {"distinct": 1000, "kept": 254, "grouped": 746, "limit": 255}}
    # Prediction groups as training did: a rare merchant is the "other" value (254), a
    # frequent one keeps its own code, one never seen is missing.
    encode = model.named_steps["encode"]
    rare, frequent = "m0500", "m0001"
    probe = pa.table({"amount": [0.0, 0.0, 0.0], "merchant": [rare, frequent, "new"]})
    codes = encode.transform(modeling.frame(probe, ["amount", "merchant"]))[:, 0]
    assert codes[0] == 254 and codes[1] < 254 and np.isnan(codes[2])
    scores = modeling.scores(model, modeling.frame(probe, ["amount", "merchant"]), "binary")
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_grouping_is_inside_the_stored_model_and_its_bytes_are_stable() -> None:
    """Evaluation and serving load the stored model: it must group as the fitted one."""
    table = _merchants()
    data = serialize.dumps(modeling.fit(_spec(), table, ALLOWED))
    assert serialize.dumps(modeling.fit(_spec(), table, ALLOWED)) == data
    loaded = serialize.loads(data, serialize.sha256(data))
    frame = modeling.frame(table, ["amount", "merchant"])
    fitted = modeling.fit(_spec(), table, ALLOWED)
    assert np.array_equal(modeling.scores(loaded, frame, "binary"),
                          modeling.scores(fitted, frame, "binary"))


def test_equally_frequent_values_are_kept_by_value_whatever_the_row_order() -> None:
    """1000 merchants of 3 rows each: which 254 keep their own code is decided by value
    (the last ones in sorted order), not by the order the rows come in."""
    rows = [(float(i % 7), f"m{i % 1000:04d}", i % 2) for i in range(3000)]
    kept = []
    for seed in (1, 2):
        random.Random(seed).shuffle(rows)
        amount, merchant, late = zip(*rows, strict=True)
        table = pa.table({"amount": amount, "merchant": merchant, "late": late})
        encoder = modeling.fit(_spec(), table, ALLOWED).named_steps["encode"] \
            .named_transformers_["categorical"]
        other = set(encoder.infrequent_categories_[0])
        kept.append([v for v in encoder.categories_[0] if v not in other])
    assert kept[0] == kept[1] == [f"m{i:04d}" for i in range(746, 1000)]


def test_the_limit_is_the_estimators_max_bins() -> None:
    model = modeling.fit(_spec(params={"max_iter": 10, "max_bins": 20}),
                         _merchants(rows=600, values=100), ALLOWED)
    assert modeling.grouped_categories(model)["merchant"] == {
        "distinct": 100, "kept": 19, "grouped": 81, "limit": 20}


@pytest.mark.parametrize("path, values", [
    ("sklearn.linear_model.LogisticRegression", 1000),  # codes, whatever their number
    (GBM, 255),  # within the limit: the model is as it was before grouping existed
])
def test_no_grouping_when_the_estimator_takes_every_value(path: str, values: int) -> None:
    model = modeling.fit(_spec(model=path, params={}), _merchants(values=values), ALLOWED)
    encoder = model.named_steps["encode"].named_transformers_["categorical"]
    assert encoder.max_categories is None and modeling.grouped_categories(model) == {}


def test_the_train_report_names_the_grouped_column(tmp_path: Path) -> None:
    table = events(rows=3000)
    table = table.set_column(3, "country", pa.array([f"c{i % 1000:04d}" for i in range(3000)]))
    result = _run(_gbm_project(tmp_path, table, "features [amount, country]\n    "))
    assert result.status == "succeeded", result.report
    train = next(s for s in result.stages if s.stage_id == "train.model")
    grouped = train.report["grouped_categories"]
    assert grouped == {"country": {
        "distinct": 1000, "kept": 254, "grouped": 746, "limit": 255, "note":
        f"`country` has 1,000 distinct values in the train set, more than `{GBM}` takes "
        "(255): the 254 most frequent are kept, and the other 746 are one value \"other\" "
        "for the model, in training and in every prediction"}}
    from pipec.commands.run_report import report_lines

    lines = report_lines(result.status, result.report, {s.stage_id: s for s in result.stages})
    assert f"train.model: {grouped['country']['note']}" in lines
