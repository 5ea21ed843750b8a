"""`pipec lineage` and `pipec registry` given an argument whose bytes are not UTF-8 (`$'\\xff'`
in a shell; Python holds such bytes as surrogates): a model it names is unknown, shown as
the bytes typed, and a stored option is refused by name; never the codec's own message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pipec.cli import main
from pipec.render.text import as_typed
from pipec.stdlib.runtime import serialize
from pipec.stdlib.runtime.registry import Registry
from support.records import run_record, stored

RUN = "786dd6d6039d4c66"
NOT_UTF8 = os.fsdecode(b"\xff")  # what `$'\xff'` arrives as: a lone surrogate
GATE = {"line": "features compatible", "passed": True, "observed": True,
        "blocking": True, "kind": "features_compatible", "note": ""}


def _project(folder: Path) -> Path:
    """A run store with run RUN, and a registry holding `m` v1 (its pipeline says
    `approval by risk`), registered by that run."""
    stored(folder, run_record(RUN, GATE, "pipec/train@sha256:" + "ab" * 32))
    registry = Registry(folder / "registry")
    try:
        registry.register("m", b"m", serialize.sha256(b"m"), run_id=RUN,
                          report_sha256="a" * 64, actor="ml", info={"approval_by": "risk"})
    finally:
        registry.close()
    return folder


def _pipec(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, str]:
    code = main([*args, "--project", str(folder)])
    out, err = capsys.readouterr()
    assert out == "", out
    return code, err


@pytest.mark.parametrize("command", [
    ["lineage", NOT_UTF8],
    ["lineage", f"{NOT_UTF8}@1"],
    ["registry", "show", NOT_UTF8],
    ["registry", "show", f"{NOT_UTF8}@1"],
    ["registry", "approve", f"{NOT_UTF8}@1", "--by", "risk"],
    ["registry", "promote", f"{NOT_UTF8}@1"],
    ["registry", "rollback", NOT_UTF8],
])
def test_a_model_not_utf8_is_no_model_shown_as_typed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    """The model is unknown, named as typed (`\\xff`), beside the models there are."""
    code, err = _pipec(capsys, _project(tmp_path), *command)
    assert code == 2
    assert err == "pipec: no model `\\xff` in the registry; it holds `m`\n", err


@pytest.mark.parametrize("command", [["lineage", f"m@{NOT_UTF8}"],
                                     ["registry", "show", f"m@{NOT_UTF8}"]])
def test_a_version_not_utf8_is_shown_as_typed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    code, err = _pipec(capsys, _project(tmp_path), *command)
    assert code == 2
    assert err == "pipec: `m@\\xff`: a version is a whole number, as in `m@3`\n", err


@pytest.mark.parametrize(("options", "expected"), [
    (["--by", NOT_UTF8], "needs approval by team `risk` (its pipeline's `approval by`), "
                         "not `\\xff`"),
    (["--by", "risk", "--report", NOT_UTF8], "`\\xff` does not name an evaluation report"),
    (["--by", "risk", "--approver", NOT_UTF8], "`--approver \\xff` is not UTF-8 text"),
])
def test_approve_options_not_utf8_are_refused_as_typed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str],
        expected: str) -> None:
    """Nothing is approved; the message shows the option's bytes as typed."""
    folder = _project(tmp_path)
    code, err = _pipec(capsys, folder, "registry", "approve", "m@1", *options)
    assert code == 2 and expected in err, err
    assert "codec" not in err and err.count("\n") == 1, err
    err.encode("utf-8")  # no surrogate left for a UTF-8 terminal to refuse
    registry = Registry(folder / "registry")
    try:
        assert registry.approval("m", 1) is None
    finally:
        registry.close()


@pytest.mark.parametrize("command", [["registry", "promote", "m@1"],
                                     ["registry", "rollback", "m"]])
def test_a_reason_not_utf8_is_refused_by_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    """`--reason` goes into the version's history, which holds text only: nothing is
    recorded (v1 is approved, so a promotion would otherwise go ahead)."""
    folder = _project(tmp_path)
    registry = Registry(folder / "registry")
    try:
        registry.approve("m", 1, approver="ana", team="risk")
        before = registry.transitions("m")
    finally:
        registry.close()
    code, err = _pipec(capsys, folder, *command, "--reason", NOT_UTF8)
    assert code == 2
    assert err == ("pipec: `--reason \\xff` is not UTF-8 text, which is all the registry "
                   "records\n"), err
    registry = Registry(folder / "registry")
    try:
        assert registry.transitions("m") == before
        assert registry.entry("m", 1).state == "candidate"
    finally:
        registry.close()


def test_as_typed_shows_bytes_and_keeps_text() -> None:
    """The shared helper: bytes that are not UTF-8 as `\\xNN`, letters as they are, a
    newline as its picture (one line)."""
    assert as_typed(f"Zoë{NOT_UTF8}\n") == "Zoë\\xff\u240a"
