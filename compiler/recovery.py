"""Error recovery for the parser: what a Lark syntax error says (where it stopped, what
the parser accepts there), blanking the broken statement so the text can be parsed
again and every broken statement reported, with lines and columns unmoved, and parsing
the repaired text again from just before the change rather than from its start."""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from copy import copy
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Tree, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import LexerState, LexerThread, LineCounter
from lark.parsers.lalr_analysis import ParseTableBase, Shift
from lark.parsers.lalr_parser_state import ParserState
from pipec.comments import open_blocks, strip_comment


def error_pos(exc: UnexpectedInput) -> int:
    """Offset in the text of the character or token the parser stopped at."""
    if isinstance(exc, UnexpectedToken) and exc.token.start_pos is not None:
        return exc.token.start_pos
    return exc.pos_in_stream if exc.pos_in_stream is not None else 0


def expected_terminals(exc: UnexpectedInput) -> set[str]:
    """The terminals the parser accepts where it stopped. After an unexpected character
    this is asked of the parser, not taken from the lexer: the contextual lexer's state
    is shared by parser states and lists terminals that are not valid there."""
    if isinstance(exc, UnexpectedToken):
        return set(exc.accepts or exc.expected or ())
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        return set(interactive.accepts())
    return set(getattr(exc, "allowed", None) or ())


def at_end(exc: UnexpectedInput) -> bool:
    if isinstance(exc, UnexpectedEOF):
        return True
    token = getattr(exc, "token", None)
    return token is not None and token.type == "$END"


def blank_statement(text: str, exc: UnexpectedInput) -> str | None:
    """Blank the broken statement (and a block it opens) so parsing can go on: only the
    statement, so `seed x; retries y` still reports `y`. Line breaks are kept, and so
    every line and column."""
    if at_end(exc) or getattr(exc, "line", -1) < 1:
        return None
    brace = brace_on_next_line(text, exc)
    if brace is not None:
        return _brace_moved_up(text, error_pos(exc), brace)
    pos = error_pos(exc)
    if unclosed_before(text, exc) is not None and _indent(text, pos) >= 2:
        # `};` in the last two columns of the indentation: the block is closed, and
        # the declaration after it keeps its line and column.
        return text[:pos - 2] + "};" + text[pos:]
    start, opener, opened_on_line = _statement_start(text, pos)
    enclosing = opener or _enclosing_bracket(exc, opened_on_line)
    # A `}` where a block's `{` should be (`pipeline p }`) belongs to the mistake: kept,
    # it would close the enclosing block.
    skip = pos if text.startswith("}", pos) and _opens_block(exc) else -1
    end = max(_statement_end(text, start, enclosing, skip), pos)
    if not text[start:end].strip() and not text.startswith("\n", pos):
        end = pos + 1  # a `;` or `}` the parser refused where a statement starts
    if not text[start:end].strip():
        return None
    return text[:start] + _BLANKABLE.sub(" ", text[start:end]) + text[end:]


# The keywords that start a declaration: one of them where a statement of the block
# goes, at the start of a line, in a file with more `{` than `}`, is the next
# declaration after a block whose `}` was left out.
DECLARATION_KEYWORDS = frozenset({
    "import", "team", "checks", "gates", "pipeline", "source", "validate", "label",
    "features", "split", "train", "evaluate", "register", "deploy"})


def unclosed_before(text: str, exc: UnexpectedInput) -> int | None:
    """The line of the block whose `}` is missing, when the parser stopped at the next
    declaration because that block was never closed (`train m {` ... `evaluate m {`)."""
    if not isinstance(exc, UnexpectedToken) or exc.token.start_pos is None \
            or str(exc.token) not in DECLARATION_KEYWORDS \
            or "RBRACE" not in expected_terminals(exc):
        return None
    pos = exc.token.start_pos
    line_start = text.rfind("\n", 0, pos) + 1
    if text[line_start:pos].strip():
        return None
    # No string or comment spans a line break: the text above the line and the rest
    # are cleaned apart, and only the first is read for the block left open.
    before = _STRINGS_AND_COMMENTS.sub("", text[:line_start])
    rest = _STRINGS_AND_COMMENTS.sub("", text[line_start:])
    if before.count("{") + rest.count("{") <= before.count("}") + rest.count("}"):
        return None
    opened = _innermost_open_line(before)
    if opened is None:  # more `}` than `{` somewhere above: `open_blocks` has the last word
        opened_above = open_blocks(text[:line_start].split("\n"))
        opened = opened_above[-1] if opened_above else None
    return opened


# Strings (to their end or the end of their line) and comments: the braces left once
# they are taken out are the ones `comments.brace_delta` counts.
_STRINGS_AND_COMMENTS = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*')


def _innermost_open_line(code: str) -> int | None:
    """The line of the innermost `{` still open at the end of `code` (a text without
    strings or comments), reading its lines upwards from the end: usually only the
    lines of the block it ends in (read downwards from the top at each error at a
    declaration, the braces of a big file took longer than parsing all of it). Lines
    net their braces, as `comments.open_blocks` does; None when a `}` is left over,
    where `open_blocks` is the one to ask."""
    number = code.count("\n") + 1
    end = len(code)
    unmatched = 0  # `}` below, not yet matched by a `{` above
    while number >= 1:
        start = code.rfind("\n", 0, end) + 1
        delta = code.count("{", start, end) - code.count("}", start, end)
        if delta > unmatched:
            return number
        unmatched -= delta
        number, end = number - 1, start - 1
    return None


def _indent(text: str, pos: int) -> int:
    return pos - (text.rfind("\n", 0, pos) + 1)


_LEADING_BRACE = re.compile(r"[ \t]*\{")


def brace_on_next_line(text: str, exc: UnexpectedInput) -> int | None:
    """Offset of a block's `{` put at the start of the line after its header (the
    Allman style of C#, or of a user used to it) where the parser wanted it at the end
    of the header line, if that is the mistake."""
    if not isinstance(exc, UnexpectedToken) or exc.token.type != "_NL" \
            or not _opens_block(exc):
        return None
    brace = _LEADING_BRACE.match(text, error_pos(exc) + 1)
    return brace.end() - 1 if brace is not None else None


def _brace_moved_up(text: str, newline: int, brace: int) -> str:
    """The `{` at `brace` moved to the end of the header line ending at `newline` (before
    its comment): parsing goes on into the block, which blanking the header alone would
    have left as a stray `{` and a body of misplaced statements. Every token keeps its
    line and column; only the header line's comment moves right."""
    start = text.rfind("\n", 0, newline) + 1
    end = start + len(strip_comment(text[start:newline]).rstrip())
    return text[:end] + " {" + text[end:brace] + " " + text[brace + 1:]


def _opens_block(exc: UnexpectedInput) -> bool:
    """Whether the parser wanted a block's `{`; a `{` that opens a map value
    (`params { a: }`) comes with a list's `[`."""
    expected = expected_terminals(exc)
    return "LBRACE" in expected and "LSQB" not in expected


_STATEMENT_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|[\[\]{}();\n]')
_BLANKABLE = re.compile(r"[^\n]")
_CLOSES = {"}": "{", "]": "["}
# The parser-stack symbols that open a bracket a statement can sit in.
_OPENERS = {"_open": "{", "LBRACE": "{", "LSQB": "["}


def _statement_start(text: str, pos: int) -> tuple[int, str, int]:
    """Where the statement around `pos` starts on its line (after the last `;` outside
    parentheses, or the `{` or `[` still open before `pos`), that bracket ('' when the
    statement starts the line) and how many brackets are open on the line before `pos`.
    A `}` that a `[` cannot take makes the statement holding the `[` the broken one."""
    starts, parens = [(text.rfind("\n", 0, pos) + 1, "")], 0
    for token in _STATEMENT_TOKENS.finditer(text, starts[0][0], pos):
        char = token.group()
        if char in "{[":
            starts.append((token.end(), char))
        elif char in "}]" and len(starts) > 1:
            starts.pop()
        elif char in "}]" or (char == ";" and not parens):
            starts[-1] = (token.end(), starts[-1][1])
        elif char in "()":
            parens = max(parens + (1 if char == "(" else -1), 0)
    opened = len(starts) - 1
    closer = text[pos:pos + 1]
    while len(starts) > 1 and closer in _CLOSES and starts[-1][1] != _CLOSES[closer]:
        starts.pop()
    return starts[-1][0], starts[-1][1], opened


def _enclosing_bracket(exc: UnexpectedInput, opened_on_line: int) -> str:
    """The bracket (`{` or `[`, '' at the top level) the statement on the error's line
    sits in, read from the parser's stack: the `opened_on_line` innermost are skipped."""
    state = getattr(exc, "state", None)
    if state is None or not hasattr(state, "state_stack"):
        return "{"
    symbols = _accessing_symbols(state.parse_conf.parse_table)
    for number in reversed(state.state_stack):
        bracket = _OPENERS.get(symbols.get(number, ""))
        if bracket and opened_on_line == 0:
            return bracket
        opened_on_line -= 1 if bracket else 0
    return ""


@functools.cache
def _accessing_symbols(table: ParseTableBase) -> dict[int, str]:
    """LALR state -> the symbol shifted to enter it (one per state)."""
    return {target: symbol for actions in table.states.values()
            for symbol, (action, target) in actions.items() if action is Shift}


def _statement_end(text: str, start: int, enclosing: str, skip: int) -> int:
    """Where the statement from `start` ends: the next `;` or line break outside
    brackets, or the bracket closing the `enclosing` one. A block or map the statement
    opens goes with it, and so does a list that wraps after its `[`; a `(` or another
    `[` ends at the line break (a stray one must not swallow the rest of the file). A
    closing bracket that closes nothing (and the `}` at `skip`) is part of the mistake."""
    opened: list[str] = []
    for token in _STATEMENT_TOKENS.finditer(text, start):
        char = token.group()
        if char in "{[(":
            wraps = char == "{" or (char == "[" and _line_ends_at(text, token.end()))
            opened.append(char if wraps else "(")
        elif char in "}])":
            if opened:
                opened.pop()
            elif token.start() != skip and _ends_statement(char, enclosing):
                return token.start()
        elif char == "\n":
            while opened and opened[-1] == "(":
                opened.pop()
            if not opened:
                return token.start()
        elif char == ";" and not opened:
            return token.start()
    return len(text)


def _ends_statement(closer: str, enclosing: str) -> bool:
    return (closer == "}" and enclosing != "") or (closer == "]" and enclosing == "[")


def _line_ends_at(text: str, index: int) -> bool:
    """Nothing but blanks and a comment from `index` to the end of its line."""
    end = text.find("\n", index)
    return not strip_comment(text[index:end if end >= 0 else len(text)]).strip()


# A checkpoint is taken at the first line break after every this many characters: a
# repaired text is parsed again from at most about this far before its first change.
CHECKPOINT_EVERY = 2048


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    """The parser just after it shifted the line break ending at `pos`. A text that
    differs from the one parsed only from `pos` on parses on from here exactly as from
    its start: no token crosses a line break, and a line break's token looks no further.
    """
    pos: int
    line_ctr: LineCounter
    last_token: Token
    state_stack: tuple[Any, ...]
    value_stack: tuple[Any, ...]
    # Lark builds a left-recursive list (`a*`) by appending to the children of the tree
    # on its stack (`ChildFilterLALR`), so a tree saved here may grow after it was
    # saved: how many children each had is kept, and the rest cut off on resuming.
    sizes: tuple[int, ...]


class _CheckpointingThread(LexerThread):
    """The lexer, calling `on_line` after the parser has shifted each line break."""

    on_line: Callable[[ParserState, LexerState], None] | None = None

    def lex(self, parser_state: ParserState) -> Iterator[Token]:
        for token in super().lex(parser_state):
            yield token  # the parser asks for the next token once it has shifted this one
            if token.type == "_NL" and self.on_line is not None:
                self.on_line(parser_state, self.state)


class ResumableParser:
    """Parses a text, then each repaired version of it from the last checkpoint before
    its first change instead of from its start: recovering from K syntax errors costs
    about one parse of the file, not K. Every tree and error is the one `Lark.parse`
    gives for the same text, positions included. Built from the pieces of Lark's
    interactive LALR parser (`parse_interactive`): its parser, the state of its stacks
    and its lexer's position in the text."""

    def __init__(self, lark: Lark) -> None:
        start = lark.parse_interactive("")
        self._parser = start.parser
        self._conf = start.parser_state.parse_conf
        self._lexer = start.lexer_thread.lexer
        self._text = ""
        self._checkpoints: list[_Checkpoint] = []

    def parse(self, text: str) -> Tree:
        """The tree of `text`; raises what `Lark.parse` raises."""
        resume = self._resume_point(text)
        self._text = text
        thread = _CheckpointingThread.from_text(self._lexer, text)
        thread.on_line = self._checkpoint
        if resume is None:
            return self._parser.parse_from_state(ParserState(self._conf, thread))
        thread.state.line_ctr = copy(resume.line_ctr)
        thread.state.last_token = resume.last_token  # named by an error right after it
        state = ParserState(self._conf, thread, list(resume.state_stack), _values(resume))
        # `last_token` places the end of the text when nothing follows the checkpoint.
        return self._parser.parse_from_state(state, last_token=resume.last_token)

    def _resume_point(self, text: str) -> _Checkpoint | None:
        """The last checkpoint in the part `text` shares with the text parsed before;
        the ones after it saw text that has changed and are dropped."""
        unchanged = _common_prefix_length(self._text, text)
        del self._checkpoints[bisect_right(self._checkpoints, unchanged,
                                           key=lambda checkpoint: checkpoint.pos):]
        return self._checkpoints[-1] if self._checkpoints else None

    def _checkpoint(self, parser: ParserState, lexer: LexerState) -> None:
        pos = lexer.line_ctr.char_pos
        if pos - (self._checkpoints[-1].pos if self._checkpoints else 0) < CHECKPOINT_EVERY:
            return
        values = tuple(parser.value_stack)
        self._checkpoints.append(_Checkpoint(
            pos, copy(lexer.line_ctr), lexer.last_token, tuple(parser.state_stack), values,
            tuple(len(value.children) if isinstance(value, Tree) else -1 for value in values)))


def _values(checkpoint: _Checkpoint) -> list[Any]:
    """The checkpoint's value stack, each tree cut back to the children it had then."""
    return [type(value)(value.data, value.children[:size], value.meta)
            if size >= 0 and len(value.children) != size else value
            for value, size in zip(checkpoint.value_stack, checkpoint.sizes, strict=True)]


def _common_prefix_length(old: str, new: str) -> int:
    """How many characters `old` and `new` share from the start (halving the rest each
    step, so the comparisons add up to about the length of the text)."""
    same, limit = 0, min(len(old), len(new))
    while same < limit:
        step = max((limit - same) // 2, 1)
        if old[same:same + step] == new[same:same + step]:
            same += step
        else:
            limit = same + step - 1
    return same
