"""The `latency` gate measures the model, not the machine: single-row predictions are
timed, and the slowest 5% of rows are timed twice more, keeping their least time. The
p99 of 300 rows is their third slowest, so three stalls of the machine (another process
on the core, the garbage collector) failed a gate the model meets: the flights example's
`latency p99 <= 50ms` failed so with four test processes on two cores."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from pipec.stdlib.runtime.evaluation import measure_latency

STALL_S = 0.2


class Stalling:
    """Fast on every row, but its calls number 50, 100, 150 and 200 stall."""

    def __init__(self) -> None:
        self.calls = 0

    def predict_proba(self, rows: pd.DataFrame) -> np.ndarray:
        self.calls += 1
        if self.calls % 50 == 0 and self.calls <= 200:
            time.sleep(STALL_S)
        return np.zeros((len(rows), 2))

    predict = predict_proba


class SlowOnSomeRows:
    """Slow to predict the rows with `x` below 10 (about 3% of them), every time."""

    def predict_proba(self, rows: pd.DataFrame) -> np.ndarray:
        if (rows["x"] < 10).any():
            time.sleep(STALL_S / 4)
        return np.zeros((len(rows), 2))

    predict = predict_proba


DATA = pd.DataFrame({"x": np.arange(1000) % 300})


def test_stalls_of_the_machine_do_not_make_the_tail() -> None:
    latency = measure_latency(Stalling(), DATA)
    assert latency["p99"] < STALL_S / 4, latency


def test_rows_slow_to_predict_still_make_the_tail() -> None:
    latency = measure_latency(SlowOnSomeRows(), DATA)
    assert latency["p99"] >= STALL_S / 4, latency
    assert latency["p50"] < STALL_S / 4, latency
