"""QA of `pipec run` as a user sees it: defects found and fixed, one test each."""

from __future__ import annotations

from pathlib import Path

import pytest
from model.project import write_project
from pipec.cli import main


@pytest.mark.parametrize("option", ["--until", "--from"])
@pytest.mark.parametrize("empty", ["", " "])
def test_an_empty_stage_is_a_usage_error_not_the_whole_pipeline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], option: str, empty: str) -> None:
    """`--until "$STAGE"` with the variable unset read as no `--until`: the whole pipeline
    ran, registered and deployed a model, and the run exited 0."""
    import pipec.stdlib.runtime.runner as runner

    path = write_project(tmp_path)
    monkeypatch.setattr(runner, "run_pipeline", lambda *_a, **_k: pytest.fail("it ran"))
    with pytest.raises(SystemExit) as exited:
        main(["run", str(path), option, empty])
    assert exited.value.code == 2
    assert "name a stage" in capsys.readouterr().err


def test_the_progress_bar_counts_only_the_stages_until_reaches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With `--until`, the bar's total was every stage of the pipeline: a finished run
    ended on a bar such as 2/10, as if it had stopped part-way."""
    import pipec.commands.progress as progress

    path = write_project(tmp_path)
    totals: list[list[str]] = []
    real = progress.stage_progress

    def recorded(planned: list[str]):  # type: ignore[no-untyped-def]
        totals.append(list(planned))
        return real(planned)

    monkeypatch.setattr(progress, "stage_progress", recorded)
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(path), "--until", "validate"]) == 0
    assert totals == [["source.events", "validate.events"]]
