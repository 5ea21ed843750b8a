"""Syntax-error wording from the parser's point of view: what it really accepts where it
stopped, what is wrong with a token's shape, and every broken statement once."""

from __future__ import annotations

import re

import pytest
from pipec.diagnostics import Diagnostic
from pipec.parser import MAX_SYNTAX_ERRORS, grammar, parse_text
from pipec.render.text import render_plain
from pipec.syntax_errors import DURATION_UNITS, MAX_QUOTED, SIZE_UNITS


def errors(text: str) -> list[Diagnostic]:
    result = parse_text(text, "t.pipe")
    assert all(d.code == "P001" for d in result.diagnostics)
    return result.diagnostics


def places(text: str) -> list[tuple[int, int, int]]:
    return [(d.span.line, d.span.col, d.span.end_col) for d in errors(text)]


def in_pipeline(*lines: str) -> str:
    return "pipeline p {\n" + "".join(f"  {line}\n" for line in lines) + "}\n"


def in_label(line: str) -> str:
    return f"pipeline p {{\n  label l {{\n    {line}\n  }}\n}}\n"


# 1. After an unexpected character the parser, not the lexer, says what may follow.

def test_unexpected_character_lists_what_the_parser_accepts() -> None:
    [diagnostic] = errors(in_pipeline("owner t @"))
    assert diagnostic.message == "expected the end of the statement or `}` after `t`, found `@`"
    assert (diagnostic.span.line, diagnostic.span.col) == (2, 11)


@pytest.mark.parametrize("text", [
    "\x1b\npipeline p {\n  owner t\n}\n",
    "pipeline p {\n  owner t\n}\n\x1b\n",
    "team t {\n  role ml\n}\n \x1b x\n",
])
def test_control_character_at_the_top_level_lists_top_level_keywords(text: str) -> None:
    [diagnostic] = errors(text)
    assert "`pipeline`" in diagnostic.message and "`team`" in diagnostic.message
    for keyword in ("approval", "backfill", "calibration", "window"):
        assert f"`{keyword}`" not in diagnostic.message


def test_control_character_in_a_block_lists_that_block_s_statements() -> None:
    [diagnostic] = errors(in_label("\x1b"))
    assert "`window`" in diagnostic.message or "..." in diagnostic.message
    assert "`approval`" not in diagnostic.message and "`pipeline`" not in diagnostic.message


# 2. A string left open.

@pytest.mark.parametrize("line, col", [('owner "abc', 9), ('description "abc', 15)])
def test_unclosed_string_is_named_at_its_quote(line: str, col: int) -> None:
    [diagnostic] = errors(in_pipeline(line))
    assert diagnostic.message == "this string is not closed (a string ends on the same line)"
    assert (diagnostic.span.line, diagnostic.span.col, diagnostic.span.end_col) == (2, col, col + 1)
    assert diagnostic.help == 'add the closing `"`'


def test_bad_escape_in_a_closed_string_is_named() -> None:
    [diagnostic] = errors(in_pipeline('description "a\\qb"'))
    assert diagnostic.message == "`\\q` is not an escape a string may hold"
    assert (diagnostic.span.col, diagnostic.span.end_col) == (17, 19)


# 3. Names: the grammar's NAME is [a-z_][a-z0-9_]*.

@pytest.mark.parametrize("line, word, col, hint", [
    ("source café {\n    owner t\n  }", "café", 10, "`cafe`"),
    ("source Café {\n    owner t\n  }", "Café", 10, "`cafe`"),
    ("owner Fraud_Team", "Fraud_Team", 9, "`fraud_team`"),
    ("owner ml_é", "ml_é", 9, "`ml_e`"),
    ("owner 名前", "名前", 9, None),
])
def test_name_outside_the_name_alphabet_says_what_a_name_is(
        line: str, word: str, col: int, hint: str | None) -> None:
    [diagnostic] = errors(in_pipeline(line))
    assert diagnostic.message == (f"`{word}` is not a valid name: names are lowercase ASCII "
                                  "letters, digits and `_`, not starting with a digit")
    assert (diagnostic.span.line, diagnostic.span.col, diagnostic.span.end_col) == \
        (2, col, col + len(word))
    if hint is None:
        assert diagnostic.help is None or "write it as" not in diagnostic.help
    else:
        assert diagnostic.help == f"write it as {hint}"


def test_map_key_outside_the_key_alphabet_can_be_quoted() -> None:
    [diagnostic] = errors(in_pipeline("train m {\n    params { café: 1 }\n  }"))
    assert diagnostic.message.startswith("`café` is not a valid key: keys are ASCII letters")
    assert diagnostic.help == 'write it as `cafe` or quote it: `"café"`'


def test_name_rule_matches_the_grammar() -> None:
    assert grammar().get_terminal("NAME").pattern.to_regexp() == "[a-z_][a-z0-9_]*"


# 4. A long token is cut in the message, not in the span.

@pytest.mark.parametrize("line", [
    "owner " + "a" * 100_000 + "B",
    "owner " + "a" * 100_000 + "é",
    "risk " + "x" * 100_000,
    "owner t " + "y" * 100_000,
])
def test_long_token_is_quoted_cut_short(line: str) -> None:
    [diagnostic] = errors(in_pipeline(line))
    assert len(diagnostic.message) < 200
    assert "…" in diagnostic.message
    assert diagnostic.help is None or len(diagnostic.help) < 200
    quoted = re.findall(r"`([^`]*)`", diagnostic.message)
    assert all(len(part) <= MAX_QUOTED for part in quoted)


# 5. Every broken statement of a line, not only the first.

@pytest.mark.parametrize("text, expected", [
    ("pipeline p {\n  split by random {\n    seed x; retries y\n  }\n}\n",
     [(3, 10, 11), (3, 21, 22)]),
    ("team t {\n  contact 3; role mll\n}\n", [(2, 11, 12), (2, 19, 22)]),
    ("team t { contact 3; role mll }\n", [(1, 18, 19), (1, 26, 29)]),
    ("team t { contact 3; role ml }; team u { role mll }\n", [(1, 18, 19), (1, 46, 49)]),
    ("pipeline p {\n  validate s {\n    drift mean(@) within 5x of baseline; require 3\n"
     "  }\n}\n", [(3, 16, 17), (3, 50, 51)]),
])
def test_each_statement_on_a_line_is_reported(text: str, expected: list) -> None:
    assert places(text) == expected


def test_second_error_wording_after_a_semicolon() -> None:
    first, second = errors("team t {\n  contact 3; role mll\n}\n")
    assert "after `contact`, found `3`" in first.message
    assert second.message.startswith("expected a role")
    assert second.message.endswith("after `role`, found `mll`")


def test_a_broken_block_header_still_takes_its_block_along() -> None:
    text = in_pipeline("source café {", "  owner t", "  from @", "}", "owner 3")
    assert places(text) == [(2, 10, 14), (6, 9, 10)]


def test_a_broken_list_line_does_not_swallow_the_file() -> None:
    text = in_pipeline("predicts(  future", "risk high", "owner 3")
    assert places(text) == [(2, 11, 12), (4, 9, 10)]


def test_at_most_max_syntax_errors() -> None:
    text = in_pipeline(*["retries x"] * (MAX_SYNTAX_ERRORS + 5))
    assert len(errors(text)) == MAX_SYNTAX_ERRORS


# 6. A `}` where a block's `{` belongs is one mistake.

def test_missing_open_brace_is_reported_once() -> None:
    [diagnostic] = errors("pipeline p }\n")
    assert diagnostic.message == "expected `{` after `p`, found `}`"
    assert (diagnostic.span.line, diagnostic.span.col) == (1, 12)


def test_missing_open_brace_of_a_stage_is_reported_once() -> None:
    text = in_pipeline("source s }", "owner 3")
    assert places(text) == [(2, 12, 13), (3, 9, 10)]


def test_stray_closing_braces_are_each_reported_and_parsing_goes_on() -> None:
    text = "pipeline p {\n  owner t\n}\n}\n}\nteam t { role mll }\n"
    assert places(text) == [(4, 1, 2), (5, 1, 2), (6, 15, 18)]


# 7. Literals with units.

@pytest.mark.parametrize("literal", ["4w", "30days", "1.5h", "1h4w"])
def test_unknown_duration_unit_names_the_units(literal: str) -> None:
    [diagnostic] = errors(in_label(f"window {literal}"))
    assert diagnostic.message == (
        f"`{literal}` is not a duration: a duration is a whole number with a unit "
        "(`ms`, `s`, `m`, `h` or `d`), such as `30d` or `1h30m`")
    assert (diagnostic.span.line, diagnostic.span.col, diagnostic.span.end_col) == \
        (3, 12, 12 + len(literal))


def test_unknown_size_unit_names_the_units() -> None:
    [diagnostic] = errors(in_pipeline("evaluate m {\n    size < 50mb\n  }"))
    assert diagnostic.message.startswith("`50mb` is not a size: a size is a number with a unit")
    assert "`MB`" in diagnostic.message and "`GiB`" in diagnostic.message


def test_unit_literal_where_any_value_goes_is_named_whole() -> None:
    [diagnostic] = errors(in_pipeline("train m {\n    params { a: 4w }\n  }"))
    assert diagnostic.message.startswith("expected ") and diagnostic.message.endswith(
        "found `4w`")


@pytest.mark.parametrize("terminal, units, wrong", [
    ("DURATION", DURATION_UNITS, ["1w", "1y", "1D"]),
    ("SIZE", SIZE_UNITS, ["1mb", "1kB", "1PB"]),
])
def test_listed_units_are_the_grammar_s(terminal: str, units: tuple, wrong: list) -> None:
    pattern = grammar().get_terminal(terminal).pattern.to_regexp()
    for unit in units:
        assert re.fullmatch(pattern, f"1{unit}"), unit
    for literal in wrong:
        assert not re.fullmatch(pattern, literal), literal


# Positions: 1-based code points, after tabs and multi-byte characters; never a crash.

def test_columns_count_code_points_after_tabs_and_multibyte_text() -> None:
    text = "pipeline p {\n\tlabel l {\n\t\tdescription \"é😀\"; window 4w; owner Café\n\t}\n}\n"
    assert places(text) == [(3, 28, 30), (3, 38, 42)]
    rendered = render_plain(errors(text), {"t.pipe": text})
    assert "--> t.pipe:3:28" in rendered and "--> t.pipe:3:38" in rendered


@pytest.mark.parametrize("text", [
    '"', "\x1b", "}", "{", "]", ")", ";", "pipeline", "pipeline p {", "pipeline p { owner \"",
    "pipeline p {\n  owner \"\\", "team t { role ml } }", "pipeline é }", "\t\x00\t",
    "pipeline p {\n  train m {\n    params { a: [1, @ }\n  }\n}\n",
    "pipeline p {\n  train m {\n    features [a, b, @\n  }\n}\n",
])
def test_hostile_text_gives_diagnostics_not_tracebacks(text: str) -> None:
    for diagnostic in errors(text):
        assert diagnostic.span.line >= 1 and diagnostic.span.col >= 1
        assert diagnostic.span.end_col > diagnostic.span.col or \
            diagnostic.span.end_line > diagnostic.span.line


@pytest.mark.parametrize(("line", "meant"), [
    ('sourc s { from csv "s.csv" }', "source"),
    ("evalute m { primary roc_auc >= 0.7 }", "evaluate"),
    ("ownr t", "owner"),
])
def test_a_misspelled_keyword_gets_a_did_you_mean(line: str, meant: str) -> None:
    [diagnostic] = errors(in_pipeline(line))
    assert diagnostic.help == f"did you mean `{meant}`?"


def test_a_word_near_no_keyword_gets_no_guess() -> None:
    [diagnostic] = errors(in_pipeline("zebra t"))
    assert diagnostic.help is None
