"""`pipec fmt` and `pipec explain` as a user meets them: a BOM is a change fmt makes
whether or not anything else changes, and a mistyped code gets a did-you-mean."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from conftest import EXAMPLES
from pipec.cli import main


def test_fmt_check_flags_a_bom_that_fmt_drops(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    canonical = (EXAMPLES / "fraud" / "teams.pipe").read_bytes()
    path = tmp_path / "teams.pipe"
    path.write_bytes(codecs.BOM_UTF8 + canonical)
    assert main(["fmt", "--check", str(path)]) == 1
    assert main(["fmt", str(path)]) == 0
    assert path.read_bytes() == canonical
    # The same bytes as when something else changes too: fmt never writes a BOM.
    path.write_bytes(codecs.BOM_UTF8 + canonical.replace(b"\n", b"\r\n"))
    assert main(["fmt", str(path)]) == 0
    assert path.read_bytes() == canonical


@pytest.mark.parametrize(("typed", "meant"), [
    ("leak2", "LEAK002"), ("GAT001", "GATE001"), ("gate1", "GATE001"),
    ("BUIDL001", "BUILD001"), ("own01", "OWN001")])
def test_explain_suggests_the_code_meant(typed: str, meant: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", typed]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pipec: no rule `{typed}`;") and f"did you mean `{meant}`?" in err


def test_explain_suggests_nothing_for_a_code_far_from_all(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "NOPE999"]) == 2
    assert "did you mean" not in capsys.readouterr().err


def test_fmt_leaves_a_read_only_file_alone(tmp_path: Path, capsys) -> None:
    from pipec.cli import main

    path = tmp_path / "p.pipe"
    path.write_text("team ml {contact \"#ml\"; role ml}\n")
    path.chmod(0o444)
    try:
        assert main(["fmt", str(path)]) == 2
        assert "is read-only; not reformatted" in capsys.readouterr().err
        assert path.read_text() == "team ml {contact \"#ml\"; role ml}\n"
    finally:
        path.chmod(0o644)
