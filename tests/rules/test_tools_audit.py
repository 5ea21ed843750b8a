"""The pages of the codes `pipec build` reports: their Example really reports the code
under `pipec build` (a program with check errors is refused before any backend runs,
so the example must check clean of errors), and their Use instead builds without it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.cli import main
from pipec.rules import load_all

from .test_docs import _program

# code -> (the build arguments for the Example, those for the Use instead, the
# `[tool.pipec]` table the Example is built under, as its page says)
BUILDS = {
    "BUILD001": (["--target", "argo"], ["--target", "argo"], ""),
    "BUILD002": (["--target", "airflow"],
                 ["--target", "airflow", "--airflow-operator", "kubernetes"], ""),
    "BUDGET001": (["--target", "argo"], ["--target", "argo"], "argo_max_bytes = 2000\n"),
    # tmp_path is outside any git checkout: `code_commit auto` cannot be trusted there
    "REPRO005": (["--target", "local"], ["--target", "local"], ""),
}


def _built_codes(folder: Path, text: str, arguments: list[str], config: str,
                 capsys: pytest.CaptureFixture[str]) -> str:
    folder.mkdir()
    (folder / "p.pipe").write_text(text, "utf-8")
    if config:
        (folder / "pyproject.toml").write_text(f"[tool.pipec]\n{config}", "utf-8")
    capsys.readouterr()
    main(["build", str(folder / "p.pipe"), "-o", str(folder / "out"), *arguments])
    return capsys.readouterr().out


@pytest.mark.parametrize("code", sorted(BUILDS))
def test_build_page_example_fires_and_fix_does_not(
        code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = load_all()[code].doc
    bad_args, good_args, config = BUILDS[code]
    bad = _built_codes(tmp_path / "bad", _program(doc, "## Example"), bad_args, config, capsys)
    assert f"[{code}]" in bad, bad
    assert "error[" not in bad.replace(f"error[{code}]", ""), bad
    good = _built_codes(tmp_path / "good", _program(doc, "## Use instead"), good_args, "",
                        capsys)
    assert f"[{code}]" not in good and "error[" not in good, good
