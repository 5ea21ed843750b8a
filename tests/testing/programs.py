"""Small programs, one per split kind, for the split-property tests."""

from __future__ import annotations

from pipec.check import compile
from pipec.testing.spec import SplitSpec, split_spec

SCHEMA = ("schema { user: string, at: timestamp, country: category, n: int >= 0, "
          "x: float in 0..10, ok: bool, d: date, churn: bool }")

TEMPLATE = """team ml {{ contact "#ml"; role ml }}
pipeline p {{
  owner ml
  on_failure block
  predicts {predicts}
  source events {{
    from csv "events.csv"
    snapshot {snapshot}
    entity user
    time at
    {schema}
  }}
  validate events {{ require user, at; unique user, at }}
  label churned {{ column churn; known_after 3d }}
  {split}
}}
"""

SPLITS = {
    "random": "split by random { test 20%; valid 10%; seed 3 }",
    "entity": "split by entity { test 0.25; seed 9 }",
    "group": "split by group on country { test 30%; valid 0.1; seed 4 }",
    "market": "split by market on country { holdout [FR, DE]; valid 0.1 }",
    "time": "split by time { train before snapshot - 30d; gap 3d }",
    "time_until": ("split by time on d { train before 2025-06-01; gap 3d; "
                   "test from 2025-07-01 until 2025-09-01; valid 0.2; seed 1 }"
                   # The split on a date column is what this case tests.
                   " # pipec: ignore[LEAK011] splits on a date column"),
}


def program_text(split: str, *, snapshot: str = "latest", predicts: str = "new_entities",
                 schema: str = SCHEMA, suppress: str = "") -> str:
    return TEMPLATE.format(split=split + suppress, snapshot=snapshot, predicts=predicts,
                           schema=schema)


def spec_for(name_or_split: str, **kwargs: str) -> SplitSpec:
    split = SPLITS.get(name_or_split, name_or_split)
    kwargs.setdefault("predicts", "new_entities" if "entity" in split or "group" in split
                      else "iid" if "random" in split else "future")
    program = compile(program_text(split, **kwargs))
    assert program.ok, [d.message for d in program.diagnostics]
    spec = split_spec(program)
    assert spec is not None
    return spec
