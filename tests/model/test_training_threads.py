"""`resources { cpu: N }` reaches a fit: native thread pools and joblib's default n_jobs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from pipec.stdlib.runtime.modeling import fit
from sklearn.base import BaseEstimator, ClassifierMixin


class RecordsJobs(ClassifierMixin, BaseEstimator):
    """Remembers the n_jobs joblib would give an estimator left at `n_jobs=None`."""

    def fit(self, x: object, y: np.ndarray) -> RecordsJobs:
        from joblib.parallel import get_active_backend

        self.jobs_ = get_active_backend()[1]
        self.classes_ = np.unique(y)
        return self

    def predict(self, x: object) -> np.ndarray:
        return np.zeros(len(x), dtype=int)


def _fit(resources: dict[str, object]) -> RecordsJobs:
    spec = {"model": f"{__name__}.RecordsJobs", "features": ["a"], "label": "y",
            "task": "binary", "params": {}, "seed": 1, "resources": resources}
    table = pa.table({"a": np.arange(6, dtype=float), "y": [0, 1] * 3})
    return fit(spec, table, (__name__,)).named_steps["model"]


def test_cpu_is_the_default_n_jobs_of_the_fit() -> None:
    assert _fit({"cpu": 2}).jobs_ == 2
    assert _fit({}).jobs_ == 1  # fixed, not "all cores": the same model everywhere


def test_the_stored_parameters_do_not_change() -> None:
    from sklearn.ensemble import RandomForestClassifier

    spec = {"model": "sklearn.ensemble.RandomForestClassifier", "features": ["a"],
            "label": "y", "task": "binary", "params": {"n_estimators": 4}, "seed": 1,
            "resources": {"cpu": 2}}
    table = pa.table({"a": np.arange(8, dtype=float), "y": [0, 1] * 4})
    forest = fit(spec, table, ("sklearn",)).named_steps["model"]
    assert isinstance(forest, RandomForestClassifier) and forest.n_jobs is None
