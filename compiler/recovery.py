"""Error recovery for the parser: what a Lark syntax error says (where it stopped, what
the parser accepts there), and blanking the broken statement so the text can be parsed
again and every broken statement reported, with lines and columns unmoved."""

from __future__ import annotations

import functools
import re

from lark import UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_analysis import ParseTableBase, Shift
from pipec.comments import brace_delta, open_blocks, strip_comment


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
    if text[line_start:pos].strip() or sum(map(brace_delta, text.split("\n"))) <= 0:
        return None
    opened = open_blocks(text[:line_start].split("\n"))
    return opened[-1] if opened else None


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
