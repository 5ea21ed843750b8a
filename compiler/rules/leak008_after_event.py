"""LEAK008: a column marked `after_event` used directly as a feature."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import marked_inputs

DOC = '''
## What it does
Reports a schema column marked `after_event` (known only after the prediction time)
that a train stage lists in its `features`, or that a feature view copies with
`columns [...]`. A point-in-time aggregate of earlier events' values
(`feature delay_mean_30d = mean(dep_delay) over 30d`) is allowed.

## Why is this bad?
At prediction time the value does not exist yet (a flight's actual departure delay
when predicting at booking time). The model relies on it in training and gets nothing
in production.

## Example
```pipe
pipeline p {
  source flights {
    from csv "flights.csv"
    schema { id: string, distance: float, dep_delay: float after_event, late: bool }
  }
  label late {
    column late
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    features [distance, dep_delay]
  }
}
```

## Use instead
```pipe
pipeline p {
  source flights {
    from csv "flights.csv"
    schema { id: string, distance: float, dep_delay: float after_event, late: bool }
  }
  label late {
    column late
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    features [distance]
  }
}
```
'''


@rule("LEAK008", "error", "an after_event column used directly as a feature", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for column, where in marked_inputs(program, "after_event"):
        fix = (f"remove `{column.name}` from the feature list" if where == "list" else
               f"drop `{column.name}` from `columns`, or use a point-in-time aggregate of "
               "earlier events")
        yield _report(column.name, column.span, fix)


def _report(column: str, span: n.Span, fix: str) -> Diagnostic:
    return error("LEAK008", f"`{column}` is marked `after_event`: it is only known after the "
                 "prediction time, so it cannot be an input", span, fix)
