"""VAL001: a path from a source to a train stage with no blocking validate stage."""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import blocking_validates, validate_policy_span

DOC = '''
## What it does
Follows the stage DAG from every source to every train stage and reports a source
that reaches training along a path with no validate stage whose effective policy
(its own `on_failure`, else the pipeline's) is `block`. It reasons on the graph, not on
the order of statements in the file.

## Why is this bad?
Bad data that is only warned about still trains the model: a schema change upstream
yields a model trained on nulls, registered and maybe deployed before anyone reads the
warning.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string, late: bool }
  }
  validate events {
    on_failure warn
    require id
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
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string, late: bool }
  }
  validate events {
    on_failure block
    require id
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
  }
}
```
'''


@rule("VAL001", "error", "a source reaches training without a blocking validate stage", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    trains = [s.id for s in program.stages.values() if s.kind == "train"]
    if not trains:
        return
    unguarded = program.graph.copy()
    unguarded.remove_nodes_from(blocking_validates(program))
    for source in program.blocks("source"):
        if source.id not in unguarded:
            continue
        reached = sorted(t for t in trains if nx.has_path(unguarded, source.id, t))
        if not reached:
            continue
        validate = program.block("validate", source.name.name)
        target = ", ".join(f"`{t}`" for t in reached)
        if validate is None:
            yield error("VAL001", f"source `{source.name.name}` reaches {target} with no "
                        "validate stage: bad data would train the model", source.header,
                        f"add `validate {source.name.name} {{ require ...; on_failure block }}`")
        else:
            policy = program.failure_policy(validate)
            stated = f"whose policy is {policy}, not block" if policy else \
                "which has no `on_failure`, and neither has the pipeline"
            yield error("VAL001", f"source `{source.name.name}` reaches {target} through "
                        f"`{validate.id}`, {stated}: bad data would still train the model",
                        validate_policy_span(program, validate),
                        "set `on_failure block` on the validate stage")
