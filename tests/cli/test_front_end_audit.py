"""`pipec check` on hostile input: user strings with newlines and tabs, very long lines,
odd paths and imports, malformed suppressions, syntax errors worded for people."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pipec.cli import main
from pipec.diagnostics import Diagnostic, error
from pipec.nodes import Span
from pipec.parser import parse_text
from pipec.render.text import MAX_SHOWN, render_plain

# ------------------------------------------------------------------ text renderer


def test_a_newline_in_a_message_or_path_stays_on_its_line() -> None:
    diagnostic = error("P001", "`a\nb\tc` is not a cron expression", Span("x\ny.pipe", 1, 1, 1, 2),
                       "one\ntwo")
    rendered = render_plain([diagnostic], {})
    lines = rendered.splitlines()
    assert lines[0] == "error[P001]: `a␊b␉c` is not a cron expression"
    assert lines[1] == "  --> x␊y.pipe:1:1"
    assert lines[2] == "  = help: one␊two"


def test_a_cron_string_with_a_newline_from_the_command_line(tmp_path: Path, monkeypatch:
                                                             pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.pipe").write_text('pipeline p {\n  retrain scheduled "0 3\\n* *"\n}\n', "utf-8")
    assert main(["check", "--select", "P001", "p.pipe"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("error[P001]: `0 3␊* *` is not a cron expression")


def _long_line_diagnostics(count: int, width: int) -> tuple[list[Diagnostic], dict[str, str]]:
    line = "x" * width
    spans = [Span("f.pipe", 1, col, 1, col + 3) for col in range(1, width, width // count)]
    return [error("P003", "twice", span) for span in spans], {"f.pipe": line + "\n"}


def test_a_long_source_line_is_shown_as_a_window_around_the_caret() -> None:
    diagnostics, sources = _long_line_diagnostics(count=4, width=100_000)
    rendered = render_plain(diagnostics, sources)
    assert len(rendered) < 4 * 3 * (MAX_SHOWN + 40)
    for block in rendered.split("\n\n")[:-1]:
        _, _, _, source, carets = block.splitlines()
        assert len(source) <= len("1 | ") + MAX_SHOWN + 2
        assert source[carets.index("^")] == "x" and carets.count("^") == 3


def test_the_window_keeps_the_caret_on_the_offending_text() -> None:
    line = "a" * 500 + "BAD" + "a" * 500
    diagnostic = error("P001", "bad", Span("f.pipe", 1, 501, 1, 504))
    _, _, _, source, carets, _ = render_plain([diagnostic], {"f.pipe": line}).split("\n", 5)
    start = carets.index("^")
    assert source[start:start + 3] == "BAD" and carets[start:] == "^^^"
    assert source.startswith("1 | …") and source.endswith("…")


def test_short_lines_are_shown_whole() -> None:
    line = "\tteam t { contact \"é𝔘\"; role mll }"
    diagnostic = error("P001", "bad", Span("f.pipe", 1, 30, 1, 33))
    rendered = render_plain([diagnostic], {"f.pipe": line})
    assert "1 |  team t { contact \"é𝔘\"; role mll }\n" in rendered
    assert "\n  | " + " " * 29 + "^^^\n" in rendered


# ------------------------------------------------------------------ syntax wording


@pytest.mark.parametrize(("text", "wanted"), [
    ("pipeline p {\n  evaluate m { primary auc >= }\n}\n",
     "expected a number such as `0.85` or a percentage such as `5%` after `>=`"),
    ("pipeline p {\n  source s { schema { a: float >= } }\n}\n",
     "expected one of a date such as `2026-03-01`, a number such as `0.85` or a "
     "percentage such as `5%` after `>=`"),
    ("pipeline p {\n  register m { rollback }\n}\n",
     'expected one of a string in double quotes such as `"text"`, a whole number such as '
     "`42` or `previous` after `rollback`"),
    ("pipeline p {\n  train m { params { a: } }\n}\n",
     "a value such as `42`, `0.05`, `\"text\"`, `30d` or `50MB`"),
])
def test_expected_numbers_name_every_kind_a_user_may_write(text: str, wanted: str) -> None:
    [diagnostic] = parse_text(text, "t.pipe").diagnostics
    assert wanted in diagnostic.message


# ------------------------------------------------------------------ files and imports


def test_arguments_that_are_not_files_say_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys) -> None:
    monkeypatch.chdir(tmp_path)
    os.symlink("b.pipe", "a.pipe")
    os.symlink("a.pipe", "b.pipe")
    os.symlink("nowhere.pipe", "dangling.pipe")
    assert main(["check", "a.pipe", "dangling.pipe", "missing.pipe", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert "`a.pipe`: a symbolic link loop" in err
    assert "`dangling.pipe`: a symbolic link to nothing" in err
    assert "`missing.pipe`: no such file or directory" in err
    assert "`/dev/null`: not a regular file or a folder" in err


def test_an_unreadable_argument_does_not_hide_the_other_files_findings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """pre-commit passes every staged file: one that cannot be read makes the exit 2,
    and the others are checked all the same."""
    monkeypatch.chdir(tmp_path)
    os.symlink("nowhere.pipe", "dangling.pipe")
    Path("broken.pipe").write_text("pipeline x {\n", encoding="utf-8")
    assert main(["check", "dangling.pipe", "broken.pipe", "--format", "json"]) == 2
    out, err = capsys.readouterr()
    assert "`dangling.pipe`: a symbolic link to nothing" in err
    assert [d["code"] for d in json.loads(out)] == ["P001"]


def test_a_folder_walk_skips_tool_folders_and_linked_loops(tmp_path: Path, monkeypatch:
                                                           pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    for folder in ("a/node_modules", "a/.venv/lib", "a/b"):
        Path(folder).mkdir(parents=True)
    Path("a/node_modules/x.pipe").write_text("pipeline {\n")
    Path("a/.venv/lib/x.pipe").write_text("pipeline {\n")
    Path("a/b/t.pipe").write_text('team t { contact "#t"; role ml }\n')
    os.symlink("..", "a/b/up")
    assert main(["check", "--format", "json", "a"]) == 0
    assert capsys.readouterr().out == "[]\n"


def test_importing_a_folder_says_it_is_a_folder(tmp_path: Path, monkeypatch:
                                                pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".git").mkdir()
    Path("shared").mkdir()
    Path("m.pipe").write_text('import "shared"\nimport "shared/"\n')
    assert main(["check", "m.pipe"]) == 1
    out = capsys.readouterr().out
    assert "error[P002]: import `shared` names a folder, not a .pipe file" in out
    assert "not found" not in out
    # `shared` and `shared/` are one import, reported once at the first.
    assert out.count("error[P002]") == 1 and "m.pipe:1:8" in out


# ------------------------------------------------------------------ suppressions


@pytest.mark.parametrize("comment", ["# pipec: ignore[VAL002", "# PIPEC: IGNORE[VAL002] ok",
                                     "# pipec: ignore VAL002 because"])
def test_a_malformed_suppression_is_sup001(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys, comment: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.pipe").write_text(f"team t {{ contact \"#t\"; role ml }}  {comment}\n")
    assert main(["check", "--format", "json", "p.pipe"]) == 0
    out = capsys.readouterr().out
    assert '"code": "SUP001"' in out and "not a suppression pipec understands" in out


def test_a_well_formed_suppression_is_not_called_malformed(tmp_path: Path, monkeypatch:
                                                           pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.pipe").write_text('team t { contact "#t"; role ml }  # pipec: ignore[OWN001] x\n')
    main(["check", "p.pipe"])
    assert "not a suppression pipec understands" not in capsys.readouterr().out


# ------------------------------------------------------------------ github annotations


def test_a_github_annotation_carries_no_raw_control_character() -> None:
    from pipec.render.github import annotation

    diagnostic = error("P001", "found `\x1b[2J\x00`\r\nnext", Span("a.pipe", 1, 1, 1, 2),
                       "\x07bell")
    line = annotation(diagnostic)
    assert line.endswith("::found `␛[2J␀`%0D%0Anext%0Ahelp: ␇bell")
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in line)


def test_github_annotations_of_a_file_with_control_characters(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("c.pipe").write_bytes(b'team t { contact "#t"; role ml }\x00\n\x1b[31mred\n')
    assert main(["check", "--format", "github", "c.pipe"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x00" not in out and "found `␀`" in out


def test_the_caret_stays_under_the_text_after_wide_characters() -> None:
    line = 'description "日本🚀"; retries x'
    col = line.index("x") + 1
    diagnostic = error("P001", "m", Span("a.pipe", 1, col, 1, col + 1))
    out = render_plain([diagnostic], {"a.pipe": line}).split("\n")
    assert f"a.pipe:1:{col}" in out[1]  # the reported column counts code points
    shown, caret = out[3], out[4]
    # Each of 日, 本 and 🚀 takes two terminal columns, so the caret moves three more.
    assert caret.index("^") == shown.index("x") + 3
