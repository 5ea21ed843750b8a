"""LEAK003: a feature view on time-stamped data without `point_in_time`."""

from __future__ import annotations

from collections.abc import Iterator

from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import ident_value, label_sources, reads_source

DOC = '''
## What it does
Reports a feature view whose rows carry a time (the view declares `time`, or its
source does) but that does not say `point_in_time`. A view that reads a label's
source is reported by LEAK004 instead.

## Why is this bad?
Without an as-of join, an example at time `t` is joined with feature values computed
from rows after `t`: a 30-day mean includes next week's transactions. The model sees
the future in training and never in production.

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    entity user
    time at
    schema { user: string, at: timestamp, amount: float }
  }
  features activity version 1 {
    from events
    entity user
    feature spend_7d = sum(amount) over 7d
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    entity user
    time at
    schema { user: string, at: timestamp, amount: float }
  }
  features activity version 1 {
    from events
    entity user
    point_in_time
    feature spend_7d = sum(amount) over 7d
  }
}
```
'''


@rule("LEAK003", "error", "a feature view on time-stamped data without point_in_time", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    labelled = label_sources(program)
    for view in program.blocks("features"):
        if view.flag("point_in_time") is not None:
            continue
        source = reads_source(view) or program.base_source
        if source in labelled:
            continue  # LEAK004 names the worse problem
        time_col = ident_value(view, "time")
        source_time = program.source_word(source, "time") if source else None
        column = time_col.name if time_col else source_time
        if column is None:
            continue
        yield error("LEAK003", f"feature view `{view.name.name}` reads time-stamped rows "
                    f"(`{column}`) without `point_in_time`: examples would be joined with "
                    "feature values computed from later rows", view.header,
                    "add `point_in_time` to the view")
