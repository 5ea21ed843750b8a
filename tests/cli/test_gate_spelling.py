"""A gate line is quoted back as its author wrote it (`latency p99 <= 50ms`, `size <=
20MB`), and what was measured in units a reader takes in (`12.2ms`, `1.23MB`), in the
run's report, the lineage answers and the docs alike."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from pipec.literals import duration_seconds, size_bytes
from pipec.spelling import gate_line, measured, size


def test_latency_and_size_lines_keep_the_units_they_were_written_in() -> None:
    assert gate_line({"kind": "latency", "metric": "p99", "op": "<=", "value": 0.05}) \
        == "latency p99 <= 50ms"
    assert gate_line({"kind": "size", "op": "<=", "value": 20_000_000}) == "size <= 20MB"
    assert gate_line({"kind": "size", "op": "<=", "value": 1 << 30}) == "size <= 1GiB"


def test_measured_latency_and_size_have_three_significant_digits_and_a_unit() -> None:
    assert measured("latency", 0.012245) == "12.2ms"
    assert measured("latency", 0.0000453) == "45.3µs"
    assert measured("latency", 2.5) == "2.5s"
    assert measured("size", 1_225_418) == "1.23MB"
    assert measured("size", 512) == "512B"
    assert measured("size", 3_400_000_000) == "3.4GB"


def test_other_values_are_shown_as_they_are() -> None:
    assert measured("primary", 0.703993) == "0.703993"
    assert measured("features_compatible", True) == "True"
    assert measured("latency", None) == "None"  # not measured: said, not formatted


@given(st.integers(min_value=1, max_value=10**13))
def test_a_size_is_spelt_so_that_it_reads_back_as_the_same_bytes(count: int) -> None:
    assert size_bytes(size(count)) == count


@given(st.integers(min_value=1, max_value=10**9))
def test_a_latency_bound_is_spelt_so_that_it_reads_back_as_the_same_time(millis: int) -> None:
    line = gate_line({"kind": "latency", "metric": "p99", "op": "<=", "value": millis / 1000})
    assert duration_seconds(line.rsplit(" ", 1)[1]) == round(millis / 1000, 3)


def test_the_evaluate_stage_records_each_line_as_written() -> None:
    """The run record's gate lines said `latency p99 <= 0.05s` and `size <= 20000000
    bytes` where the file says `50ms` and `20MB`."""
    from pipec.stdlib.runtime.evaluation import judge

    report = {"size_bytes": 1_225_418, "latency_s": {"p99": 0.012}}
    latency = {"kind": "latency", "metric": "p99", "op": "<=", "value": 0.05, "blocking": True}
    size = {"kind": "size", "metric": None, "op": "<=", "value": 20_000_000, "blocking": True}
    assert judge(latency, report)["line"] == "latency p99 <= 50ms"
    assert judge(size, report)["line"] == "size <= 20MB"


def test_a_slice_without_a_value_says_what_it_lacks() -> None:
    """The note said `US=None`: a reader could not tell a broken model from a slice of
    one class."""
    from pipec.stdlib.runtime.evaluation import judge

    gate = {"kind": "slice", "column": "country", "metric": "roc_auc", "op": ">=",
            "value": 0.7, "min": 10, "blocking": True}
    per_value = {"US": {"rows": 50, "roc_auc": {"value": None}},
                 "FR": {"rows": 50, "roc_auc": {"value": 0.9}}}
    report = {"task": "binary", "threshold": 0.5,
              "slices": {"country": {"roc_auc": per_value}}}
    verdict = judge(gate, report)
    assert not verdict["passed"]
    assert verdict["note"].startswith(
        "failing: US: no value (the slice holds examples of one class only); ")
