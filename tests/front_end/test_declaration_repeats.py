"""P003 inside teams, check sets and gate sets: in a file of shared declarations
checked on its own (no pipeline), and through a file that imports it, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.check import compile
from pipec.cli import main

LIBRARY = """\
team a { contact "#a"; contact "#b"; role ml; role risk }
checks c {
  require x
  freshness at within 1d
}
gates g {
  approval by a
  approval by a
}
"""


def _p003(program) -> list[tuple[int, str]]:
    return [(d.span.line, d.message.split(" (first")[0]) for d in program.diagnostics
            if d.code == "P003"]


def test_a_library_file_is_checked_on_its_own(tmp_path: Path) -> None:
    (tmp_path / "lib.pipe").write_text(LIBRARY, "utf-8")
    assert _p003(compile(tmp_path / "lib.pipe")) == [
        (1, "`contact` is given twice in team `a`"),
        (8, "`approval by` is given twice in gate set `g`"),
    ]  # two roles are a team filling two owner columns, not a repeat


def test_an_importer_reports_the_library_s_repeats_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "lib.pipe").write_text(LIBRARY, "utf-8")
    (tmp_path / "p.pipe").write_text('import "lib.pipe"\npipeline p {\n  owner a\n}\n',
                                     "utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "lib.pipe", "p.pipe"]) == 1
    out = capsys.readouterr().out
    assert out.count("error[P003]: `contact` is given twice in team `a`") == 1, out
    assert out.count("error[P003]: `approval by` is given twice in gate set `g`") == 1
