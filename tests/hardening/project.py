"""A small runnable project for the crash, concurrency and tampering tests: one source of
synthetic events, a `when` label, one feature view, a time split, a logistic regression
with a `compare champion` gate, a local registry. A full `pipec run` takes seconds."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

PROGRAM = """\
team ml { contact "#ml"; role ml }
team data { contact "#data"; role data }
team platform { contact "#platform"; role platform }
team serving { contact "#serving"; role serving }

pipeline spend {
  owner ml
  risk low
  predicts future
  image "example.com/spend@sha256:ABCD"
  code_commit "0123456789abcdef"
  on_failure block
  retrain manual

  source events {
    owner data
    from parquet "data/events.parquet"
    snapshot 2026-03-31
    entity user
    time at
    freshness 1d
    schema {
      user: string
      at: timestamp
      amount: float >= 0
      country: category
      spend_next: float after_event
    }
  }

  validate events {
    owner data
    require user, at, amount
    unique user, at
  }

  label big_spender {
    when spend_next > 100
    known_after 1d
  }

  features history version 1 {
    from events
    entity user
    time at
    point_in_time
    feature visits_7d = count() over 7d
    feature amount_mean_7d = mean(amount) over 7d
  }

  split by time on at {
    train before 2026-03-01
    gap 2d
    test from 2026-03-03
  }

  train model {
    model "sklearn.linear_model.LogisticRegression"
    params { C: C_VALUE, max_iter: 200 }
    seed 1
  }

  evaluate model {
    primary roc_auc >= 0.6
    compare champion roc_auc >= -0.5
    latency p99 <= 500ms
    size <= 10MB
    calibration ece <= 0.5
    slice country min 50: roc_auc >= 0.5
    features compatible
  }

  register model {
    owner platform
    registry local "registry/"
    rollback previous
  }

  deploy model {
    owner serving
    canary 5% for 1h
  }
}
""".replace("ABCD", "ab" * 32)


def program(c: float = 1.0) -> str:
    return PROGRAM.replace("C_VALUE", repr(c))


def events(rows: int = 1500, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    users = rng.integers(0, 100, rows)
    offsets = np.sort(rng.choice(89 * 86400, rows, replace=False))
    amount = rng.exponential(60, rows)
    country = rng.choice(["FR", "DE", "US"], rows)
    spend_next = amount * 1.4 + rng.normal(0, 40, rows)
    return pa.table({"user": [f"u{u:03d}" for u in users],
                     "at": [start + dt.timedelta(seconds=int(s)) for s in offsets],
                     "amount": amount.round(2), "country": country,
                     "spend_next": spend_next.round(2)})


def write_project(folder: Path, c: float = 1.0) -> Path:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pq.write_table(events(), folder / "data" / "events.parquet")
    path = folder / "spend.pipe"
    path.write_text(program(c), "utf-8")
    return path


def pipec_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipec", *args]


def pipec(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(pipec_command(*args), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=os.environ | {"PYTHONHASHSEED": "0"})


# ------------------------------------------------------------------ consistency checks
def store_problems(project: Path) -> list[str]:
    """Objects whose bytes do not hash to their name, or stray files in `objects/`."""
    problems = []
    objects = project / ".pipec" / "objects"
    for path in sorted(objects.rglob("*")) if objects.is_dir() else []:
        if path.is_dir():
            if path.parent != objects or len(path.name) != 2:
                problems.append(f"unexpected folder {path.relative_to(objects)}")
            continue
        name = path.parent.name + path.name
        if path.parent.parent != objects or len(name) != 64:
            problems.append(f"stray file {path.relative_to(objects)}")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != name:
            problems.append(f"object {name[:12]} does not hash to its name")
    return problems


def sqlite_ok(path: Path) -> bool:
    con = sqlite3.connect(path, timeout=60)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def registry_problems(project: Path) -> list[str]:
    """`Registry.integrity()` plus: every version's run is recorded (or not succeeded),
    and the transitions table replays to the current states."""
    from pipec.stdlib.runtime.records import RunRecords
    from pipec.stdlib.runtime.registry import Registry

    folder = project / "registry"
    if not (folder / "registry.sqlite").is_file():
        return []
    problems = [] if sqlite_ok(folder / "registry.sqlite") else ["registry.sqlite is corrupt"]
    registry = Registry(folder)
    records = RunRecords(project)
    try:
        problems += registry.integrity()
        versions = registry.versions()
        runs = {r["run_id"]: r["status"] for r in records.list(limit=10_000)}
        index = sqlite3.connect(project / ".pipec" / "index.sqlite", timeout=60)
        try:
            statuses = dict(index.execute("SELECT run_id, status FROM runs"))
        finally:
            index.close()
        for v in versions:
            if v.run_id not in runs and statuses.get(v.run_id) == "succeeded":
                problems.append(f"{v.model} v{v.version}: run {v.run_id} succeeded "
                                "but has no record")
        problems += replay_problems(registry)
    finally:
        records.close()
        registry.close()
    return problems


def replay_problems(registry: object) -> list[str]:
    """The transitions, replayed in order, give every version's current state, and each
    transition starts from the state the version was in."""
    state: dict[tuple[str, int], str | None] = {}
    problems = []
    for t in registry.transitions():  # type: ignore[attr-defined]
        key = (t["model"], t["version"])
        if state.get(key) != t["from_state"]:
            problems.append(f"transition {t['seq']}: {key} was {state.get(key)}, "
                            f"not {t['from_state']}")
        state[key] = t["to_state"]
    for v in registry.versions():  # type: ignore[attr-defined]
        if state.get((v.model, v.version)) != v.state:
            problems.append(f"{v.model} v{v.version} is {v.state}, its transitions say "
                            f"{state.get((v.model, v.version))}")
    return problems


def production_count(project: Path, model: str = "model") -> int:
    con = sqlite3.connect(project / "registry" / "registry.sqlite", timeout=60)
    try:
        return con.execute("SELECT count(*) FROM versions WHERE model=? AND "
                           "state='production'", (model,)).fetchone()[0]
    finally:
        con.close()
