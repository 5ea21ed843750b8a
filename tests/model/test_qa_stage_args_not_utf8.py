"""QA: `pipec stage run` given an argument whose bytes are not UTF-8 (`$'\\xff'` in a shell;
Python holds such bytes as surrogates). Each is refused as a usage error (exit 2) before
any stage runs, the argument shown as typed (`\\xff`), never as a surrogate (`\\udcff`):
a reviewer the run's record could not hold, a run id, a stage, a dag hash, a signal, and
a folder whose path the run's record and DuckDB could not take."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from model.project import write_project
from pipec.cli import main

NOT_UTF8 = os.fsdecode(b"\xff")  # what `$'\xff'` arrives as: a lone surrogate
RUN_ID_RULE = ("is not a run id: use at most 120 letters, digits and `.` `_` `:` `+` `-`, "
               "starting with a letter or digit")
UTF8_FOLDER = ("is not a UTF-8 path, which the stages need (the run's record names the "
               "files in it): use a folder whose path is UTF-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model tests' project (with an approval stage), built for the local target."""
    folder = tmp_path_factory.mktemp("stage_args")
    write_project(folder, approval=True)
    assert main(["build", str(folder / "spend.pipe"), "--target", "local",
                 "-o", str(folder / "build")]) == 0
    return folder


def _stage_run(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["stage", "run", "--manifest", str(project / "build" / "lineage.json"), *args])
    out, err = capsys.readouterr()
    assert out == "", out
    return code, err


def _refused(code: int, err: str, project: Path) -> None:
    assert code == 2, err
    assert "\\udcff" not in err and "internal error" not in err and "Traceback" not in err
    assert not (project / ".pipec").exists()  # no stage ran, no run was recorded


def test_a_reviewer_not_utf8_is_refused_before_the_rejection_is_recorded(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """QA: the approval stage ran on, failed writing the run's record ("UnicodeEncodeError:
    'utf-8' codec can't encode character '\\udcff'"), and the run was recorded failed."""
    code, err = _stage_run(capsys, project, "--stage", "approval.model", "--run-id", "x1",
                           "--rejected-by", f"Zoë{NOT_UTF8}")
    _refused(code, err, project)
    assert err == ("pipec: `--rejected-by Zoë\\xff` is not UTF-8 text, which is all a run's "
                   "record holds\n")


@pytest.mark.parametrize(("args", "said"), [
    (["--stage", "source", "--run-id", f"r{NOT_UTF8}"], f"--run-id 'r\\xff' {RUN_ID_RULE}"),
    (["--stage", NOT_UTF8], "no stage `\\xff`; the stages are: source.events,"),
    (["--stage", "source", "--dag-hash", NOT_UTF8], "this workflow was built with \\xff)"),
])
def test_an_argument_not_utf8_is_shown_as_typed(project: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                args: list[str], said: str) -> None:
    """QA: refused, but shown as Python's surrogate (`'\\udcff'`), not as typed."""
    code, err = _stage_run(capsys, project, *args)
    _refused(code, err, project)
    assert err.startswith("pipec: ") and said in err, err


def test_a_run_id_from_the_environment_not_utf8_is_shown_as_typed(
        project: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPEC_RUN_ID", NOT_UTF8)
    code, err = _stage_run(capsys, project, "--stage", "source")
    _refused(code, err, project)
    assert err == f"pipec: PIPEC_RUN_ID '\\xff' {RUN_ID_RULE}\n"


def test_a_signal_not_utf8_is_shown_as_typed(project: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """QA: argparse's own refusal quoted it with `repr`: `invalid choice: '\\udcff'`."""
    with pytest.raises(SystemExit) as exited:
        _stage_run(capsys, project, "--stage", "source", "--record-stop", NOT_UTF8)
    err = capsys.readouterr().err
    _refused(exited.value.code, err, project)
    assert "argument --record-stop: invalid choice: '\\xff' (choose from 'SIGINT', " \
        "'SIGTERM')\n" in err


@pytest.mark.parametrize("origin", ["--project", "PIPEC_PROJECT", "PIPEC_STATE_DIR"])
def test_a_run_store_not_utf8_is_refused(project: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch, origin: str) -> None:
    """QA: the stages ran in it, and the first to read its data through DuckDB failed
    ("cannot encode str as UTF-8"): a failed run recorded, where a usage error was due."""
    store = project / f"store{NOT_UTF8}"
    args = ["--stage", "source", "--run-id", "s1"]
    if origin == "--project":
        args += ["--project", str(store)]
    else:
        monkeypatch.setenv(origin, str(store))
    code, err = _stage_run(capsys, project, *args)
    _refused(code, err, project)
    assert err == f"pipec: {origin} `{project}/store\\xff` {UTF8_FOLDER}\n"
    assert not store.exists()


def test_a_pipeline_folder_not_utf8_is_refused(project: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """QA: `--manifest-dir` putting the pipeline's folder at a path that is not UTF-8 ran
    the stage, then failed writing the run's record: "internal error: UnicodeEncodeError"."""
    elsewhere = project / f"copy{NOT_UTF8}" / "build"
    code, err = _stage_run(capsys, project, "--stage", "source", "--run-id", "m1",
                           "--manifest-dir", str(elsewhere), "--project", str(project / "s"))
    _refused(code, err, project)
    assert err == (f"pipec: the pipeline's folder (from --manifest-dir) `{project}/copy\\xff` "
                   f"{UTF8_FOLDER}\n")
    assert not (project / "s").exists()


def test_a_run_store_in_utf8_beyond_ascii_still_runs(
        project: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The check refuses only what is not UTF-8: `é` in a folder's name is text."""
    capsys.readouterr()
    code = main(["stage", "run", "--manifest", str(project / "build" / "lineage.json"),
                 "--stage", "source", "--run-id", "u1", "--project", str(tmp_path / "é")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("source.events: ran\n") and (tmp_path / "é" / ".pipec").is_dir()
