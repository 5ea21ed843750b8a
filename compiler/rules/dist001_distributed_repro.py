"""DIST001: distributed training without a pinned image or without a seed."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program
from pipec.rules import rule
from pipec.rules.repro002_image_digest import pinned

DOC = '''
## What it does
Warns about a train stage with `distributed { ... }` when the pipeline's image is not
pinned by an `@sha256:` digest, or the stage has no `seed`.

## Why is this bad?
Distributed training is nondeterministic enough already (worker order, reductions).
With a floating image the workers may even run different library versions, and
without a seed no two runs can be compared.

## Example
```pipe
pipeline p {
  image "registry.example.com/train:latest"
  train m {
    model "sklearn.linear_model.SGDClassifier"
    distributed { workers: 4 }
  }
}
```

## Use instead
```pipe
pipeline p {
  image "r.example.com/t@sha256:4b1c0f9e2d7a8c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d"
  train m {
    model "sklearn.linear_model.SGDClassifier"
    seed 42
    distributed { workers: 4 }
  }
}
```
'''


@rule("DIST001", "warning", "distributed training without a pinned image or a seed", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for train in program.blocks("train"):
        distributed = train.setting("distributed")
        if distributed is None:
            continue
        missing = []
        if not pinned(program):
            missing.append(("an image pinned by digest",
                            "`image \"REGISTRY/NAME@sha256:<64 hex digits>\"` on the pipeline"))
        if train.setting("seed") is None:
            missing.append(("a seed", "`seed N` on the train stage"))
        if not missing:
            continue
        yield warning("DIST001", f"`{train.id}` trains distributed without "
                      + " and without ".join(m for m, _ in missing)
                      + ": runs could not be reproduced or compared", distributed.span,
                      "add " + " and ".join(f for _, f in missing))
