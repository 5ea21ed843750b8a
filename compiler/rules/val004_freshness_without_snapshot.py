"""VAL004: a freshness check on a source with no snapshot: nothing to measure against."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import at_use, lines_by_use

DOC = '''
## What it does
Reports a `freshness COL within D` check (in a validate stage, or a check set it uses)
on a source that declares no `snapshot`. Freshness is measured from the snapshot: the
newest value of COL must be within D of it (language.md). With no snapshot there is
nothing to measure from, so the check fails on every run.

## Why is this bad?
A check that fails whatever the data holds either blocks every run (`on_failure
block`) or teaches the team to ignore its warning. Either way it says nothing about how
fresh the data is.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    time at
    schema { id: string, at: timestamp }
  }
  validate events {
    require id
    freshness at within 2d
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    snapshot 2026-06-01
    time at
    schema { id: string, at: timestamp }
  }
  validate events {
    require id
    freshness at within 2d
  }
}
```
'''


@rule("VAL004", "error", "a freshness check on a source with no snapshot", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for validate in program.blocks("validate"):
        source = program.block("source", validate.name.name)
        if source is None or source.setting("snapshot") is not None:
            continue
        for line, use in lines_by_use(program.check_sets, validate, n.FreshnessCheck):
            assert isinstance(line, n.FreshnessCheck)
            yield from at_use([error(
                "VAL004", f"`freshness {line.column.name}` on `{validate.id}` can never pass: "
                f"source `{source.name.name}` has no `snapshot` to measure the newest value "
                "from", line.span,
                f"give source `{source.name.name}` a `snapshot` (a date, or `latest`)")], use)
