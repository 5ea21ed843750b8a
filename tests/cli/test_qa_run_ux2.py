"""QA of `pipec run` as a user sees it (second pass): defects found and fixed, one test
each."""

from __future__ import annotations

from pathlib import Path

import pytest
from model.project import write_project
from pipec.cli import main


def test_the_diagnostics_before_a_run_are_one_block_with_one_count(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The checks' notes (BUILD002 for the canary) and the dirty-tree warning (REPRO005)
    were printed as two blocks, each ending in its own count: `0 errors, 0 warnings`
    under the first (wrong for the run, which had a warning), then `0 errors, 1 warning`."""
    path = write_project(tmp_path)
    # Not a git checkout: `code_commit auto` cannot name the code that runs (REPRO005).
    path.write_text(path.read_text("utf-8").replace('code_commit "0123456789abcdef"',
                                                    "code_commit auto"), "utf-8")
    assert main(["run", str(path), "--until", "source.events"]) == 0
    out = capsys.readouterr().out
    assert "note[BUILD002]" in out and "warning[REPRO005]" in out
    counts = [line for line in out.splitlines() if line.startswith("0 errors, ")]
    assert counts == ["0 errors, 1 warning"]
    assert out.index("warning[REPRO005]") < out.index("0 errors, 1 warning") < \
        out.index("source.events: ran")


def test_a_usage_error_is_not_buried_under_the_programs_notes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--until trian` printed the program's notes (eight lines for BUILD002) and a count
    before the one line that mattered: the misspelt stage."""
    path = write_project(tmp_path)
    assert main(["run", str(path), "--until", "sorce"]) == 2
    out, err = capsys.readouterr()
    assert "did you mean `source.events`?" in err
    assert out == ""
