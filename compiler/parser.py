"""Text -> typed AST, with every syntax error reported (not just the first).

The grammar is loaded once (LALR, contextual lexer, positions, cached). After a
syntax error the offending statement is blanked out (keeping line numbers; see
`pipec.recovery`) and the text is parsed again, so one file yields one P001 per broken
statement; `pipec.syntax_errors` words what was expected. Each repaired text is parsed
from a checkpoint shortly before the blanked statement, not from the start, so a big file
with many errors takes about as long as one parse.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, replace
from importlib import resources

from lark import Lark, UnexpectedInput, UnexpectedToken
from pipec import nodes as n
from pipec.comments import open_blocks, scan_comments, strip_comment
from pipec.diagnostics import Diagnostic, error
from pipec.perf import gc_paused
from pipec.recovery import (
    ResumableParser,
    at_end,
    blank_statement,
    brace_on_next_line,
    error_pos,
    expected_terminals,
    unclosed_before,
)
from pipec.syntax_errors import (
    closest_keyword,
    describe_expected,
    describe_prefix,
    lexical_problem,
    previous_word,
    quote,
    reversed_comparison,
    spaced_duration,
    spaced_unit,
    split_word,
    unquoted_string,
    unusual_character,
)
from pipec.transform import ToAst

MAX_SYNTAX_ERRORS = 25
# Deeper lists and maps are refused before parsing: every later stage (the AST builder,
# fmt, the manifest, the backends) walks values recursively and would overflow the stack.
MAX_NESTING = 64
_NESTING_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|[\[\]{}()]')
_UNICODE_WORD = re.compile(r"\w+")


@functools.cache
def grammar() -> Lark:
    text = resources.files("pipec.grammar").joinpath("pipe.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=True, cache=True)


@dataclass(frozen=True)
class ParseResult:
    module: n.Module | None
    diagnostics: list[Diagnostic]
    text: str


def _more_may_follow(last: Diagnostic) -> Diagnostic:
    """The last syntax error reported, saying that reporting stopped there."""
    stopped = (f"pipec reports the first {MAX_SYNTAX_ERRORS} syntax errors of a file; more "
               "may follow: fix these and check again")
    return replace(last, help=f"{last.help}; {stopped}" if last.help else stopped)


def decode(data: bytes, file: str) -> tuple[str | None, list[Diagnostic]]:
    """Bytes -> text; invalid UTF-8 is P001 at the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Columns count from after a BOM, as in a file that decodes (which drops it).
        before = data[:exc.start].removeprefix(b"\xef\xbb\xbf")
        before = before.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", errors="replace")) + 1
        span = n.Span(file, line, col, line, col + 1)
        return None, [error("P001", f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                            span, "save the file as UTF-8")]
    return text.removeprefix("\ufeff"), []


def normalize_newlines(text: str) -> str:
    """CRLF (Windows) and a lone CR (classic Mac OS) as LF. Every line number counts
    lines this way; left alone, a lone CR would end no line, and a comment on the first
    line would swallow the whole file, which then checked clean."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_text(text: str, file: str) -> ParseResult:
    # Paused here too, not only around `compile`: `pipec fmt` parses without compiling,
    # and collections walking the growing tree made it 13x slower per 10x more stages.
    with gc_paused():
        return _parse_text(text, file)


def _parse_text(text: str, file: str) -> ParseResult:
    diagnostics: list[Diagnostic] = []
    text = normalize_newlines(text)
    current = text
    too_deep = _nesting_problem(current, file)
    if too_deep is not None:
        return ParseResult(None, [too_deep], text)
    tree = None
    parser = ResumableParser(grammar())
    for _ in range(MAX_SYNTAX_ERRORS):
        try:
            tree = parser.parse(current)
            break
        except UnexpectedInput as exc:
            diagnostic = _syntax_diagnostic(exc, current, file)
            # Blanking a statement that stops at a bracket it did not open can leave the
            # parser stuck at the same place: one report per place.
            if not any(d.span == diagnostic.span for d in diagnostics):
                diagnostics.append(diagnostic)
            repaired = blank_statement(current, exc)
            if repaired is None or repaired == current:
                break
            current = repaired
    else:  # every attempt failed: there may be more, unreported
        diagnostics[-1] = _more_may_follow(diagnostics[-1])
    if tree is None:
        return ParseResult(None, diagnostics, text)
    # Even a repaired tree is worth building: it reports impossible literals too.
    builder = ToAst(file)
    items = builder.transform(tree)
    diagnostics.extend(builder.errors)
    if diagnostics:
        return ParseResult(None, sorted(diagnostics, key=lambda d: d.sort_key), text)
    module = n.Module(path=file, items=items, comments=scan_comments(text, file),
                      span=n.Span(file, 1, 1, text.count("\n") + 1, 1))
    return ParseResult(module, [], text)


def parse_bytes(data: bytes, file: str) -> ParseResult:
    text, diagnostics = decode(data, file)
    if text is None:
        return ParseResult(None, diagnostics, "")
    return parse_text(text, file)


def _nesting_problem(text: str, file: str) -> Diagnostic | None:
    """P001 at the first bracket nested deeper than MAX_NESTING (strings, comments skipped)."""
    depth = 0
    for match in _NESTING_TOKENS.finditer(text):
        char = match.group()
        if char in "[{(":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                col = match.start() - text.rfind("\n", 0, match.start())
                return error("P001", f"brackets nested more than {MAX_NESTING} deep",
                             n.Span(file, line, col, line, col + 1),
                             "flatten the value; no pipeline needs this much nesting")
        elif char in "]})":
            depth = max(depth - 1, 0)
    return None


def _syntax_diagnostic(exc: UnexpectedInput, text: str, file: str) -> Diagnostic:
    if at_end(exc):
        return _unclosed_block(text.split("\n"), file)
    line, col = exc.line, exc.column
    source_line = _line_at(text, error_pos(exc))
    if isinstance(exc, UnexpectedToken) and exc.token.type == "_NL":
        # The line ended too soon: point after its code, not after its comment, and
        # name the code's last word, not the comment's (`after `reg``).
        col = min(col, len(strip_comment(source_line).rstrip()) + 1)
    expected = expected_terminals(exc)
    problem = lexical_problem(source_line, col - 1, expected, _kind_before(exc))
    if problem is not None:
        span = n.Span(file, line, problem.start + 1, line, problem.end + 1)
        return error("P001", problem.message, span, problem.help)
    what = describe_expected(expected, grammar())
    found = _offending_text(exc, source_line, col)
    whole = split_word(source_line, col)
    if whole is not None:  # `role mll`: report `mll`, not the `l` after a role `ml`
        start, word = whole
        prefix = source_line[start - 1:col - 1]
        described = describe_prefix(prefix, grammar())
        if described is None:  # `roles ml`: a keyword and more
            span = n.Span(file, line, start, line, start + len(word))
            return error("P001", f"{quote(word)} is not a keyword here", span,
                         f"did you mean {quote(prefix)}?")
        what, col, found = described, start, word
    span = n.Span(file, line, col, line, col + max(1, len(found or "")))
    after = previous_word(source_line, col)
    message = (f"expected {what}" + (f" after {quote(after)}" if after else "")
               + f", found {_found_words(exc, found)}")
    unusual = unusual_character(found) if found else None
    if unusual is not None:  # `“`, a no-break space: say what the character is
        return error("P001", f"{message.rpartition(', found ')[0]}, found {unusual[0]}",
                     span, unusual[1])
    hint = _layout_hint(text, exc, found) or _hint(source_line, col - 1, found, after, expected)
    if hint and found and not found.isascii():  # `tеam` with a Cyrillic `е`
        odd = next(c for c in found if not c.isascii())
        hint += (f" (`{odd}` is U+{ord(odd):04X}, "
                 f"{unicodedata.name(odd, 'an unnamed character').lower()}, not an ASCII letter)")
    return error("P001", message, span, hint)


def _layout_hint(text: str, exc: UnexpectedInput, found: str | None) -> str | None:
    """What the lines around the error say: a block's `{` on the line after its header,
    or a block left open above the declaration the parser stopped at."""
    if brace_on_next_line(text, exc) is not None:
        return "a block's `{` goes at the end of its header line, not on the next line"
    unclosed = unclosed_before(text, exc)
    if unclosed is None:
        return None
    opener = strip_comment(text.split("\n")[unclosed - 1]).split("{")[0].strip()
    return (f"is a `}}` missing above? {quote(opener)} on line {unclosed} is still open, "
            f"and `{found}` cannot go inside it")


def _hint(line: str, index: int, found: str | None, after: str | None,
          expected: set[str]) -> str | None:
    """The likely fix for `found` at `index` of `line`, where the parser wanted
    `expected`: a misspelt keyword, a literal split in two (`1d 12h`, `30 d`), `=>`, a
    path without quotes."""
    typo = closest_keyword(found, expected, grammar()) if found else None
    if typo:
        return f"did you mean {quote(typo)}?"
    return spaced_duration(after, found) \
        or spaced_unit(line, index + len(found or ""), found, expected) \
        or reversed_comparison(line, index, expected) \
        or unquoted_string(line, index, expected)


def _line_at(text: str, pos: int) -> str:
    end = text.find("\n", pos)
    return text[text.rfind("\n", 0, pos) + 1:end if end >= 0 else len(text)]


def _kind_before(exc: UnexpectedInput) -> str | None:
    """The kind of the token that ends where the error starts (`caf` of `café`)."""
    history = getattr(exc, "token_history", None) or ()
    last = history[-1] if history else None
    if last is None or last.end_pos is None or last.end_pos != error_pos(exc):
        return None
    return last.type


def _offending_text(exc: UnexpectedInput, source_line: str, col: int) -> str | None:
    """The text the parser stopped at (the whole word, `ownér`, not the `own` the lexer
    matched), or None at the end of a line or file."""
    if isinstance(exc, UnexpectedToken):
        if exc.token.type in ("_NL", "$END"):
            return None
        value = str(exc.token)
    elif col - 1 < len(source_line):
        value = source_line[col - 1]
    else:
        return None
    word = _UNICODE_WORD.match(source_line, col - 1)
    return word.group() if word is not None and len(word.group()) > len(value) else value


def _found_words(exc: UnexpectedInput, found: str | None) -> str:
    if found is not None:
        return quote(found)
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        return "the end of the file"
    return "the end of the line"


def _unclosed_block(lines: list[str], file: str) -> Diagnostic:
    """At the end of the file the only useful news is which block is still open."""
    opened = open_blocks(lines)
    end = n.Span(file, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2)
    if opened:
        return error("P001", f"expected `}}` to close the block opened on line {opened[-1]}, "
                     "found the end of the file", end, "add the missing `}`")
    return error("P001", "unexpected end of the file", end)


