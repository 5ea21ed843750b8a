"""P004: an import of a file that declares a pipeline warns once, at the import statement
of the file that wrote it, whichever files are checked together; the standard library
holds no pipeline, so importing it never does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipec.check import compile
from pipec.cli import main

from .conftest import FIXTURES, REPO

STDLIB = REPO / "stdlib"
# A pipeline file that also declares the team its importers need.
SHARED = (FIXTURES / "P004" / "baseline.pipe").read_text("utf-8")
PIPELINE = (FIXTURES / "P004.ok.pipe").read_text("utf-8").split("\n", 1)[1]  # no import


def p004(path: Path) -> list[tuple[str, int, str]]:
    return [(d.span.file, d.span.line, d.message) for d in compile(path).diagnostics
            if d.code == "P004"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`main.pipe` imports `lib.pipe` (no pipeline), which imports `shared.pipe` (one)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "shared.pipe").write_text(SHARED, "utf-8")
    (tmp_path / "lib.pipe").write_text('import "shared.pipe"\n', "utf-8")
    (tmp_path / "main.pipe").write_text(f'import "lib.pipe"\n{PIPELINE}', "utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _checked(capsys: pytest.CaptureFixture[str], *arguments: str) -> list[tuple[str, int]]:
    main(["check", "--format", "json", *arguments])
    return [(d["file"], d["line"]) for d in json.loads(capsys.readouterr().out)
            if d["code"] == "P004"]


def test_the_message_names_the_pipeline_and_what_is_shared(project: Path) -> None:
    [(file, line, message)] = p004(Path("lib.pipe"))
    assert (file, line) == ("lib.pipe", 1)
    assert message == ("`shared.pipe` declares pipeline `baseline`, which this import "
                       "ignores: an import shares only teams, check sets and gate sets")


def test_an_import_inside_an_imported_file_is_that_files_to_report(project: Path) -> None:
    assert p004(Path("main.pipe")) == []


def test_checked_together_it_is_reported_once(project: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert _checked(capsys, "main.pipe", "lib.pipe", "shared.pipe") == [("lib.pipe", 1)]
    assert _checked(capsys, ".") == [("lib.pipe", 1)]


def test_with_importers_it_is_reported_once(project: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _checked(capsys, "--with-importers", "shared.pipe") == [("lib.pipe", 1)]
    assert _checked(capsys, "--with-importers", "lib.pipe") == [("lib.pipe", 1)]


def test_one_file_imported_twice_is_one_warning(project: Path) -> None:
    Path("lib.pipe").write_text('import "shared.pipe"\nimport "./shared.pipe"\n', "utf-8")
    assert [line for _, line, _ in p004(Path("lib.pipe"))] == [1]


def test_each_pipeline_of_the_imported_file_is_named(project: Path) -> None:
    second = SHARED[SHARED.index("pipeline baseline"):].replace("baseline", "challenger")
    Path("shared.pipe").write_text(f"{SHARED}\n{second}", "utf-8")
    [(_, _, message)] = p004(Path("lib.pipe"))
    assert message.startswith("`shared.pipe` declares pipelines `baseline`, `challenger`,")


def test_an_import_cycle_is_only_the_cycle(project: Path) -> None:
    Path("shared.pipe").write_text(f'import "shared.pipe"\n{SHARED}', "utf-8")
    codes = [d.code for d in compile(Path("shared.pipe")).diagnostics]
    assert "P002" in codes and "P004" not in codes


def test_a_library_import_is_not_reported(project: Path) -> None:
    Path("shared.pipe").write_text(SHARED.split("\npipeline ")[0], "utf-8")
    assert p004(Path("lib.pipe")) == []


def test_the_standard_library_holds_no_pipeline() -> None:
    """What keeps `import "std/..."` from ever firing P004."""
    files = sorted(STDLIB.rglob("*.pipe"))
    assert files
    for path in files:
        module = compile(path).module
        assert module is not None and module.blocks("pipeline") == [], path


def test_importing_every_standard_library_file_is_clean(tmp_path: Path) -> None:
    imports = "".join(f'import "std/{path.relative_to(STDLIB).as_posix()}"\n'
                      for path in sorted(STDLIB.rglob("*.pipe")))
    (tmp_path / "p.pipe").write_text(imports, "utf-8")
    assert compile(tmp_path / "p.pipe").diagnostics == []
