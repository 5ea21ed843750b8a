"""Property-based tests of split rules (`pipec test`, and the pytest plugin).

    from pipec.testing import assert_split_properties

    def test_splits():
        assert_split_properties("model.pipe")

The names below load lazily: the pytest plugin imports this package in every project
where pipec is installed, so importing it must stay cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "assert_split_properties": "api", "load_split": "api",
    "SplitSpec": "spec", "SpecError": "spec", "split_spec": "spec",
    "spec_from_manifest": "spec",
    "SplitPropertyFailure": "properties", "Options": "properties",
    "properties_for": "properties", "check_split": "properties",
    "check_time_split": "properties", "check_entity_split": "properties",
    "check_group_split": "properties", "check_random_split": "properties",
    "check_market_split": "properties",
    "partition": "properties", "order_independent": "properties", "stable": "properties",
    "time_bounds_hold": "properties", "labels_mature": "properties",
    "keys_one_side": "properties", "holdout_is_test": "properties", "shares": "properties",
    "tested_after_trained": "properties", "entities_unseen": "properties",
    "reproducible_across_processes": "crossproc",
    "split_cases": "strategies", "tables": "strategies", "values": "strategies",
    "bulk_table": "strategies", "SplitCase": "strategies", "ROW": "strategies",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pipec.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(f"pipec.testing.{module}"), name)
