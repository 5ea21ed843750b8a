"""LEAK009: a train stage whose inputs default to a base source that declares no schema."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Reports a train stage with no `features [...]` list when the base source declares no
`schema`. Without a list, a model's inputs are every base column except the entity,
time, label, `pii` and `after_event` ones, plus every feature view's features
(language.md); with no schema, pipec cannot know the base columns, so the train stage
reads the feature views' features alone (none at all when there are no views).

## Why is this bad?
The model silently lacks the base columns its team expects it to read. And the columns
it could read were never declared, so none is marked `after_event` or `pii`: the
leakage and personal-data rules (LEAK008, PII001) cannot look at them.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
  }
  label late {
    column late
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string, amount: float, late: bool }
  }
  label late {
    column late
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
}
```
'''


@rule("LEAK009", "warning", "a train stage whose inputs default to a base source with no "
      "schema", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    base = program.base_source
    source = program.block("source", base) if base else None
    if source is None or source.first(n.Schema) is not None:
        return
    views = [view.name.name for view in program.blocks("features")]
    for train in program.blocks("train"):
        if train.first(n.TrainFeatures) is None:
            yield _report(train, base or "", views)


def _report(train: n.Block, base: str, views: list[str]) -> Diagnostic:
    reads = (f"only the features of {', '.join(f'`{v}`' for v in views)}" if views
             else "no input at all")
    return warning(
        "LEAK009", f"train `{train.name.name}` lists no `features` and base source `{base}` "
        f"declares no `schema`: it reads {reads}, and no column of `{base}` can be checked "
        "for leakage", train.header,
        f"declare `{base}`'s `schema` (marking `after_event` and `pii` columns), or list "
        f"the inputs with `features [...]`")
