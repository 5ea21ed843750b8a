"""Each stage's runtime policy in the manifest: on_failure, retries, timeout."""

from __future__ import annotations

import pytest
from pipec.check import compile
from pipec.manifest import RETRY_POLICY_RETRIES, build_manifest
from support.programs import SMALL_PIPELINE


def _policies(text: str) -> dict[str, tuple[str, int, float | None]]:
    program = compile(text)
    assert program.ok, program.diagnostics
    return {s["id"]: (s["on_failure"], s["retries"], s["timeout_s"])
            for s in build_manifest(program)["stages"]}


def test_implied_stages_take_the_pipeline_defaults() -> None:
    """The join (and an approval) have no block: without this they ran with no retries
    and no timeout whatever the pipeline said."""
    text = SMALL_PIPELINE.replace("owner ml; on_failure block;",
                                  "owner ml; on_failure block; retries 3; timeout 20m;")
    policies = _policies(text)
    assert policies["join"] == ("block", 3, 1200.0)
    assert set(policies.values()) == {("block", 3, 1200.0)}


@pytest.mark.parametrize(("setting", "retries"), [
    ("on_failure retry;", RETRY_POLICY_RETRIES),
    ("on_failure retry; retries 5;", 5),
    ("on_failure retry; retries 0;", 0),
    ("on_failure block;", 0),
])
def test_a_retry_policy_retries(setting: str, retries: int) -> None:
    text = SMALL_PIPELINE.replace("on_failure block;", setting).replace(
        "validate ev { require id }", "validate ev { require id; on_failure block }")  # VAL001
    policies = _policies(text)
    del policies["validate.ev"]
    assert {r for _, r, _ in policies.values()} == {retries}
