"""`pipec fmt` never changes what `pipec check` reports, and suppressions cover whole
statements (a multi-line `params { ... }`, a block with its body)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pipec.check import compile
from pipec.comments import strip_comment
from pipec.diagnostics import Diagnostic
from pipec.fmt import format_module
from pipec.loader import Loader
from pipec.parser import parse_text
from support.pipe_strategies import NAMES, values
from support.programs import SMALL_PIPELINE

FIXTURES = REPO / "tests" / "fixtures" / "rules"
FILES = sorted(FIXTURES.glob("*.pipe")) + sorted(EXAMPLES.rglob("*.pipe")) \
    + sorted((REPO / "stdlib").rglob("*.pipe"))

BASE = SMALL_PIPELINE
VALIDATE = "  validate ev { require id }\n"
TRAIN = '  train m { model "sklearn.linear_model.LogisticRegression"; seed 1 }\n'
URL = '"postgresql://bob:hunter2@db/x"'


def fmt(text: str) -> str:
    result = parse_text(text, "x.pipe")
    assert result.module is not None, result.diagnostics
    return format_module(result.module, text)


def check(text: str, path: Path = REPO / "x.pipe") -> list[Diagnostic]:
    """The diagnostics of `text` as if it were the file at `path` (its imports resolve)."""
    loader = Loader()
    loader.load_source(text, path.name, path)
    return compile(path, loader=loader).diagnostics


def codes(text: str) -> list[str]:
    return sorted(d.code for d in check(text))


def _key(diagnostic: Diagnostic, text: str) -> tuple[str, str, str, str]:
    """A diagnostic modulo line shifts: its code, message (numbers and line ranges
    blanked) and the statement text it points at (up to a `;` or `{`, whitespace
    squeezed)."""
    line = text.split("\n")[diagnostic.span.line - 1]
    span = diagnostic.span
    snippet = line[span.col - 1:span.end_col - 1 if span.end_line == span.line else None]
    snippet = " ".join(re.split(r"[;{]", snippet)[0].split())
    message = re.sub(r"\d+", "N", re.sub(r"\blines? \d+(-\d+)?", "line N", diagnostic.message))
    return (diagnostic.code, str(diagnostic.severity), message, snippet)


def assert_fmt_keeps_checks(text: str, path: Path = REPO / "x.pipe") -> str:
    formatted = fmt(text)
    before = sorted(_key(d, text) for d in check(text, path))
    after = sorted(_key(d, formatted) for d in check(formatted, path))
    assert after == before, formatted
    assert fmt(formatted) == formatted
    return formatted


# ------------------------------------------------ A: a one-line block fmt expands

def test_suppression_on_a_one_line_block_survives_fmt() -> None:
    text = BASE.replace(VALIDATE, "  validate ev { require id; on_failure warn }  "
                                  "# pipec: ignore[VAL001] advisory feed\n")
    assert codes(text) == []
    formatted = assert_fmt_keeps_checks(text)
    assert "  validate ev {  # pipec: ignore[VAL001] advisory feed\n    require id\n" \
        in formatted
    assert codes(formatted) == []


def test_plain_comment_on_a_one_line_block_goes_to_its_header() -> None:
    formatted = fmt(BASE.replace(VALIDATE, "  validate ev { require id }  # the feed\n"))
    assert "  validate ev {  # the feed\n    require id\n  }\n" in formatted


def test_comment_on_a_header_line_shared_with_the_body_stays_on_the_header() -> None:
    text = BASE.replace(VALIDATE, "  validate ev { require id  # pipec: ignore[VAL001] r\n"
                                  "    on_failure warn }\n")
    assert codes(text) == []
    assert "  validate ev {  # pipec: ignore[VAL001] r\n" in assert_fmt_keeps_checks(text)


def test_suppression_on_a_line_of_several_statements_keeps_them_together() -> None:
    text = BASE.replace(VALIDATE, "  validate ev {\n    require id; on_failure warn  "
                                  "# pipec: ignore[VAL001] r\n  }\n")
    assert codes(text) == []
    formatted = assert_fmt_keeps_checks(text)
    assert "    require id; on_failure warn  # pipec: ignore[VAL001] r\n" in formatted
    # Above the line, likewise.
    text = BASE.replace(VALIDATE, "  validate ev {\n    # pipec: ignore[VAL001] r\n"
                                  "    require id; on_failure warn\n  }\n")
    assert codes(text) == []
    assert "    require id; on_failure warn\n" in assert_fmt_keeps_checks(text)


def test_suppression_above_a_block_covers_its_body() -> None:
    text = BASE.replace(VALIDATE, "  # pipec: ignore[VAL001] advisory feed\n"
                                  "  validate ev {\n    require id\n    on_failure warn\n  }\n")
    assert codes(text) == []
    assert_fmt_keeps_checks(text)


# ---------------------------------------------------- B: comments inside a map

def test_comments_inside_a_map_stay_with_their_entries() -> None:
    text = BASE.replace(TRAIN, '  train m {\n    model "sklearn.linear_model.LogisticRegression"\n'
                               "    seed 1\n    params {\n"
                               "      # regularisation\n"
                               "      C: 0.5,  # tuned on the 2025 data\n"
                               "      solver: \"lbfgs\",\n"
                               "      class_weight: { yes: 2, no: 1 }  # rare positives\n"
                               "    }  # from the sweep\n  }\n")
    formatted = assert_fmt_keeps_checks(text)
    assert ("    params {\n      # regularisation\n      C: 0.5  # tuned on the 2025 data\n"
            '      solver: "lbfgs"\n      class_weight: { yes: 2, no: 1 }  # rare positives\n'
            "    }  # from the sweep\n") in formatted
    assert parse_text(formatted, "x.pipe").module.items == parse_text(text, "x.pipe").module.items


def test_a_comment_inside_a_nested_map_or_list_spreads_it() -> None:
    text = BASE.replace(TRAIN, "  train m {\n    params { depth: 3,\n grid: [1,\n 2,  # small\n"
                               " 3], seed: 1 }\n  }\n")
    formatted = assert_fmt_keeps_checks(text)
    assert "    params {\n      depth: 3\n      grid: [\n        1\n        2  # small\n" \
           "        3\n      ]\n      seed: 1\n    }\n" in formatted
    # A comment on the line a statement starts on goes with the statement.
    assert "    params {  # small\n      grid: [1, 2]\n" in fmt(
        BASE.replace(TRAIN, "  train m {\n    params { grid: [1,  # small\n 2] }\n  }\n"))


def test_a_map_without_inner_comments_stays_on_one_line() -> None:
    text = BASE.replace(TRAIN, "  train m {\n    params {\n      C: 0.5\n    }  # tuned\n  }\n")
    assert "    params { C: 0.5 }  # tuned\n" in fmt(text)


def test_comments_inside_a_wrapped_feature_list_stay_with_their_entries() -> None:
    text = BASE.replace(TRAIN, "  train m {\n    features [a7,  # the weekly mean\n"
                               "      h.*]\n  }\n")
    assert "    features [  # the weekly mean\n      a7\n      h.*\n    ]\n" in fmt(text)
    text = BASE.replace(TRAIN, "  train m {\n    features [\n      a7,\n      # all of them\n"
                               "      h.*  # the view\n    ]\n  }\n")
    assert "    features [\n      a7\n      # all of them\n      h.*  # the view\n    ]\n" \
        in assert_fmt_keeps_checks(text)


@st.composite
def wrapped(draw: st.DrawFn, depth: int = 0) -> str:
    """A map or list over several lines, with comments between and after its entries."""
    is_map = draw(st.booleans())
    inner = st.one_of(values(1), wrapped(depth + 1)) if depth < 2 else values(1)
    entries = draw(st.lists(st.tuples(NAMES, inner), max_size=3))
    body = draw(st.sampled_from(["", "\n", "  # open\n"]))
    for index, (key, value) in enumerate(entries):
        body += f"{key}: {value}" if is_map else value
        body += draw(st.sampled_from([", ", ",\n", "\n", ",  # c\n", "  # d\n", ",\n  # s\n  "])
                     if index < len(entries) - 1 else st.sampled_from(["", "\n", "  # e\n"]))
    return "{" + body + "}" if is_map else "[" + body + "]"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wrapped().filter(lambda v: v.startswith("{")), wrapped().filter(lambda v: v.startswith("[")),
       st.sampled_from(["", "  # after", "; seed 1", "; seed 1  # x"]))
def test_wrapped_maps_and_lists_keep_their_comments(params: str, holdout: str, after: str) -> None:
    text = (f"pipeline p {{\n  split by market {{ holdout {holdout} }}\n  train m {{\n"
            f"    params {params}{after}\n  }}\n}}\n")
    before = parse_text(text, "x.pipe").module
    assert before is not None, text
    once = fmt(text)
    after_fmt = parse_text(once, "x.pipe").module
    assert after_fmt is not None and after_fmt.items == before.items, once
    assert fmt(once) == once
    assert [c.text for c in after_fmt.comments] == [c.text for c in before.comments], once


# --------------------------------------------- C: continuation lines are covered

def _params(comment_above: str = "", on_open: str = "", on_url: str = "",
            on_close: str = "") -> str:
    return BASE.replace(TRAIN, '  train m {\n    model "sklearn.linear_model.LogisticRegression"\n'
                               f"    seed 1\n{comment_above}    params {{{on_open}\n"
                               f"      url: {URL},{on_url}\n      retries: 2\n"
                               f"    }}{on_close}\n  }}\n")


@pytest.mark.parametrize("where", ["comment_above", "on_open", "on_url", "on_close"])
def test_suppression_covers_a_multi_line_statement(where: str) -> None:
    comment = "# pipec: ignore[SEC001] a throwaway test database"
    assert codes(_params()) == ["SEC001"]
    text = _params(**{where: f"    {comment}\n" if where == "comment_above" else f"  {comment}"})
    assert codes(text) == []
    assert codes(assert_fmt_keeps_checks(text)) == []


def test_suppression_where_a_wrapped_map_and_its_stage_close_stays_on_the_map() -> None:
    # `pipec check` reads the comment as on the `params` it ends; given to the stage's
    # `}`, it covered nothing and fmt brought SEC001 back.
    text = BASE.replace(TRAIN, '  train m { model "sklearn.linear_model.LogisticRegression"\n'
                               f"    params {{ retries: 2,\n      url: {URL} }} }}  "
                               "# pipec: ignore[SEC001] a throwaway test database\n")
    assert "SEC001" not in codes(text)
    formatted = assert_fmt_keeps_checks(text)
    assert f"    params {{ retries: 2, url: {URL} }}  # pipec: ignore[SEC001] a throwaway" \
        in formatted


def test_suppression_where_a_wrapped_map_ends_and_a_statement_starts_covers_both() -> None:
    # The comment covers the `params` it ends and the `seed` after it: on one line each,
    # it could stay with one of them only.
    text = BASE.replace(TRAIN, '  train m { model "sklearn.linear_model.LogisticRegression"\n'
                               f"    params {{ retries: 2,\n      url: {URL} }}; seed 1  "
                               "# pipec: ignore[SEC001] a throwaway test database\n  }\n")
    assert "SEC001" not in codes(text)
    formatted = assert_fmt_keeps_checks(text)
    assert f"    params {{ retries: 2, url: {URL} }}; seed 1  # pipec: ignore[SEC001]" \
        in formatted


@st.composite
def wrapped_params(draw: st.DrawFn) -> str:
    """A train stage whose `params` (holding a password in a URI, SEC001) wraps over
    lines, followed on its last line by nothing, the stage's `}` or a statement, with a
    suppression of SEC001 at the end of one of its lines or above it."""
    pairs = ["retries: 2", f"url: {URL}", "depth: 3"][:draw(st.integers(1, 3))]
    pieces = ["params {"] + [p + ("," if i < len(pairs) - 1 else "") for i, p in enumerate(pairs)]
    lines, current = [], ""
    for piece in pieces:  # each piece ends the line or not
        current += (" " if current else "") + piece
        if draw(st.booleans()):
            lines.append(current)
            current = ""
    lines.append(current + " }" + draw(st.sampled_from(["", "; seed 1", " }", "; seed 1 }"])))
    suppression = "# pipec: ignore[SEC001] a throwaway test database"
    where = draw(st.integers(-1, len(lines) - 1))
    if where < 0:
        lines.insert(0, suppression)
    else:
        lines[where] += f"  {suppression}"
    closed = lines[-1].split("#")[0].rstrip().endswith("} }")
    return ('  train m { model "sklearn.linear_model.LogisticRegression"\n'
            + "".join(f"    {line}\n" for line in lines) + ("" if closed else "  }\n"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wrapped_params())
def test_a_suppression_on_a_wrapped_map_keeps_covering_it(train: str) -> None:
    text = BASE.replace(TRAIN, train)
    assume(parse_text(text, "x.pipe").module is not None)
    assert "SEC001" not in codes(text)
    assert_fmt_keeps_checks(text)


def test_unused_suppression_of_a_multi_line_statement_names_its_lines() -> None:
    text = _params(comment_above="    # pipec: ignore[LEAK004] r\n")
    messages = [d.message for d in check(text) if d.code == "SUP001"]
    assert messages == ["the suppression of LEAK004 suppresses nothing: no LEAK004 is "
                        "reported on lines 14-17"]


def test_suppression_does_not_reach_the_next_statement() -> None:
    text = _params(comment_above="    # pipec: ignore[SEC001] r\n    retries 2\n")
    assert codes(text) == ["SEC001", "SUP001"]


# -------------------------------------------- every fixture and example file

@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_fmt_keeps_the_checks_of(path: Path) -> None:
    text = path.read_text("utf-8")
    if parse_text(text, path.name).module is not None:  # fmt leaves the rest untouched
        assert_fmt_keeps_checks(text, path)


BLOCK = re.compile(r"^\s*(team|pipeline|source|validate|label|features|split|train|evaluate|"
                   r"register|deploy|checks|gates|schema)\b")


def _compact(lines: list[str], start: int) -> list[str]:
    """The block starting at line index `start` written on one line, its one comment (if
    any) at the end; unchanged when that is not possible."""
    depth, end, comments, pieces = 0, start, [], []
    for end in range(start, len(lines)):
        code = strip_comment(lines[end])
        if lines[end][len(code):].strip():
            if not code.strip():
                return lines  # a comment line inside: it would swallow the rest
            comments.append(lines[end][len(code):].strip())
        if code.strip():
            pieces.append(code.strip())
        depth += code.count("{") - code.count("}")
        if depth <= 0:
            break
    if depth != 0 or len(comments) > 1 or end == start:
        return lines
    joined = pieces[0]
    for piece in pieces[1:]:
        joined += " " if joined.endswith(("{", ",")) or piece.startswith("}") else "; "
        joined += piece
    indent = lines[start][:len(lines[start]) - len(lines[start].lstrip())]
    return lines[:start] + [indent + joined + ("  " + comments[0] if comments else "")] \
        + lines[end + 1:]


@st.composite
def variants(draw: st.DrawFn) -> tuple[Path, str]:
    """A rule fixture with its `# CODE` markers made suppressions (on the line or above
    it) or left alone, some lists wrapped and closing braces pulled up, some of its
    blocks written on one line and some statements joined on a line."""
    path = draw(st.sampled_from([p for p in FILES if p.parent == FIXTURES
                                 and not p.name.startswith("P00")]))
    lines = path.read_text("utf-8").split("\n")
    marker = re.compile(r"#\s*([A-Z]+\d{3})\s*$")
    for index in reversed(range(len(lines))):
        found = marker.search(lines[index])
        how = draw(st.sampled_from(["keep", "on", "above"])) if found else "keep"
        if found and how != "keep":
            suppression = f"# pipec: ignore[{found.group(1)}] reviewed"
            code = lines[index][:found.start()].rstrip()
            if how == "on":
                lines[index] = f"{code}  {suppression}"
            else:
                indent = code[:len(code) - len(code.lstrip())]
                lines[index:index + 1] = [indent + suppression, code]
    # Some lists wrapped after their first item, some closing braces pulled up onto the
    # line above (`dep_delay] }  # pipec: ignore[...]`).
    wraps = [i for i, line in enumerate(lines) if _wrappable(line) is not None]
    for index in sorted(draw(st.lists(st.sampled_from(wraps), unique=True)) if wraps else [],
                        reverse=True):
        lines[index:index + 1] = _wrap(lines[index])
    ups = [i for i in range(1, len(lines)) if _pullable(lines[i - 1], lines[i])]
    for index in sorted(draw(st.lists(st.sampled_from(ups), unique=True)) if ups else [],
                        reverse=True):
        code, comment = _code_and_comment(lines[index - 1])
        lines[index - 1:index + 1] = [f"{code} }}" + (f"  {comment}" if comment else "")]
    starts = [i for i, line in enumerate(lines) if BLOCK.match(strip_comment(line))
              and strip_comment(line).rstrip().endswith("{")]
    for start in sorted(draw(st.lists(st.sampled_from(starts), unique=True)) if starts else [],
                        reverse=True):
        lines = _compact(lines, start)
    # Some statements joined with the next one (`owner ml; on_failure block`).
    joins = [i for i in range(len(lines) - 1) if _plain(lines[i]) and _plain(lines[i + 1], True)]
    for index in sorted(draw(st.lists(st.sampled_from(joins), unique=True)) if joins else [],
                        reverse=True):
        lines[index:index + 2] = [lines[index].rstrip() + "; " + lines[index + 1].strip()]
    return path, "\n".join(lines)


def _code_and_comment(line: str) -> tuple[str, str]:
    code = strip_comment(line)
    return code.rstrip(), line[len(code):].strip()


def _wrappable(line: str) -> int | None:
    """Where a one-line list (`features [a, b]`, `holdout [...]`) may wrap: after its
    first comma."""
    code, _ = _code_and_comment(line)
    opening = code.find("[")
    comma = code.find(",", opening) if opening >= 0 else -1
    return comma if comma >= 0 and '"' not in code[opening:comma] else None


def _wrap(line: str) -> list[str]:
    code, comment = _code_and_comment(line)
    comma = _wrappable(line)
    assert comma is not None
    rest = code[comma + 1:].strip() + (f"  {comment}" if comment else "")
    return [code[:comma + 1], "      " + rest]


def _pullable(above: str, line: str) -> bool:
    """A lone `}` without a comment that may join the statement above it."""
    code, comment = _code_and_comment(line)
    above_code, _ = _code_and_comment(above)
    return code.strip() == "}" and not comment and bool(above_code.strip()) \
        and not above_code.endswith("{")


def _plain(line: str, comment: bool = False) -> bool:
    """A line of statements (no braces), with no comment unless `comment`."""
    code = strip_comment(line)
    return bool(code.strip()) and "{" not in code and "}" not in code \
        and (comment or code == line)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variants())
def test_fmt_keeps_the_checks_of_suppressed_and_compacted_fixtures(
        variant: tuple[Path, str]) -> None:
    path, text = variant
    original = parse_text(path.read_text("utf-8"), path.name).module
    parsed = parse_text(text, path.name).module
    assume(parsed is not None and original is not None and parsed.items == original.items)
    formatted = assert_fmt_keeps_checks(text, path)
    assert [c.text.rstrip() for c in parse_text(formatted, path.name).module.comments] == [
        c.text.rstrip() for c in parsed.comments]
