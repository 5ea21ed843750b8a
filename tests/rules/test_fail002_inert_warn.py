"""FAIL002: `on_failure warn` on a stage the runtime does not let a run go on from (every
kind but validate), reported at the stage's own line; a pipeline default is not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pipec.check import compile
from pipec.loader import Loader
from pipec.manifest import build_manifest
from pipec.model import PRODUCES
from pipec.stdlib.runtime.runner import run_pipeline
from support.programs import SMALL_PIPELINE, edited

from .conftest import FIXTURES, REPO

FRAUD = REPO / "examples" / "fraud" / "fraud.pipe"
HEADER = re.compile(r"^  (?P<kind>[a-z]+)\b.*\{$")
# The stages a program implies have no block, so no `on_failure` of their own.
IMPLICIT = {"join", "approval"}


def fail002(text: str, path: Path | None = None) -> list[tuple[int, str, str | None]]:
    if path is None:
        program = compile(text)
    else:  # checked as if it were the file at `path`, so that its imports resolve
        loader = Loader()
        loader.load_source(text, path.name, path)
        program = compile(path, loader=loader)
    return [(d.span.line, d.message, d.help) for d in program.diagnostics
            if d.code == "FAIL002"]


def _with_warn_in_every_stage(text: str) -> tuple[str, dict[str, int]]:
    """`text` with `on_failure warn` first in each stage block; kind -> its line(s)."""
    lines, kinds = [], {}
    for line in text.splitlines():
        lines.append(line)
        header = HEADER.match(line)
        if header and header["kind"] != "pipeline":
            lines.append("    on_failure warn")
            kinds.setdefault(header["kind"], []).append(len(lines))
    return "\n".join(lines) + "\n", kinds


def test_every_kind_but_validate_is_reported_at_its_own_line() -> None:
    text, kinds = _with_warn_in_every_stage(FRAUD.read_text("utf-8"))
    assert set(kinds) == set(PRODUCES) - IMPLICIT  # the example declares every kind
    expected = {line for kind, found in kinds.items() if kind != "validate" for line in found}
    reported = fail002(text, FRAUD)
    assert {line for line, _, _ in reported} == expected
    assert all(message.startswith("`on_failure warn` has no effect on ")
               for _, message, _ in reported)


def test_a_pipeline_default_warn_is_not_reported() -> None:
    text = edited(SMALL_PIPELINE, ("owner ml; on_failure block;", "owner ml; on_failure warn;"))
    assert fail002(text) == []


def test_a_validate_stage_warn_is_not_reported() -> None:
    text = edited(SMALL_PIPELINE, ("validate ev { require id }",
                                   "validate ev { require id; on_failure warn }"))
    assert fail002(text) == []


def test_other_policies_are_not_reported() -> None:
    for policy in ("block", "retry", 'alert "#ml"'):
        text = edited(SMALL_PIPELINE, ('seed 1 }', f"seed 1; on_failure {policy} }}"))
        assert fail002(text) == [], policy


def test_an_evaluate_stage_says_its_gates_still_decide() -> None:
    text = edited(SMALL_PIPELINE, ("evaluate m {", "evaluate m { on_failure warn;"))
    [(line, message, help_text)] = fail002(text)
    assert line == 11
    assert "a failed gate still leaves the model unblessed" in message
    assert help_text is not None and "end that gate line with `warn`" in help_text
    assert "`alert \"...\"` to be told" in help_text


def test_a_source_names_the_validate_stage_whose_policy_decides() -> None:
    text = edited(SMALL_PIPELINE, ('from csv "ev.csv";', 'from csv "ev.csv"; on_failure warn;'))
    [(line, message, _)] = fail002(text)
    assert line == 4
    assert "is `validate.ev`'s policy to decide" in message
    unvalidated = edited(text, ("validate ev { require id }\n", ""))
    [(_, message, _)] = fail002(unvalidated)
    assert "with no validate stage nothing checks its values" in message


def test_the_split_is_named_as_the_split() -> None:
    text = edited(SMALL_PIPELINE, ("test from 2026-04-01 }",
                                   "test from 2026-04-01; on_failure warn }"))
    [(_, message, _)] = fail002(text)
    assert message.startswith("`on_failure warn` has no effect on the split:")


def test_a_suppression_covers_it() -> None:
    text = edited(SMALL_PIPELINE, ('seed 1 }', "seed 1; on_failure warn }  "
                                   "# pipec: ignore[FAIL002] the team reads the logs"))
    assert [d.code for d in compile(text).diagnostics] == []


def test_the_runtime_ignores_a_sources_own_warn(tmp_path: Path) -> None:
    """What the rule says of a source: its `warn` keeps no bad value; the validate
    stage's own policy (`block` here) stops the run on it."""
    (tmp_path / "events.csv").write_text("id,amount,late\na,1.0,true\nb,oops,false\n"
                                         "c,3.0,true\n", "utf-8")
    (tmp_path / "p.pipe").write_text((FIXTURES / "FAIL002.pipe").read_text("utf-8"), "utf-8")
    program = compile(tmp_path / "p.pipe")
    assert any("`source.events`" in d.message for d in program.diagnostics)
    result = run_pipeline(build_manifest(program), tmp_path, tmp_path, until="validate.events")
    assert result.status == "blocked"
    assert result.report["blocked_by"] == "validate.events"
    report = result.report["validation"]["validate.events"]
    assert [c["check"] for c in report["checks"] if not c["passed"]] == ["type"]


@pytest.mark.parametrize("name", ["flights/flights.pipe", "fraud/fraud.pipe"])
def test_the_examples_do_not_fire(name: str) -> None:
    assert fail002((REPO / "examples" / name).read_text("utf-8"), REPO / "examples" / name) \
        == []
