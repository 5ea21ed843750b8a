"""T005: a metric that does not fit the task."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    at_use,
    lines_by_use,
)

DOC = '''
## What it does
Checks every gate metric against the task (from `task` on train, or the label's type:
windowed and `when` labels are binary): `rmse` on a classifier, `roc_auc` on a
regressor, calibration on a regressor, a `threshold` on a model that is not a binary
classifier (it cuts a positive-class probability; elsewhere it would be ignored), the
stage's own or one of a gate set it uses, or a metric pipec does not know. Checks the
train stage's `model` too, when its class name says what kind of estimator it is: a
`...Regressor` or `LinearRegression` for a classification task, a `...Classifier` or
`LogisticRegression` for a regression, and a classifier that gives no class
probabilities (`LinearSVC`, `RidgeClassifier`, an `SVC` without `probability: true`,
an `SGDClassifier` with a loss that has none), which the classification gates score.

## Why is this bad?
The gate cannot be computed, so the model would never be blessed, or a meaningless
number would decide promotion. A regressor has no class probabilities for a
classification gate to score, and a classifier fitted on a numeric target treats each
value as a class: either run fails, or wastes its training, after hours.

## Example
```pipe
pipeline p {
  source flights {
    from csv "f.csv"
    schema { id: string, late: bool }
  }
  label late {
    column late
  }
  split by random {
    test 20%
    seed 1
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    seed 1
  }
  evaluate m {
    primary rmse <= 3
  }
}
```

## Use instead
```pipe
pipeline p {
  source flights {
    from csv "f.csv"
    schema { id: string, late: bool }
  }
  label late {
    column late
  }
  split by random {
    test 20%
    seed 1
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    seed 1
  }
  evaluate m {
    primary roc_auc >= 0.7
  }
}
```
'''

METRIC_GATES = {"primary", "guardrail", "slice", "compare_champion"}
# Estimators whose class name does not end in `Classifier` or `Regressor` (scikit-learn's
# convention, which XGBoost, LightGBM and CatBoost follow too). Other names say nothing.
CLASSIFIERS = frozenset({
    "LogisticRegression", "LogisticRegressionCV", "SVC", "NuSVC", "LinearSVC", "GaussianNB",
    "MultinomialNB", "BernoulliNB", "ComplementNB", "CategoricalNB",
    "LinearDiscriminantAnalysis", "QuadraticDiscriminantAnalysis",
})
REGRESSORS = frozenset({
    "LinearRegression", "Ridge", "RidgeCV", "Lasso", "LassoCV", "ElasticNet", "ElasticNetCV",
    "Lars", "LarsCV", "LassoLars", "LassoLarsCV", "LassoLarsIC", "BayesianRidge",
    "ARDRegression", "OrthogonalMatchingPursuit", "SVR", "NuSVR", "LinearSVR", "KernelRidge",
    "IsotonicRegression",
})
# Classifiers without `predict_proba`, which scoring a classifier calls.
NO_PROBABILITIES = frozenset({"LinearSVC", "RidgeClassifier", "RidgeClassifierCV", "Perceptron",
                              "PassiveAggressiveClassifier"})
# Classifiers with `predict_proba` only for some parameters: (param, the values that give
# it, the fix), scikit-learn's defaults giving none.
PROBABILITIES_IF = {
    "SVC": ("probability", (True,), "probability: true"),
    "NuSVC": ("probability", (True,), "probability: true"),
    "SGDClassifier": ("loss", ("log_loss", "modified_huber"), 'loss: "log_loss"'),
}


@rule("T005", "error", "a metric that does not fit the task", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for evaluate in program.blocks("evaluate"):
        task = program.train_task(evaluate.name.name)
        for gate, use in lines_by_use(program.gate_sets, evaluate, n.Gate):
            assert isinstance(gate, n.Gate)
            if gate.kind in METRIC_GATES and gate.metric is not None \
                    and gate.metric.name not in CLASSIFICATION_METRICS | REGRESSION_METRICS:
                # Wrong wherever the line is used: reported at the line.
                yield error("T005", f"`{gate.metric.name}` is not a metric pipec knows",
                            gate.metric.span, "known metrics: " + ", ".join(sorted(
                                CLASSIFICATION_METRICS | REGRESSION_METRICS)))
            else:  # wrong for this model's task: reported at the `use` that brings it
                yield from at_use(_for_task(gate, task), use)
        yield from _threshold_for_task(program, evaluate, task)
    for train in program.blocks("train"):
        yield from _model_for_task(program, train)


def _threshold_for_task(program: Program, evaluate: n.Block,
                        task: str | None) -> Iterator[Diagnostic]:
    """`threshold` cuts a binary classifier's positive-class probability; a regressor
    has no probability and a multiclass model takes the likeliest class: the line, which
    its writer believes moves precision and recall, would be ignored. So would one in a
    gate set the stage uses, reported at the `use`."""
    if task not in ("regression", "multiclass"):
        return
    for line, use in lines_by_use(program.gate_sets, evaluate, n.Setting):
        assert isinstance(line, n.Setting)
        if line.keyword == "threshold":
            yield from at_use([error(
                "T005", f"`threshold` on a {task} model: it cuts a binary classifier's "
                "probability of the positive class, so the run would ignore it", line.span,
                "remove `threshold`")], use)


def _model_for_task(program: Program, train: n.Block) -> Iterator[Diagnostic]:
    """A train stage whose estimator's kind (by its class name) is not the task's."""
    setting = train.setting("model")
    if setting is None or not isinstance(setting.value, n.Str):
        return
    own_task = train.setting("task")
    task = program.train_task(train.name.name)
    path = setting.value.value
    kind = estimator_kind(path.rsplit(".", 1)[-1])
    scored = program.block("evaluate", train.name.name) is not None
    if scored and task in ("binary", "multiclass"):
        yield from _probabilities(train, path, setting.value.span)
    if task is None or kind is None or (kind == "regressor") == (task == "regression"):
        return
    why = "it predicts numbers, not the class probabilities classification gates score" \
        if kind == "regressor" else "it would treat each value of the target as a class"
    fix = f"{_estimator_fix(path, kind)}, or change the label or `task`"
    if kind == "classifier" and own_task is None:
        # A numeric label column makes a regression; a 0/1 or coded one is often meant
        # as classes, which only `task` can say.
        fix = "if the label's values are classes, add `task binary` (0/1) or `task " \
            f"multiclass`; otherwise {_estimator_fix(path, kind)}"
    yield error("T005", f"`{path}` is a {kind}, but the task of `train.{train.name.name}` "
                f"is {task}: {why}", setting.value.span, fix)


def _probabilities(train: n.Block, path: str, span: n.Span) -> Iterator[Diagnostic]:
    """A classifier scored on its class probabilities must have `predict_proba`: without
    it the run fails at the evaluate stage, after training."""
    class_name = path.rsplit(".", 1)[-1]
    params = train.setting("params")
    given = params.value.py if params is not None and isinstance(params.value, n.MapValue) \
        else {}
    if class_name in PROBABILITIES_IF:
        key, enabling, setting = PROBABILITIES_IF[class_name]
        if given.get(key) in enabling:
            return
        why = f"without `{setting}` in its `params`, `{path}` gives"
        fix = f"add `{setting}` to its `params`, or use a classifier with probabilities"
    elif class_name in NO_PROBABILITIES:
        why = f"`{path}` gives"
        fix = "use a classifier with probabilities, such as " \
            "`sklearn.linear_model.LogisticRegression`"
    else:
        return
    yield error("T005", f"{why} no class probabilities (`predict_proba`), which the "
                f"classification gates of train `{train.name.name}` score: the run would fail "
                "at its evaluate stage, after training", span, fix)


def estimator_kind(class_name: str) -> str | None:
    """"classifier", "regressor", or None when the class name does not say."""
    if class_name in CLASSIFIERS or class_name.endswith(("Classifier", "ClassifierCV")):
        return "classifier"
    if class_name in REGRESSORS or class_name.endswith(("Regressor", "RegressorCV")):
        return "regressor"
    return None


def _estimator_fix(path: str, kind: str) -> str:
    wrong, right = ("Regressor", "Classifier") if kind == "regressor" else \
        ("Classifier", "Regressor")
    if path.endswith(wrong):
        return f"use `{path[:-len(wrong)] + right}`"
    return f"use a {'classifier' if kind == 'regressor' else 'regressor'}"


def _for_task(gate: n.Gate, task: str | None) -> Iterator[Diagnostic]:
    if gate.kind == "calibration" and task == "regression":
        yield error("T005", "a calibration gate on a regression model", gate.span,
                    "calibration gates apply to classifiers")
    if gate.kind not in METRIC_GATES or gate.metric is None:
        return
    metric = gate.metric.name
    if task == "regression" and metric not in REGRESSION_METRICS:
        yield error("T005", f"`{metric}` is a classification metric, but the task is "
                    "regression", gate.metric.span, "use rmse, mae, mse, r2 or mape")
    elif task in ("binary", "multiclass") and metric not in CLASSIFICATION_METRICS:
        yield error("T005", f"`{metric}` is a regression metric, but the task is {task}",
                    gate.metric.span, "use roc_auc, pr_auc, recall, precision or f1")
