"""GATE010: a gate line no model can pass (its metric never reaches the bound), or, as
a warning, one every model passes (it checks nothing) or a primary metric or champion
comparison that points the wrong way (it refuses the better models)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error, warning
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import gates_of

DOC = '''
## What it does
Compares each gate's bound with the range its metric can take: `roc_auc`, `recall`,
`precision`, `f1`, `accuracy`, `ece`, `brier` and the other scores lie in 0..1 (a
multiclass `brier`, summed over the classes, in 0..2), losses and errors are never
negative, `r2` never exceeds 1, and a latency or a size is never negative. A gate that
asks for more (`primary roc_auc >= 1.5`, `guardrail rmse < 0`, `compare champion
roc_auc >= 2`) fails for every model: an error. One that every value passes
(`guardrail recall >= 0`) checks nothing: a warning. So is a `primary` or `compare
champion` line that points the wrong way for its metric (`primary log_loss >= 0.35`,
`compare champion rmse >= -0.1`: a lower loss is better), which blesses worse models and
refuses better ones. Guardrails and slices may bound a score from above on purpose (a
"too good to be true" check), so they are not held to a direction.

## Why is this bad?
No model is ever blessed: every run ends at the evaluate stage, usually after hours of
training, for a typo such as `70` where `0.70` was meant. A gate pointing the wrong way
is worse: it blesses the models that should fail (a `log_loss` copied with the `>=` of
a `roc_auc` line), and nothing in the run says so.

## Example
```pipe
pipeline p {
  evaluate m {
    primary roc_auc >= 70
  }
}
```

## Use instead
```pipe
pipeline p {
  evaluate m {
    primary roc_auc >= 0.70
  }
}
```
'''

UNIT = (0.0, 1.0)
NON_NEGATIVE = (0.0, math.inf)
# metric -> the values it can take
RANGES = {
    **dict.fromkeys(("roc_auc", "pr_auc", "average_precision", "accuracy",
                     "balanced_accuracy", "precision", "recall", "f1", "brier", "ece"), UNIT),
    **dict.fromkeys(("log_loss", "rmse", "mse", "mae", "median_ae", "mape"), NON_NEGATIVE),
    "r2": (-math.inf, 1.0),
}
# A multiclass Brier score sums the squared error over every class (as scikit-learn's
# multiclass `brier_score_loss`): all the probability on a wrong class scores 2.
MULTICLASS_RANGES = {"brier": (0.0, 2.0)}
SCORE_GATES = {"primary", "guardrail", "slice", "calibration"}
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "rmse", "mse", "mae", "median_ae",
                             "mape"})
HIGHER_IS_BETTER = frozenset({"roc_auc", "pr_auc", "average_precision", "accuracy",
                              "balanced_accuracy", "precision", "recall", "f1", "r2"})
# The gates that choose which model is better: one pointing the wrong way promotes the
# worse model. (A guardrail or slice may bound a score from above on purpose.)
DIRECTED_GATES = {"primary", "compare_champion"}
FLIPPED = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}


@rule("GATE010", "error", "a gate no model can pass", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for evaluate in program.blocks("evaluate"):
        multiclass = program.train_task(evaluate.name.name) == "multiclass"
        ranges = RANGES | (MULTICLASS_RANGES if multiclass else {})
        for gate in gates_of(program, evaluate):
            found = _possible(gate, ranges)
            if found is None:
                continue
            low, high, bound = found
            assert gate.value is not None
            if not _reachable(gate.op or "", bound, low, high):
                yield error("GATE010", f"`{_line(gate)}` can never pass: the value lies in "
                            f"{_interval(low, high)}", gate.value.span,
                            "check the bound (a share is written 0.7 or 70%, not 70)")
            elif _always(gate.op or "", bound, low, high):
                yield warning("GATE010", f"`{_line(gate)}` passes for every model: the value "
                              f"lies in {_interval(low, high)}, so the gate checks nothing",
                              gate.value.span, "set the bound the model must really meet")
            else:
                yield from _backwards(gate)


def _backwards(gate: n.Gate) -> Iterator[Diagnostic]:
    """A warning for a primary or champion gate that asks for more of a loss, or less of
    a score."""
    if gate.kind not in DIRECTED_GATES or gate.metric is None or gate.op not in FLIPPED:
        return
    metric = gate.metric.name
    wants_more = gate.op in (">=", ">")
    if metric in LOWER_IS_BETTER and wants_more:
        better = "a lower"
    elif metric in HIGHER_IS_BETTER and not wants_more:
        better = "a higher"
    else:
        return
    assert gate.value is not None
    fixed = _line(gate).replace(f" {gate.op} ", f" {FLIPPED[gate.op]} ", 1)
    if gate.kind == "compare_champion":
        fixed = f"{fixed.rsplit(' ', 1)[0]} {_negated(gate.value.text)}"
        what = f"the candidate's {metric} minus the champion's"
    else:
        what = metric
    yield warning("GATE010", f"`{_line(gate)}` points the wrong way: {better} {metric} is "
                  f"better, but the gate asks for {what} {'at least' if wants_more else 'at most'} "
                  f"{gate.value.text}, so it blesses worse models and refuses better ones",
                  gate.span, f"write `{fixed}`")


def _negated(text: str) -> str:
    """A champion margin with its sign flipped, as written (`-0.01` <-> `0.01`)."""
    if text.startswith("-"):
        return text[1:]
    return text if text.rstrip("%").strip("0.") == "" else f"-{text}"


def _possible(gate: n.Gate,
              ranges: dict[str, tuple[float, float]]) -> tuple[float, float, float] | None:
    """(lowest, highest the gated value can be, the bound), or None when unknown."""
    bound = _number(gate.value)
    if bound is None:
        return None
    if gate.kind in ("latency", "size"):
        return 0.0, math.inf, bound
    if gate.metric is None or gate.metric.name not in ranges:
        return None
    low, high = ranges[gate.metric.name]
    if gate.kind == "compare_champion":  # candidate minus champion
        return low - high, high - low, bound
    if gate.kind in SCORE_GATES:
        return low, high, bound
    return None


def _number(value: n.Value | None) -> float | None:
    if isinstance(value, n.Percent | n.Float | n.Int):
        return float(value.value)
    if isinstance(value, n.Duration):
        return value.seconds
    if isinstance(value, n.Size):
        return float(value.bytes)
    return None


def _reachable(op: str, bound: float, low: float, high: float) -> bool:
    return {
        ">=": high >= bound, ">": high > bound, "<=": low <= bound, "<": low < bound,
        "==": low <= bound <= high, "!=": True,
    }.get(op, True)


def _always(op: str, bound: float, low: float, high: float) -> bool:
    return {">=": low >= bound, ">": low > bound, "<=": high <= bound, "<": high < bound,
            "==": False, "!=": not low <= bound <= high}.get(op, False)


def _interval(low: float, high: float) -> str:
    def show(x: float) -> str:
        return "-inf" if x == -math.inf else "inf" if x == math.inf else f"{x:g}"

    return f"[{show(low)}, {show(high)}]"


def _line(gate: n.Gate) -> str:
    metric = f" {gate.metric.name}" if gate.metric is not None else ""
    kind = "compare champion" if gate.kind == "compare_champion" else gate.kind
    if gate.kind == "slice" and gate.column is not None:  # as written: `slice COL: METRIC`
        rows = f" min {gate.min_rows.value}" if gate.min_rows is not None else ""
        kind = f"slice {gate.column.name}{rows}:"
    assert gate.value is not None
    return f"{kind}{metric} {gate.op} {gate.value.text}"
