"""REPRO003: a train stage, or a random/entity/group split, without a `seed`."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Requires `seed N` on every train stage and on a `random`, `entity` or `group` split
(whose assignment is a hash of the key and the seed).

## Why is this bad?
Without a seed, two runs on the same data train different models and put different
rows in the test set; a score change cannot be told apart from noise, and a
registered model cannot be rebuilt.

## Example
```pipe
pipeline p {
  train m {
    model "sklearn.ensemble.RandomForestClassifier"
  }
}
```

## Use instead
```pipe
pipeline p {
  train m {
    model "sklearn.ensemble.RandomForestClassifier"
    seed 42
  }
}
```
'''

SEEDED_SPLITS = ("random", "entity", "group")


@rule("REPRO003", "error", "a train stage or hashed split without a seed", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for train in program.blocks("train"):
        if train.setting("seed") is None:
            yield error("REPRO003", f"`{train.id}` has no seed: two runs would train "
                        "different models", train.header, "add `seed N` to the train stage")
    split = program.split
    if split is not None and split.by in SEEDED_SPLITS and split.setting("seed") is None:
        yield error("REPRO003", f"the {split.by} split has no seed: the test set would "
                    "change between runs", split.header, "add `seed N` to the split")
