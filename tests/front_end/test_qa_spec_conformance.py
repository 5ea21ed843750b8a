"""Conformance of the front end's diagnostics with language.md and rules.md (each
diagnostic at its place, naming what was expected, with a fix where one is plain): P001
names the whole literal before the error, an unreadable string says which character, an
empty range says why it is empty, P003 and P002 name what they are about."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec import compile as compile_program
from pipec.diagnostics import Diagnostic
from pipec.parser import parse_text


def syntax_error(text: str) -> Diagnostic:
    [diagnostic] = parse_text(text, "t.pipe").diagnostics
    assert diagnostic.code == "P001"
    return diagnostic


def in_stage(line: str) -> str:
    return f"pipeline p {{\n  train m {{\n    {line}\n  }}\n}}\n"


# rules.md P001: "at the offending position, naming what was expected". The word before
# a literal with a unit was its unit alone (`after `d``), and before a date its last part.
@pytest.mark.parametrize(("line", "after", "found"), [
    ("timeout 1d 12h", "1d", "12h"),
    ("timeout 250ms 3", "250ms", "3"),
    ("seed 42 43", "42", "43"),
])
def test_p001_names_the_whole_literal_before_the_error(line: str, after: str,
                                                      found: str) -> None:
    diagnostic = syntax_error(in_stage(line))
    assert f"after `{after}`, found `{found}`" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.col) == (3, 5 + line.index(found))


@pytest.mark.parametrize(("text", "after"), [
    ("pipeline p {\n  evaluate m {\n    size <= 50MB 3\n  }\n}\n", "50MB"),
    ("pipeline p {\n  validate s {\n    range a >= -0.01 2\n  }\n}\n", "-0.01"),
    ("pipeline p {\n  split by time {\n    test from 2026-01-01 x\n  }\n}\n", "2026-01-01"),
    ("pipeline p {\n  split by time {\n    test from 2026-01-01T04:00:00Z x\n  }\n}\n",
     "2026-01-01T04:00:00Z"),
])
def test_p001_names_sizes_numbers_and_dates_whole(text: str, after: str) -> None:
    assert f"after `{after}`, found" in syntax_error(text).message


def test_a_duration_written_in_spaced_parts_gets_the_one_word_fix() -> None:
    """language.md lists durations `30d 12h 15m 20s 250ms`; the grammar reads a compound
    one as one word (`1h30m`), so `1d 12h` is P001 with the fix spelled out."""
    diagnostic = syntax_error(in_stage("timeout 1d 12h"))
    assert diagnostic.help == "a duration is one word: write `1d12h`"
    assert syntax_error(in_stage("seed 42 43")).help is None


SPLIT_SOURCE = """pipeline p {
  owner t
  on_failure block
  source ev {
    from csv "ev.csv"
    snapshot 2026-06-01
    entity id
    time at
    schema { id: string, at: timestamp, y: bool }
  }
  label l { column y }
  features f version 1 {
    from ev
    entity id
    point_in_time
    feature n = count() over 7d
    BACKFILL
  }
  split by time on at {
    train before 2026-03-01
    test from 2026-03-10 UNTIL
  }
}
"""


def p001_messages(backfill: str = "", until: str = "") -> list[str]:
    text = SPLIT_SOURCE.replace("BACKFILL", backfill).replace("UNTIL", until)
    return [d.message for d in compile_program(text).diagnostics if d.code == "P001"]


def test_a_test_period_ending_where_it_starts_says_the_end_is_excluded() -> None:
    """`test from D until E` is `D <= t < E` (language.md "Splits"): `until` equal to the
    start leaves no test row, but it does not end *before* it starts."""
    assert p001_messages(until="until 2026-03-10") == [
        "the test period ends where it starts (2026-03-10), and its end is excluded: "
        "the test set is empty"]
    assert p001_messages(until="until 2026-03-09") == [
        "the test period ends (2026-03-09) before it starts (2026-03-10): "
        "the test set is empty"]
    assert p001_messages(until="until 2026-03-11") == []


def test_a_backfill_range_ending_where_it_starts_says_the_end_is_excluded() -> None:
    assert p001_messages(backfill="backfill 2026-01-01..2026-01-01 validated") == [
        "the backfill range ends where it starts (2026-01-01), and its end is excluded: "
        "it backfills nothing"]
    assert p001_messages(backfill="backfill 2026-01-02..2026-01-01 validated") == [
        "the backfill range ends (2026-01-01) before it starts (2026-01-02): "
        "it backfills nothing"]


# language.md: strings use JSON escapes. A raw tab (pasted SQL) or a lone surrogate was
# "`...` is not a valid string", with no word on which character or how to write it.
@pytest.mark.parametrize(("inside", "message", "fix"), [
    ("a\tb", "a string cannot hold a tab (U+0009) as it is", "write it as `\\t`"),
    ("\x01", "a string cannot hold a control character (U+0001) as it is",
     "write it as `\\u0001`"),
    ("x\\udc00y", "`\\udc00` is half of a surrogate pair, without its other half: "
                  "no UTF-8 file can hold it",
     "write the character itself, or both halves of the pair (`\\ud83d\\ude00` is U+1F600)"),
])
def test_an_unreadable_string_says_which_character_and_how_to_write_it(
        inside: str, message: str, fix: str) -> None:
    diagnostic = syntax_error(f'team t {{ contact "{inside}"; role ml }}\n')
    assert (diagnostic.message, diagnostic.help) == (message, fix)
    assert (diagnostic.span.line, diagnostic.span.col) == (1, 18)


def test_escaped_control_characters_and_surrogate_pairs_still_read() -> None:
    program = compile_program('team t { contact "a\\tb\\u0001\\ud83d\\ude00"; role ml }\n')
    assert program.diagnostics == []
    assert program.teams["t"].setting("contact").value.value == "a\tb\x01\U0001F600"


def test_p003_names_a_set_declared_twice_as_t001_and_t004_do() -> None:
    """It said `gates g is declared twice`, which reads as a verb; T001 and T004 say
    "gate set" and "check set"."""
    text = ("gates g { primary roc_auc >= 0.8 }\ngates g { primary roc_auc >= 0.9 }\n"
            "checks c { require a }\nchecks c { require b }\n")
    messages = [d.message for d in compile_program(text).diagnostics if d.code == "P003"]
    assert messages == ["gate set `g` is declared twice (first at <string>:1:7)",
                        "check set `c` is declared twice (first at <string>:3:8)"]


@pytest.mark.parametrize(("written", "fix"), [
    ("teams", 'did you mean `import "teams.pipe"`? (the path names the file whole)'),
    ("std/gates/binary",
     'did you mean `import "std/gates/binary.pipe"`? (the path names the file whole)'),
    ("nothere", "paths are relative to the importing file; `std/...` names the standard "
                "library"),
])
def test_p002_for_an_import_without_its_extension_names_the_file(
        tmp_path: Path, written: str, fix: str) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "teams.pipe").write_text('team t { contact "x"; role ml }\n')
    main = tmp_path / "main.pipe"
    main.write_text(f'import "{written}"\n')
    [diagnostic] = compile_program(main).diagnostics
    assert (diagnostic.code, diagnostic.help) == ("P002", fix)
    assert (diagnostic.span.line, diagnostic.span.col) == (1, 8)
