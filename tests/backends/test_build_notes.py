"""BUILD002 notes for what a target ignores. `canary P for D` is recorded but served by
no target: the deploy stage promotes the version at once on every target, which `pipec
build` and `pipec run` said nothing of (RETRAIN002 even asks for a canary). The local
script runs every stage as a process of this machine, in its own Python environment:
like Airflow's BashOperator, which said so, it requests no `resources` and uses no
`image`, and said nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.backends.build import build_files as build

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("target", ["argo", "airflow", "local"])
def test_a_canary_is_a_note_on_every_target(tmp_path: Path, target: str) -> None:
    result = build(EXAMPLES / "fraud" / "fraud.pipe", target, tmp_path / target)
    [note] = [d for d in result.diagnostics if d.code == "BUILD002" and "canary" in d.message]
    assert note.message.startswith("`canary 5% for 1h` on `fraud_gbm` is recorded")
    assert "promoted to production at once" in note.message
    assert (note.span.line, note.span.col) == (114, 5)


def test_a_deploy_without_a_canary_has_no_such_note(tmp_path: Path) -> None:
    text = (EXAMPLES / "fraud" / "fraud.pipe").read_text("utf-8")
    source = tmp_path / "fraud.pipe"
    source.write_text(text.replace("    canary 5% for 1h\n", ""), "utf-8")
    (tmp_path / "teams.pipe").write_bytes((EXAMPLES / "fraud" / "teams.pipe").read_bytes())
    result = build(source, "argo", tmp_path / "argo")
    assert not [d for d in result.diagnostics if d.code == "BUILD002" and "canary" in d.message]


def test_the_local_script_says_it_uses_no_image_and_requests_no_resources(
        tmp_path: Path) -> None:
    result = build(EXAMPLES / "fraud" / "fraud.pipe", "local", tmp_path / "local")
    notes = {d.span.line: d.message for d in result.diagnostics if d.code == "BUILD002"}
    assert notes[7].startswith("the pipeline's `image` is not used by the local script")
    assert notes[90].startswith("`resources` is not requested by the local script")
