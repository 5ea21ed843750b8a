"""FEAT001: a windowed feature no longer than its source's `lag`, which is always empty."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.literals import format_duration
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._support import ident_value, reads_source

DOC = '''
## What it does
Reports a `feature X = AGG(COL) over W` whose window `W` is no longer than the `lag` of
the source its feature view reads (the view's `from`, else the base source).

## Why is this bad?
A row becomes visible `lag` after its event time: the feature at time `t` aggregates the
rows with `time` in `[t - W, t)` and `time + lag < t`, that is in `[t - W, t - lag)`.
When `W <= lag` that range is empty for every example: a count is always 0 and a sum,
mean, min or max always missing. The model gets a constant column, and the feature the
author meant (the last `W` of data) is silently absent from training and serving.

## Example
```pipe
pipeline p {
  source weather {
    from csv "weather.csv"
    entity origin
    time at
    lag 1h
    schema { origin: string, at: timestamp, precip: float }
  }
  features weather version 1 {
    from weather
    entity origin
    time at
    point_in_time
    feature precip_1h = sum(precip) over 1h
  }
}
```

## Use instead
```pipe
pipeline p {
  source weather {
    from csv "weather.csv"
    entity origin
    time at
    lag 1h
    schema { origin: string, at: timestamp, precip: float }
  }
  features weather version 1 {
    from weather
    entity origin
    time at
    point_in_time
    feature precip_1h = sum(precip) over 2h
  }
}
```
'''


@rule("FEAT001", "error", "a feature window no longer than its source's lag (always empty)",
      DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for view in program.blocks("features"):
        source = reads_source(view) or program.base_source
        if source is None or program.block("source", source) is None:
            continue
        lag = program.source_seconds(source, "lag")
        if lag <= 0 or not _timed(program, view, source):
            continue
        for feature in view.all(n.FeatureDef):
            if feature.window.seconds <= lag:
                yield _always_empty(view, feature, source, lag)


def _timed(program: Program, view: n.Block, source: str) -> bool:
    """True when the view's rows have a time. Without one, no window can be placed at
    all (P001 says so), and the lag is beside the point."""
    return ident_value(view, "time") is not None \
        or program.source_word(source, "time") is not None


def _always_empty(view: n.Block, feature: n.FeatureDef, source: str,
                  lag: float) -> Diagnostic:
    window = feature.window.seconds
    empty = "0" if feature.agg.name in ("count", "distinct") else "missing (NULL)"
    # Widening by the lag keeps the span of data the author asked for: `[t - W - lag,
    # t - lag)` holds the last W of visible rows.
    return error(
        "FEAT001",
        f"feature `{view.name.name}.{feature.name.name}` aggregates over "
        f"{format_duration(window)}, but source `{source}` has `lag {format_duration(lag)}`: "
        f"a row is seen only once `time + lag < t`, so the window `[t - "
        f"{format_duration(window)}, t)` never holds one, and the feature is always {empty}",
        feature.window.span,
        f"use `over {format_duration(window + lag)}` to aggregate the last "
        f"{format_duration(window)} of rows that are visible, or drop the feature")
