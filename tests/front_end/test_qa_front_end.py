"""QA of the front end under unusual input: defects found and fixed, one test each."""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import pytest
from pipec import fmt
from pipec.check import compile
from pipec.parser import parse_text


def test_fmt_of_many_commented_lines_is_not_quadratic() -> None:
    """Each statement looked at every comment of the file (twice): 10,000 teams with an
    end-of-line comment each took 17 s, 40,000 three minutes (a pre-commit hook).
    Counted as lines fmt executes for 4x the teams, not timed: linear is 4x, that
    quadratic walk 16x."""
    small, large = _fmt_lines_executed(1000), _fmt_lines_executed(4000)
    assert large < 6 * small, f"{small:,} lines for 1,000 teams, {large:,} for 4,000"


def _fmt_lines_executed(teams: int) -> int:
    """How many lines of `pipec.fmt` formatting `teams` commented teams executes."""
    text = "".join(f'team t{i} {{ contact "x"; role ml }}  # c{i}\n# above {i}\n'
                   for i in range(teams))
    parsed = parse_text(text, "x.pipe")
    assert parsed.module is not None
    executed = 0

    def count_lines(_frame: FrameType, event: str, _arg: object) -> Any:
        nonlocal executed
        executed += event == "line"
        return count_lines

    def in_fmt_only(frame: FrameType, _event: str, _arg: object) -> Any:
        return count_lines if frame.f_code.co_filename == fmt.__file__ else None

    sys.settrace(in_fmt_only)
    try:
        formatted = fmt.format_module(parsed.module, parsed.text)
    finally:
        sys.settrace(None)
    assert formatted.count("# c") == teams and formatted.count("# above") == teams
    return executed


def _p001(text: str) -> tuple[str, str | None, int]:
    parsed = parse_text(text, "x.pipe")
    assert parsed.module is None
    first = parsed.diagnostics[0]
    assert first.code == "P001"
    return first.message, first.help, first.span.col


@pytest.mark.parametrize(("char", "shown", "meant"), [
    ("\u00a0", "U+00A0 (no-break space)", "a space"),
    ("\u200b", "U+200B (zero width space)", None),
    ("\u3000", "U+3000 (ideographic space)", "a space"),
    ("\uff1b", "`\uff1b` (U+FF1B, fullwidth semicolon)", "`;`"),
    ("\u201c", "`\u201c` (U+201C, left double quotation mark)", '`"`'),
])
def test_an_invisible_or_lookalike_character_is_named(char: str, shown: str,
                                                      meant: str | None) -> None:
    """`found ` `` said nothing when the character was a no-break or zero-width space
    pasted from a chat or a document, and `found `“`` not that it is no `"`."""
    message, help_text, col = _p001(f'team a {{ role ml{char} contact "x" }}\n')
    assert message.endswith(f", found {shown}"), message
    assert col == 17
    if meant is None:
        assert help_text is not None and "invisible" in help_text
    else:
        assert help_text == f"it only looks like {meant}: type {meant} instead"


def test_a_keyword_with_a_lookalike_letter_says_which_letter() -> None:
    message, help_text, _ = _p001("t\u0435am a { role ml }\n")  # a Cyrillic `е`
    assert message.endswith("found `t\u0435am`")
    assert help_text == ("did you mean `team`? (`\u0435` is U+0435, cyrillic small letter ie, "
                         "not an ASCII letter)")


@pytest.mark.parametrize(("written", "ok"), [
    ("9223372036854775807", True), ("-9223372036854775808", True),
    ("9223372036854775808", False), ("-9223372036854775809", False),
    ("99999999999999999999999999999", False),
])
def test_a_whole_number_must_fit_in_64_bits(written: str, ok: bool) -> None:
    """`retries 10**29` or `version 10**29` checked clean and built an Argo workflow
    whose retry limit Argo cannot read (and JSON that no int64 reader takes)."""
    parsed = parse_text(f"pipeline p {{ retries {written} }}\n", "x.pipe")
    if ok:
        assert parsed.module is not None, parsed.diagnostics
        return
    assert parsed.module is None
    [diagnostic] = parsed.diagnostics
    assert diagnostic.code == "P001" and diagnostic.span.col == 22
    assert diagnostic.message == (f"`{written}` is not a valid whole number (one that fits "
                                  "in 64 bits)")


def test_the_column_of_a_bad_byte_does_not_count_a_bom(tmp_path, capsys) -> None:
    """A file that decodes has its BOM dropped before columns are counted; in one with a
    bad byte the BOM was counted (column 7, not 6) and shown in the quoted line."""
    from pipec.cli import main
    from pipec.parser import parse_bytes

    line = b'team \xff { role ml }\n'
    for data in (line, b"\xef\xbb\xbf" + line):
        [diagnostic] = parse_bytes(data, "x.pipe").diagnostics
        assert (diagnostic.span.line, diagnostic.span.col) == (1, 6)
        path = tmp_path / "x.pipe"
        path.write_bytes(data)
        assert main(["check", str(path)]) == 1
        assert "1 | team \ufffd { role ml }\n" in capsys.readouterr().out


def test_a_file_with_more_syntax_errors_than_reported_says_so() -> None:
    """Reporting stops at MAX_SYNTAX_ERRORS; the last one says more may follow (a file of
    40 broken lines showed 25 errors as if they were all)."""
    from pipec.parser import MAX_SYNTAX_ERRORS

    def broken(lines: int) -> list:
        text = "pipeline p {\n" + "".join(f"  owner a b c {i}\n" for i in range(lines)) + "}\n"
        return compile(text).diagnostics

    many = broken(40)
    assert len(many) == MAX_SYNTAX_ERRORS
    assert "more may follow" in (many[-1].help or "")
    assert not any("more may follow" in (d.help or "") for d in broken(3))
