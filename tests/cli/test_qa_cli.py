"""QA of the command line under unusual input: defects found and fixed, one test each."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pipec.cli import main


def _patched(tmp_path: Path, original: bytes, diff: str) -> bytes:
    """`original` with `diff` applied by patch(1)."""
    target = tmp_path / "copy.pipe"
    target.write_bytes(original)
    done = subprocess.run(["patch", "--quiet", str(target)], input=diff.encode("utf-8"),
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return target.read_bytes()


@pytest.mark.parametrize("original", [
    b'team a {   contact "x"; role ml }',  # no newline at the end of the file
    # A form feed, U+2028, NEL and U+001C in a comment: `str.splitlines` ends lines there.
    'team a {   contact "x"; role ml }  # a\u2028b\fc\x85d\x1ce\nteam b {}\n'.encode(),
    b'team a {contact "x"; role ml}\r\nteam b {}\r\n',
])
def test_fmt_diff_is_a_patch_that_applies(tmp_path: Path, original: bytes,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.pipe"
    path.write_bytes(original)
    assert main(["fmt", "--diff", str(path)]) == 1
    diff = capsys.readouterr().out
    assert main(["fmt", str(path)]) == 0
    assert _patched(tmp_path, original, diff) == path.read_bytes()


@pytest.mark.parametrize("before", [
    "e\u0301e\u0301",  # decomposed accents: combining marks, drawn on their letter
    "a\u200bb\u200d",  # a zero-width space and joiner
])
def test_caret_skips_characters_of_no_width(before: str) -> None:
    from pipec.diagnostics import Diagnostic, Severity
    from pipec.nodes import Span
    from pipec.render.text import render_plain

    line = f'team a {{ contact "{before}"; role mll }}'
    col = line.index("mll") + 1
    diagnostic = Diagnostic("P001", Severity.ERROR, "m", Span("x.pipe", 1, col, 1, col + 3))
    shown = render_plain([diagnostic], {"x.pipe": line + "\n"}).split("\n")
    source, caret = shown[3], shown[4]
    assert source == f"1 | {line}"
    drawn = len(source) - sum(c in "\u0301\u200b\u200d" for c in source)  # cells drawn
    assert caret.index("^") == drawn - len("mll }"), caret


def test_strict_applies_to_the_files_of_its_own_project(tmp_path: Path) -> None:
    """`strict = true` in one project of a monorepo failed the warnings of every other
    project's files named in the same run (a pre-commit hook at the repository root)."""
    warns = '# pipec: ignore[OWN001]\nteam t { contact "x"; role ml }\n'  # SUP001 warnings
    clean = 'team t { contact "x"; role ml }\n'
    (tmp_path / "lax").mkdir()
    (tmp_path / "lax" / "pyproject.toml").write_text("")
    (tmp_path / "lax" / "w.pipe").write_text(warns)
    (tmp_path / "strict").mkdir()
    (tmp_path / "strict" / "pyproject.toml").write_text("[tool.pipec]\nstrict = true\n")
    (tmp_path / "strict" / "clean.pipe").write_text(clean)
    lax, strict = str(tmp_path / "lax" / "w.pipe"), str(tmp_path / "strict" / "clean.pipe")
    assert main(["check", lax]) == 0
    assert main(["check", strict]) == 0
    assert main(["check", lax, strict]) == 0
    assert main(["check", "--strict", lax, strict]) == 1
    (tmp_path / "strict" / "w.pipe").write_text(warns)
    assert main(["check", lax, str(tmp_path / "strict" / "w.pipe")]) == 1


@pytest.mark.parametrize("command", [["graph"], ["build", "--target", "local"], ["test"]])
def test_a_single_file_command_says_why_its_argument_is_no_file(
        tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`pipec graph FOLDER` said the folder was "not a regular file or a folder", and
    `build`/`test` gave no reason at all for a folder, a missing file or a link loop."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "loop.pipe").symlink_to("loop.pipe")
    expected = {
        "folder": f"pipec: `folder` is a folder; `pipec {command[0]}` takes one .pipe file",
        "missing.pipe": "pipec: cannot read `missing.pipe`: no such file or directory",
        "loop.pipe": "pipec: cannot read `loop.pipe`: a symbolic link loop",
    }
    for argument, message in expected.items():
        assert main([*command, argument]) == 2
        out, err = capsys.readouterr()
        assert err.strip() == message and not out


@pytest.mark.parametrize("output_format", ["json", "sarif"])
def test_a_machine_format_is_a_document_even_when_no_file_is_readable(
        tmp_path: Path, output_format: str, capsys: pytest.CaptureFixture[str]) -> None:
    """With one readable file and a missing one, stdout was `[]`; with the missing one
    alone it was empty, which no JSON or SARIF reader takes (`upload-sarif` fails)."""
    import json

    (tmp_path / "empty").mkdir()
    for arguments in ([str(tmp_path / "missing.pipe")], [str(tmp_path / "empty")]):
        assert main(["check", "--format", output_format, *arguments]) == 2
        document = json.loads(capsys.readouterr().out)
        if output_format == "json":
            assert document == []
        else:
            assert document["runs"][0]["results"] == []


def test_an_import_cycle_is_one_diagnostic_whichever_file_is_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`pipec check a.pipe b.pipe c.pipe` (a pre-commit run) reported the cycle a -> b ->
    c -> a three times, at three imports, each told from another file."""
    import json

    monkeypatch.chdir(tmp_path)
    for name, imported in (("a", "b"), ("b", "c"), ("c", "a")):
        (tmp_path / f"{name}.pipe").write_text(
            f'import "{imported}.pipe"\nteam t{name} {{ contact "x"; role ml }}\n')
    expected = [{"file": "c.pipe", "line": 1, "column": 1,
                 "message": "import cycle: a.pipe -> b.pipe -> c.pipe -> a.pipe"}]
    for files in (["a.pipe", "b.pipe", "c.pipe"], ["c.pipe", "b.pipe"], ["b.pipe"]):
        assert main(["check", "--format", "json", *files]) == 1
        found = json.loads(capsys.readouterr().out)
        assert [{k: d[k] for k in expected[0]} for d in found] == expected, files


def test_on_a_terminal_only_the_severity_and_code_are_coloured(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The severity's style was the style of the whole block: message, source line,
    caret and help all printed bold red (or yellow)."""
    from pipec.diagnostics import Diagnostic, Severity
    from pipec.nodes import Span
    from pipec.render.text import print_rich

    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    diagnostic = Diagnostic("OWN001", Severity.ERROR, "no owner", Span("x.pipe", 1, 1, 1, 5),
                            "add one")
    print_rich([diagnostic], {"x.pipe": "team a {}\n"})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("\x1b[1;31merror[OWN001]\x1b[0m: no owner"), lines[0]
    assert lines[0].count("\x1b[") == 2
    body = lines[1:6]
    assert body == ["  --> x.pipe:1:1", "  |", "1 | team a {}", "  | ^^^^", "  = help: add one"]


def test_explain_shows_control_characters_of_an_unknown_code_as_pictures(capsys) -> None:
    from pipec.cli import main

    assert main(["explain", "AB\x1b[31mC\nD"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "AB␛[31mC␊D" in err
