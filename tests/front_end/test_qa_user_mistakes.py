"""QA of the front end as a user learning from the language reference meets it: the
mistakes such a user makes, and the formatter on the comments such a user writes.
One test (or one parametrized case) per defect found and fixed."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipec.check import compile
from pipec.diagnostics import Diagnostic
from pipec.fmt import format_module
from pipec.loader import Loader
from pipec.parser import parse_text
from support.pipe_strategies import programs
from support.programs import SMALL_PIPELINE, edited


def fmt(text: str) -> str:
    parsed = parse_text(text, "x.pipe")
    assert parsed.module is not None, parsed.diagnostics
    return format_module(parsed.module, text)


def syntax_errors(text: str) -> list[Diagnostic]:
    parsed = parse_text(text, "x.pipe")
    assert parsed.module is None
    assert {d.code for d in parsed.diagnostics} == {"P001"}
    return parsed.diagnostics


def only_syntax_error(text: str) -> Diagnostic:
    found = syntax_errors(text)
    assert len(found) == 1, found
    return found[0]


def check(text: str) -> list[Diagnostic]:
    path = REPO / "x.pipe"
    loader = Loader()
    loader.load_source(text, path.name, path)
    return compile(path, loader=loader).diagnostics


# ------------------------------------------------- fmt: comments that end a body

TEAM = 'team a { contact "x"; role ml }\n'


@pytest.mark.parametrize("text", [
    TEAM + "\n# the end of the file\n",
    TEAM + "\n\n\n# the end\n# of the file\n",
    "pipeline p {\n  owner a\n}\n\n# the end of the file\n",
    "pipeline p {\n  owner a\n\n  # the end of the block\n}\n",
    "pipeline p {\n  source s {\n    owner a\n  }\n\n  # the end of the block\n}\n",
    "pipeline p {\n  source s {\n    schema {\n      a: int\n\n      # no more\n    }\n"
    "  }\n}\n",
])
def test_fmt_keeps_the_blank_line_above_the_comments_that_end_a_body(text: str) -> None:
    """A standalone comment after the last declaration of the file (or the last
    statement of a block) lost the blank line above it: no statement followed it to
    bring one, so a closing note was glued to the code above."""
    once = fmt(text)
    blank_then_comment = [i for i, line in enumerate(once.split("\n"))
                          if line.strip().startswith("#") and i > 0
                          and once.split("\n")[i - 1] == ""]
    assert blank_then_comment, once
    assert "\n\n\n" not in once
    assert fmt(once) == once


@pytest.mark.parametrize("text", [
    TEAM + "# right below\n",
    "pipeline p {\n\n  # alone in the block\n}\n",
    "pipeline p {\n  owner a\n  # right below\n}\n",
])
def test_fmt_adds_no_blank_line_the_source_did_not_have(text: str) -> None:
    once = fmt(text)
    assert "\n\n" not in once, once
    assert fmt(once) == once


@st.composite
def commented_programs(draw: st.DrawFn) -> str:
    """A program with standalone comments and blank lines put between any two lines,
    at the end of blocks and of the file included."""
    lines = draw(programs()).rstrip("\n").split("\n")
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(lines)))
        extra = draw(st.sampled_from(["", "# note", "    # indented note", "\t# tab"]))
        lines.insert(at, extra)
    return "\n".join(lines) + draw(st.sampled_from(["\n", "\n\n# last\n", "\n\n"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commented_programs())
def test_fmt_is_idempotent_and_keeps_every_standalone_comment(text: str) -> None:
    before = parse_text(text, "x.pipe")
    assert before.module is not None, (text, before.diagnostics)
    once = format_module(before.module, text)
    after = parse_text(once, "x.pipe")
    assert after.module is not None, (once, after.diagnostics)
    assert after.module.items == before.module.items
    assert [c.text.rstrip() for c in after.module.comments] == [
        c.text.rstrip() for c in before.module.comments]
    assert format_module(after.module, once) == once


# --------------------------------------------------------- syntax: where and what

def test_an_unclosed_block_is_found_past_an_escaped_quote() -> None:
    """A `\\"` ended the string when counting braces, so a `}` inside the string closed
    the block: a missing `}` was "unexpected end of the file", naming no block."""
    text = ('pipeline p {\n  source s {\n    from csv "a\\"}.csv"\n  }\n')
    error = only_syntax_error(text)
    assert error.message == ("expected `}` to close the block opened on line 1, "
                             "found the end of the file")


@pytest.mark.parametrize("header", ["register m", "register m  # promote", "split by time on at"])
def test_a_brace_on_the_next_line_is_one_error_with_its_fix(header: str) -> None:
    """`register m` then `{` on the next line (C#'s layout) gave a second error at the
    `{`, and the block's body was read as misplaced statements."""
    text = f"pipeline p {{\n  {header}\n  {{\n    owner ml\n  }}\n}}\n"
    error = only_syntax_error(text)
    code_end = len(header.split("#")[0].rstrip()) + 3
    assert (error.span.line, error.span.col) == (2, code_end)
    assert error.help == "a block's `{` goes at the end of its header line, not on the next line"


def test_a_line_that_ends_too_soon_is_reported_before_its_comment() -> None:
    """The caret pointed past the comment, and the message quoted the comment's last
    word: "expected a duration such as `30d` after `days`"."""
    error = only_syntax_error("pipeline p {\n  label l {\n    window  # thirty days\n  }\n}\n")
    assert error.message == ("expected a duration such as `30d` after `window`, "
                             "found the end of the line")
    assert (error.span.line, error.span.col) == (3, 11)


@pytest.mark.parametrize(("line", "col", "help_text"), [
    ("window 30 d", 12, "a duration is one word: write `30d`"),
    ("window 30 days", 12, "a duration is one word: write `30d`"),
    ("known_after 2 hours", 17, "a duration is one word: write `2h`"),
])
def test_a_number_and_its_unit_written_apart_get_the_joined_literal(
        line: str, col: int, help_text: str) -> None:
    error = only_syntax_error(f"pipeline p {{\n  label l {{\n    {line}\n  }}\n}}\n")
    assert error.span.col == col
    assert error.help == help_text


def test_a_size_written_apart_gets_the_joined_literal() -> None:
    error = only_syntax_error("pipeline p {\n  evaluate m {\n    size <= 50 MB\n  }\n}\n")
    assert error.help == "a size is one word: write `50MB`"


@pytest.mark.parametrize(("written", "meant"), [("=>", ">="), ("=<", "<=")])
def test_a_comparison_written_backwards_is_named(written: str, meant: str) -> None:
    error = only_syntax_error(f"pipeline p {{\n  evaluate m {{ primary f1 {written} 0.5 }}\n}}\n")
    assert error.help == f"did you mean `{meant}`?"


def test_a_single_quoted_string_is_named_with_the_double_quoted_fix() -> None:
    error = only_syntax_error("pipeline p {\n  source s { from csv 'data/a b.csv' }\n}\n")
    assert error.message == "a string is written in double quotes, not single quotes"
    assert (error.span.col, error.span.end_col) == (23, 37)
    assert error.help == 'write `"data/a b.csv"`'


def test_an_unquoted_path_gets_the_quoted_fix() -> None:
    error = only_syntax_error("pipeline p {\n  source s { from parquet data/t.parquet }\n}\n")
    assert error.help == 'write it in double quotes: `"data/t.parquet"`'


# ------------------------------------------------------------- checks: names

@pytest.mark.parametrize(("old", "new", "meant"), [
    ("  validate ev {", "  validate evs {", "ev"),
    ("features h version 1 { from ev;", "features h version 1 { from evs;", "ev"),
])
def test_a_misspelt_reference_suggests_the_declared_name(old: str, new: str,
                                                         meant: str) -> None:
    found = [d for d in check(edited(SMALL_PIPELINE, (old, new))) if d.code == "T001"]
    assert len(found) == 1 and found[0].help == f"did you mean `{meant}`?", found


def test_a_reference_far_from_every_name_suggests_declaring_it() -> None:
    text = edited(SMALL_PIPELINE, ("  evaluate m {", "  evaluate churn_model {"))
    found = [d for d in check(text) if d.code == "T001"]
    assert found[0].help == "declare `train churn_model { ... }` or fix the name"


def test_a_feature_defined_twice_is_reported_once() -> None:
    """Two `feature a7 = ...` in one view were two P003 at one place: "defined twice"
    and "is the examples column `h__a7`, as is the feature at ...", the same mistake."""
    text = edited(SMALL_PIPELINE, ("feature a7 = mean(amount) over 7d",
                                   "feature a7 = mean(amount) over 7d; "
                                   "feature a7 = sum(amount) over 7d"))
    found = [d for d in check(text) if d.code == "P003"]
    assert [d.message for d in found] == [
        "feature `a7` is defined twice in feature view `h` (first at x.pipe:8:78)"]


def test_a_column_and_a_feature_of_one_name_in_a_view_still_collide() -> None:
    text = edited(SMALL_PIPELINE, ("feature a7 = mean(amount) over 7d",
                                   "feature amount = mean(amount) over 7d; columns [amount]"))
    found = [d for d in check(text) if d.code == "P003"]
    assert len(found) == 1 and "examples column `h__amount`" in found[0].message


def test_the_examples_are_still_clean() -> None:
    for path in (REPO / "examples").glob("*/*.pipe"):
        assert not [d for d in compile(Path(path)).diagnostics if d.severity.name == "ERROR"]


def test_a_block_left_open_is_named_at_the_next_declaration() -> None:
    """A train stage missing its `}` gave one error per later stage ("expected one of
    `description`, ..., found `evaluate`", then `register`, `deploy`) and a last one
    naming the pipeline's line as the block left open: none named the train stage."""
    text = SMALL_PIPELINE.replace(
        '  train m { model "sklearn.linear_model.LogisticRegression"; seed 1 }\n',
        '  train m {\n    model "sklearn.linear_model.LogisticRegression"\n    seed 1\n\n')
    error = only_syntax_error(text)
    assert (error.span.line, error.span.col) == (14, 3)
    assert error.help == ("is a `}` missing above? `train m` on line 10 is still open, and "
                          "`evaluate` cannot go inside it")


def test_a_stage_nested_on_purpose_is_not_taken_for_a_missing_brace() -> None:
    text = SMALL_PIPELINE.replace("  train m {",
                                  "  train m {\n    evaluate x { primary f1 >= 0.5 }\n")
    error = only_syntax_error(text)
    assert error.span.line == 11 and "missing" not in (error.help or "")
