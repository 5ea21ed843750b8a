"""A small, real project for model-runtime tests: a pipeline over synthetic events
whose label depends on the features, so that a model can be blessed or not on purpose."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

IMAGE = "example.com/churn@sha256:" + "ab" * 32

PROGRAM = """\
team ml { contact "#ml"; role ml }
team product { contact "#product"; role product }
team risk { contact "#risk"; role risk }
team platform { contact "#platform"; role platform }
team serving { contact "#serving"; role serving }
team data { contact "#data"; role data }

pipeline spend {
  owner ml
  risk low
  predicts future
  image "IMAGE"
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
    range amount >= 0
    unique user, at
  }

  label big_spender {
    owner product
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
    params { C: 1.0, max_iter: 300 }
    seed 1
  }

  evaluate model {
    primary roc_auc >= MIN_AUC
    calibration ece <= 0.2
    slice country min 50: roc_auc >= 0.5
    latency p99 <= 500ms
    size <= 10MB
    compare champion roc_auc >= -0.05
    features compatible
    guardrail recall >= 0.01 warn
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
"""


def program(min_auc: float = 0.6, approval: bool = False, c: float = 1.0) -> str:
    text = PROGRAM.replace("IMAGE", IMAGE).replace("MIN_AUC", str(min_auc))
    text = text.replace("params { C: 1.0,", f"params {{ C: {c},")
    if approval:
        text = text.replace("    features compatible\n", "    features compatible\n"
                            "    approval by risk\n")
    return text


def events(rows: int = 3000, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    users = rng.integers(0, 200, rows)
    offsets = np.sort(rng.integers(0, 89 * 86400, rows))
    amount = rng.exponential(60, rows)
    country = rng.choice(["FR", "DE", "US"], rows)
    spend_next = amount * 1.4 + rng.normal(0, 40, rows) + (country == "US") * 25
    times = [start + dt.timedelta(seconds=int(s)) for s in offsets]
    return pa.table({"user": [f"u{u:03d}" for u in users], "at": times,
                     "amount": amount.round(2), "country": country,
                     "spend_next": spend_next.round(2)})


def write_project(folder: Path, **kwargs: object) -> Path:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    table = events()
    # A unique (user, at) key, as the validate stage requires.
    pq.write_table(table, folder / "data" / "events.parquet")
    path = folder / "spend.pipe"
    path.write_text(program(**kwargs), "utf-8")  # type: ignore[arg-type]
    return path


def add_second_model(path: Path, params: str = "C: 0.5, max_iter: 300") -> None:
    """A second model (`train other`, `evaluate other`) in a branch of its own: it
    shares the split with the first model, and nothing of the first model's behind it."""
    text = path.read_text("utf-8")
    branch = ('  train other {\n    model "sklearn.linear_model.LogisticRegression"\n'
              f"    params {{ {params} }}\n    seed 2\n  }}\n\n"
              "  evaluate other {\n    primary roc_auc >= 0.5\n  }\n\n")
    path.write_text(text.replace("  register model {", branch + "  register model {"), "utf-8")


def negative_amount(folder: Path) -> None:
    """One row breaks the blocking `range amount >= 0`: the validate stage blocks."""
    table = events()
    amount = table.column("amount").to_pylist()
    amount[0] = -1.0
    table = table.set_column(table.schema.get_field_index("amount"), "amount",
                             pa.array(amount))
    pq.write_table(table, folder / "data" / "events.parquet")


def latest_record(project: Path, run_id: str) -> dict | None:
    """Run `run_id`'s latest record in the run store of `project`, or None."""
    from pipec.stdlib.runtime.records import RunRecords

    records = RunRecords(project)
    try:
        return records.get(run_id)
    finally:
        records.close()


def reset(folder: Path) -> None:
    for name in (".pipec", "registry"):
        shutil.rmtree(folder / name, ignore_errors=True)


# A model whose fit marks that it began (the file `fitting`) and then sleeps: what a test
# that stops a stage mid-fit (SIGTERM, Ctrl-C) waits for before it sends the signal.
SLOW_MODEL = """
import time
from pathlib import Path

from sklearn.linear_model import LogisticRegression


class SlowLogistic(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        Path("fitting").touch()
        time.sleep(600)
        return super().fit(X, y, sample_weight)
"""


def write_slow_project(folder: Path) -> Path:
    """`write_project` whose train stage fits SLOW_MODEL (run from `folder`)."""
    path = write_project(folder)
    path.write_text(path.read_text("utf-8").replace(
        "sklearn.linear_model.LogisticRegression", "slow_model.SlowLogistic"), "utf-8")
    (folder / "slow_model.py").write_text(SLOW_MODEL, "utf-8")
    (folder / "pyproject.toml").write_text(
        '[tool.pipec]\nallowed_model_modules = ["sklearn", "slow_model"]\n', "utf-8")
    return path


def signal_once_fitting(folder: Path, proc: subprocess.Popen, signum: int) -> tuple[str, str]:
    """Send `signum` to `proc` once SLOW_MODEL's fit has begun; its (stdout, stderr)."""
    try:
        deadline = time.monotonic() + 120
        while not (folder / "fitting").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the fit never started"
            time.sleep(0.1)
        proc.send_signal(signum)
        return proc.communicate(timeout=120)
    finally:
        proc.kill()


def pipec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m pipec ARGS` in `cwd`, its output captured as text."""
    return subprocess.run([sys.executable, "-m", "pipec", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600)
