"""LEAK005: a pipeline that `predicts new_entities` split by anything but entity or group."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Reports a pipeline that declares `predicts new_entities` (the model will score
customers, patients or devices it has never seen) while its split is not
`split by entity` or `split by group`.

## Why is this bad?
With a row or time split, the same entity appears in training and test. The model
memorises entities, and the test score measures recognition, not generalisation to
new ones.

## Example
```pipe
pipeline p {
  predicts new_entities
  source visits {
    from csv "visits.csv"
    entity patient
    schema { patient: string, age: int }
  }
  split by random {
    test 20%
    seed 7
  }
}
```

## Use instead
```pipe
pipeline p {
  predicts new_entities
  source visits {
    from csv "visits.csv"
    entity patient
    schema { patient: string, age: int }
  }
  split by entity on patient {
    test 20%
    seed 7
  }
}
```
'''


@rule("LEAK005", "error", "predicts new_entities without an entity or group split", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    split = program.split
    if split is None or program.pipeline_word("predicts") != "new_entities":
        return
    if split.by in ("entity", "group"):
        return
    entity = program.source_word(program.base_source, "entity") if program.base_source \
        else None
    yield error("LEAK005", f"the pipeline `predicts new_entities` but splits by {split.by}: "
                "the same entities would be in training and test", split.header,
                f"use `split by entity on {entity or 'ENTITY'} {{ test 20%; seed N }}` or "
                "`split by group on COLUMN`")
