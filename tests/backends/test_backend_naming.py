"""The documented name mappings are injective and legal for their targets."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from pipec.backends.naming import (
    STAGE_KINDS,
    dns_label,
    label_value,
    stage_id_of_task,
    task_id,
)

NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,70}", fullmatch=True)
STAGE_IDS = st.one_of(st.sampled_from(["join", "split"]), st.builds(
    lambda k, n: f"{k}.{n}", st.sampled_from([k for k in STAGE_KINDS
                                              if k not in ("join", "split")]), NAMES))
DNS = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
AIRFLOW = re.compile(r"[A-Za-z0-9_.-]+")


@given(st.lists(STAGE_IDS, unique=True, max_size=30))
def test_task_ids_are_injective_and_invertible(ids):
    mapped = [task_id(i) for i in ids]
    assert len(set(mapped)) == len(ids)
    assert [stage_id_of_task(t) for t in mapped] == ids
    assert all(AIRFLOW.fullmatch(t) for t in mapped)


@given(st.lists(st.one_of(STAGE_IDS, NAMES), unique=True, max_size=30))
def test_dns_labels_are_injective_and_legal(ids):
    mapped = [dns_label(i) for i in ids]
    assert len(set(mapped)) == len(ids)
    assert all(DNS.fullmatch(m) for m in mapped), mapped


def test_the_ambiguous_pairs_differ():
    assert dns_label("train.x") != dns_label("train_x")
    assert dns_label("train.a_b") == "train-a-b"
    assert dns_label("fraud_detection") == "fraud-detection"
    assert len(dns_label("train." + "x" * 100)) == 63
    assert len(dns_label("p" * 80, 52)) == 52


@given(st.text(max_size=120))
def test_label_values_are_legal(value):
    assert re.fullmatch(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?", label_value(value))
