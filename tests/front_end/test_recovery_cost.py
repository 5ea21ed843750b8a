"""Syntax-error recovery parses each repaired text from a checkpoint shortly before the
statement it blanked, not from the start: a file with K errors costs about one parse,
not K, and the block whose `}` is missing is found without reading the whole file
each time. Checked by counting work (tokens the LALR parser is fed, lines read), never
by timing, and by comparing every diagnostic with the old recovery, which parsed the
whole text again after each error."""

from __future__ import annotations

import importlib.util
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lark import Lark, Token, Tree, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_parser_state import ParserState
from pipec import comments, parser, recovery
from pipec.diagnostics import Diagnostic
from pipec.parser import MAX_SYNTAX_ERRORS, grammar, parse_text
from pipec.recovery import ResumableParser, expected_terminals, unclosed_before

REPO = Path(__file__).resolve().parents[2]


def _generated(stages: int) -> str:
    spec = importlib.util.spec_from_file_location("gen_program", REPO / "tools" / "gen_program.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.program(stages)


# One mistake per kind of repair: a misspelt keyword, a word too many, a literal split
# in two, a stray character, a block's `{` on the next line (the repair moves it up,
# making the text longer), a second statement broken after a `;`, a block's `}` left
# out (the repair closes it), and a bad date that the tree builder reports after repair.
_MISTAKES: list[Callable[[str], str]] = [
    lambda view: view.replace("entity account_id", "entiy account_id"),
    lambda view: view.replace("time at\n", "time at at\n"),
    lambda view: re.sub(r"over (\d+)d", r"over \1 d", view),
    lambda view: view.replace("from events\n", "from events!\n"),
    lambda view: view.replace(" version 1 {\n", " version 1\n  {\n"),
    lambda view: view.replace("point_in_time\n", "point_in_time; seed x\n"),
    lambda view: view.replace("\n  }\n", "\n"),
    lambda view: view.replace("point_in_time\n",
                              "point_in_time\n    backfill 2026-02-30..2026-03-01\n"),
]
_VIEW = re.compile(r"\n  features view_\d+ version 1 \{\n.*?\n  \}\n", re.DOTALL)
_LEFT_OPEN = _MISTAKES[6]


def _with_mistakes(text: str, count: int,
                   mistakes: list[Callable[[str], str]] = _MISTAKES) -> str:
    """`text` with `count` feature views broken, spread evenly over the file."""
    views = list(_VIEW.finditer(text))
    step = len(views) // (count + 1)
    assert step > 0, "too few views for that many mistakes"
    chosen = {views[(i + 1) * step].start(): i for i in range(count)}
    return _VIEW.sub(lambda view: mistakes[chosen[view.start()] % len(mistakes)](view.group())
                     if view.start() in chosen else view.group(), text)


def _tokens_fed(monkeypatch: pytest.MonkeyPatch, text: str) -> tuple[int, list[Diagnostic]]:
    """How many tokens the LALR parser is fed while `text` is parsed, and what it says."""
    fed = 0
    feed = ParserState.feed_token

    def counted(state: ParserState, token: object, is_end: bool = False) -> object:
        nonlocal fed
        fed += 1
        return feed(state, token, is_end)

    with monkeypatch.context() as patched:
        patched.setattr(ParserState, "feed_token", counted)
        diagnostics = parse_text(text, "big.pipe").diagnostics
    return fed, diagnostics


class _WholeTextParser:
    """The old recovery, as the reference: each repaired text parsed from its start."""

    def __init__(self, lark: Lark) -> None:
        self._lark = lark

    def parse(self, text: str) -> Tree:
        return self._lark.parse(text)


def _reference(monkeypatch: pytest.MonkeyPatch, text: str, file: str) -> list[Diagnostic]:
    with monkeypatch.context() as patched:
        patched.setattr(parser, "ResumableParser", _WholeTextParser)
        return parse_text(text, file).diagnostics


@pytest.mark.parametrize("mistakes", [4, 20])
def test_recovering_from_errors_costs_about_one_parse(monkeypatch, mistakes) -> None:
    """K errors in a 600-stage file were K + 1 parses, each up to the next error (3 times
    the tokens of one parse for 4 errors, 11 times for 20); now each repaired text is
    parsed from a checkpoint at most `CHECKPOINT_EVERY` characters before its change."""
    clean = _generated(600)
    clean_fed, clean_diagnostics = _tokens_fed(monkeypatch, clean)
    assert clean_diagnostics == []
    fed, diagnostics = _tokens_fed(monkeypatch, _with_mistakes(clean, mistakes))
    assert len(diagnostics) == mistakes
    # Per error: the text from the checkpoint to the broken line, parsed again, and a
    # token per terminal to ask the parser what it accepts where it stopped.
    tokens_per_char = clean_fed / len(clean)
    per_error = tokens_per_char * (recovery.CHECKPOINT_EVERY + 200) + 100
    assert fed <= clean_fed + mistakes * per_error
    assert fed < 1.5 * clean_fed


@pytest.mark.parametrize("mistakes", [20, MAX_SYNTAX_ERRORS + 7])
def test_a_file_with_many_errors_says_what_parsing_the_whole_text_again_says(
        monkeypatch, mistakes) -> None:
    """Every kind of repair, with checkpoints between the mistakes and then right before
    each; 20 mistakes, 2 of them bad dates reported from the repaired tree, and more
    errors than are reported (the last one says more may follow, and no tree is built)."""
    broken = _with_mistakes(_generated(200), mistakes)
    expected = _reference(monkeypatch, broken, "big.pipe")
    assert len(expected) == min(mistakes, MAX_SYNTAX_ERRORS)
    assert ("more may follow" in (expected[-1].help or "")) == (mistakes > MAX_SYNTAX_ERRORS)
    assert parse_text(broken, "big.pipe").diagnostics == expected
    monkeypatch.setattr(recovery, "CHECKPOINT_EVERY", 1)  # a checkpoint after every line
    assert parse_text(broken, "big.pipe").diagnostics == expected


def test_blocks_left_open_are_found_without_reading_every_line_per_error(monkeypatch) -> None:
    """A block's `}` left out, ten times: finding the block still open read every line
    of the file with `brace_delta` twice per error (more time than parsing the file);
    now strings and comments are taken out by one regular expression and the lines
    are read upwards from the error, to the block it is in."""
    lines_read = 0
    brace_delta = comments.brace_delta

    def counted(line: str) -> int:
        nonlocal lines_read
        lines_read += 1
        return brace_delta(line)

    monkeypatch.setattr(comments, "brace_delta", counted)
    # Imported by name before: counted there too, where it still is.
    monkeypatch.setattr(recovery, "brace_delta", counted, raising=False)
    broken = _with_mistakes(_generated(300), 10, [_LEFT_OPEN])
    diagnostics = parse_text(broken, "big.pipe").diagnostics
    assert len(diagnostics) == 10
    assert all("is a `}` missing above?" in d.help for d in diagnostics)
    assert lines_read <= broken.count("\n") + 1  # not even one reading of the file


def test_a_surplus_close_brace_closes_every_open_block_and_no_more() -> None:
    """Three `}` on a line with two blocks open close both; the block opened after them
    is the only one open (it used to keep the first block, as if one `}` were lost)."""
    assert comments.open_blocks(["a {", "b {", "} } }"]) == []
    assert comments.open_blocks(["a {", "b {", "} } }", "c {"]) == [4]
    assert comments.open_blocks(["a { b { c {", "} } } } }", "d {", "e {", "}"]) == [3]


# Lines of braces, mostly, with strings, escapes and comments that hide some of them.
_BRACE_LINES = st.lists(
    st.lists(st.sampled_from(["{", "{", "}", "}", '"', "\\", "#", " a"]), max_size=6)
    .map("".join), max_size=12)


@settings(max_examples=500, deadline=None)
@given(_BRACE_LINES, st.integers(0, 12), st.sampled_from(["", "  "]))
@example(["{{", "}}}", "{{"], 2, "")  # a `}` too many above: no block is left open
def test_the_block_left_open_is_the_one_brace_delta_counts(lines, at, indent) -> None:
    """The open block found upwards from the error, with strings and comments taken
    out by a regular expression, is the one `comments.open_blocks` found reading every
    line from the top (and so is the file-wide count of braces)."""
    above = "".join(line + "\n" for line in lines[:at])
    text = above + indent + "train" + "".join("\n" + line for line in lines[at:])
    keyword = Token("TRAIN", "train", start_pos=len(above) + len(indent))
    opened = comments.open_blocks(above.split("\n"))
    left_open = sum(map(comments.brace_delta, text.split("\n"))) > 0
    expected = opened[-1] if opened and left_open else None
    assert unclosed_before(text, UnexpectedToken(keyword, {"RBRACE"})) == expected


_PIPELINE = """\
team t { contact "#t"; role ml }

pipeline p {
  owner t
  source s {
    from csv "s.csv"
    entity id
    time at
    schema { id: string; at: timestamp }
  }
  features f version 1 {
    from s
    columns [
      a, b,
      c
    ]
    feature n = count(id) over 7d
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    params { C: 1.0, penalty: "l2" }
  }
}
"""
_BREAKS = [" x", "!", "}", "{", "]", ";", "\n", "@@", " 30 d", ")", "\u201c", "#", "seed q; "]


@pytest.mark.parametrize("seed", range(12))
def test_random_mistakes_say_what_parsing_the_whole_text_again_says(monkeypatch, seed) -> None:
    """Mistakes anywhere (in lists, maps, schemas, on the first and last lines, several
    on one line): resuming from a checkpoint after every line reports what parsing the
    whole repaired text again reported."""
    rng = random.Random(seed)
    text = _PIPELINE
    for _ in range(rng.randint(2, 8)):
        at = rng.randrange(len(text) + 1)
        text = text[:at] + rng.choice(_BREAKS) + text[at + rng.choice([0, 0, 1, 3]):]
    expected = _reference(monkeypatch, text, "t.pipe")
    monkeypatch.setattr(recovery, "CHECKPOINT_EVERY", 1)
    assert parse_text(text, "t.pipe").diagnostics == expected


def _outcome(parse: Callable[[str], Tree], text: str) -> list[object]:
    """What parsing `text` gives, positions included: every node and token of the
    tree, or where the error is, what the parser stopped at and what it accepts."""
    def place(token: Token) -> tuple[object, ...]:
        return token.type, str(token), token.start_pos, token.line, token.column, token.end_pos

    try:
        tree = parse(text)
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        return [type(exc).__name__, exc.line, exc.column, exc.pos_in_stream,
                token is not None and place(token), sorted(expected_terminals(exc)),
                [place(t) for t in getattr(exc, "token_history", None) or ()],
                list(exc.state.state_stack)]
    return [(node.data, node.meta.line, node.meta.column, node.meta.end_line,
             node.meta.end_column) for node in tree.iter_subtrees()] \
        + [place(token) for token in tree.scan_values(lambda v: isinstance(v, Token))]


_EDITS: list[Callable[[str], str]] = [
    lambda text: text.replace("  owner t\n", "  owner t\n  retries 3\n"),  # a line more
    lambda text: text.replace("      c\n", "      c d\n"),  # inside a wrapped list
    lambda text: text.replace("  train m {", "@ train m {"),  # first column, at a checkpoint
    lambda text: text.replace("team t", "team  t"),  # on the first line
    lambda text: text.replace("C: 1.0", "C: 1.0,,"),
    lambda text: text + "  ",  # blanks after the last line break: no token left to read
]


@pytest.mark.parametrize("edit", _EDITS)
def test_a_changed_text_parses_on_from_a_checkpoint_as_from_its_start(monkeypatch,
                                                                      edit) -> None:
    """After a text is parsed, a changed version of it resumes from the last checkpoint
    before the change and gives what parsing it from the start gives (checkpoints after
    the change saw other text and must not be used), again after another change, and
    after a parse that stopped at the end of the text."""
    monkeypatch.setattr(recovery, "CHECKPOINT_EVERY", 1)
    unclosed = _PIPELINE.rstrip().removesuffix("}")
    for first in (_PIPELINE, unclosed):
        resumable = ResumableParser(grammar())
        _outcome(resumable.parse, first)
        changed = edit(first)
        assert changed != first
        assert _outcome(resumable.parse, changed) == _outcome(grammar().parse, changed)
        again = changed.replace("    time at\n", "    time at!\n")
        assert _outcome(resumable.parse, again) == _outcome(grammar().parse, again)
