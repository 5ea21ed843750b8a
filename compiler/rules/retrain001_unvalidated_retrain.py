"""RETRAIN001: automatic retraining without a blocking validate stage on every source."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import blocking_validates

DOC = '''
## What it does
When the pipeline retrains without a person starting it (`retrain triggered ...` or
`retrain continuous`), requires each source to be guarded in the stage DAG by a
validate stage whose effective policy is `block`.

## Why is this bad?
An automatic retrain fires precisely when data changes. If the new data is broken,
nothing stops a model trained on it from being registered and rolled out.

## Example
```pipe
pipeline p {
  retrain triggered on new_snapshot
  source events {
    from csv "events.csv"
    snapshot latest
    schema { id: string }
  }
}
```

## Use instead
```pipe
pipeline p {
  retrain triggered on new_snapshot
  source events {
    from csv "events.csv"
    snapshot latest
    schema { id: string }
  }
  validate events {
    on_failure block
    require id
  }
}
```
'''

AUTOMATIC = {"new_snapshot": "triggered", "drift": "triggered", "continuous": "continuous"}


@rule("RETRAIN001", "error", "automatic retraining without blocking validation of every source",
      DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    retrain = program.retrain()
    if retrain is None or retrain.mode not in AUTOMATIC:
        return
    guards = blocking_validates(program)
    unguarded = [s.name.name for s in program.blocks("source")
                 if not guards.intersection(program.downstream(s.id))]
    if not unguarded:
        return
    names = ", ".join(f"`{s}`" for s in unguarded)
    plural = "s" if len(unguarded) > 1 else ""
    yield error("RETRAIN001", f"`retrain {AUTOMATIC[retrain.mode]}` retrains without a person, "
                f"but source{plural} {names} ha{'ve' if plural else 's'} no blocking validate "
                "stage", retrain.span, _fix(program, unguarded))


def _fix(program: Program, unguarded: list[str]) -> str:
    """Add the validate stages that are missing; make the existing ones block."""
    missing = [s for s in unguarded if program.block("validate", s) is None]
    weak = [f"`validate.{s}`" for s in unguarded if s not in missing]
    fixes = []
    if missing:
        fixes.append(f"add `validate {missing[0]} {{ ...; on_failure block }}`"
                     + (" for each of " + ", ".join(f"`{s}`" for s in missing)
                        if len(missing) > 1 else ""))
    if weak:
        fixes.append(f"set `on_failure block` on {', '.join(weak)}")
    return " and ".join(fixes) + ", or retrain `scheduled`/`manual`"
