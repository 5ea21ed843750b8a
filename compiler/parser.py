"""Text -> typed AST, with every syntax error reported (not just the first).

The grammar is loaded once (LALR, contextual lexer, positions, cached). After a
syntax error the offending statement is blanked out (keeping line numbers) and the
text is parsed again, so one file yields one P001 per broken statement.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from lark import Lark, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.syntax_errors import describe_expected, describe_prefix, previous_word, split_word
from pipec.transform import ToAst

MAX_SYNTAX_ERRORS = 25
# Deeper lists and maps are refused before parsing: every later stage (the AST builder,
# fmt, the manifest, the backends) walks values recursively and would overflow the stack.
MAX_NESTING = 64
_NESTING_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#[^\n]*|[\[\]{}()]')


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


def decode(data: bytes, file: str) -> tuple[str | None, list[Diagnostic]]:
    """Bytes -> text; invalid UTF-8 is P001 at the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
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
    diagnostics: list[Diagnostic] = []
    text = normalize_newlines(text)
    current = text
    too_deep = _nesting_problem(current, file)
    if too_deep is not None:
        return ParseResult(None, [too_deep], text)
    tree = None
    for _ in range(MAX_SYNTAX_ERRORS):
        try:
            tree = grammar().parse(current)
            break
        except UnexpectedInput as exc:
            diagnostics.append(_syntax_diagnostic(exc, current, file))
            repaired = _blank_statement(current, exc)
            if repaired is None or repaired == current:
                break
            current = repaired
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
    lines = text.split("\n")
    if _at_end(exc):
        return _unclosed_block(lines, file)
    if isinstance(exc, UnexpectedToken):
        line, col = exc.line, exc.column
        found = _found_text(exc.token.type, str(exc.token))
        expected = exc.accepts or exc.expected
    else:
        assert isinstance(exc, UnexpectedCharacters)
        line, col = exc.line, exc.column
        found = f"`{text[exc.pos_in_stream]}`" if exc.pos_in_stream < len(text) else "nothing"
        expected = exc.allowed
    source_line = lines[line - 1] if line <= len(lines) else ""
    what = describe_expected(set(expected or ()), grammar())
    whole = split_word(source_line, col)
    if whole is not None:  # `role mll`: report `mll`, not the `l` after a role `ml`
        start, word = whole
        prefix = source_line[start - 1:col - 1]
        described = describe_prefix(prefix, grammar())
        if described is None:  # `roles ml`: a keyword and more
            span = n.Span(file, line, start, line, start + len(word))
            return error("P001", f"`{word}` is not a keyword here", span,
                         f"did you mean `{prefix}`?")
        what, col, found = described, start, f"`{word}`"
    width = max(1, len(found.strip("`"))) if found.startswith("`") else 1
    span = n.Span(file, line, col, line, col + width)
    after = previous_word(source_line, col)
    message = f"expected {what}" + (f" after `{after}`" if after else "") + f", found {found}"
    return error("P001", message, span)


def _at_end(exc: UnexpectedInput) -> bool:
    if isinstance(exc, UnexpectedEOF):
        return True
    token = getattr(exc, "token", None)
    return token is not None and token.type == "$END"


def _unclosed_block(lines: list[str], file: str) -> Diagnostic:
    """At the end of the file the only useful news is which block is still open."""
    opened: list[int] = []
    for number, line in enumerate(lines, start=1):
        delta = brace_delta(line)
        opened.extend([number] * max(delta, 0))
        del opened[len(opened) + min(delta, 0):]
    end = n.Span(file, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2)
    if opened:
        return error("P001", f"expected `}}` to close the block opened on line {opened[-1]}, "
                     "found the end of the file", end, "add the missing `}`")
    return error("P001", "unexpected end of the file", end)


def _found_text(kind: str, value: str) -> str:
    if kind in ("_NL", "$END"):
        return "the end of the line" if kind == "_NL" else "the end of the file"
    return f"`{value}`"


def _blank_statement(text: str, exc: UnexpectedInput) -> str | None:
    """Blank the line of the error (and a block it opens) so parsing can go on."""
    if _at_end(exc) or getattr(exc, "line", -1) < 1:
        return None
    lines = text.split("\n")
    index = exc.line - 1
    depth = brace_delta(lines[index])
    if depth < 0:
        lines[index] = "}" * -depth
        return "\n".join(lines)
    lines[index] = ""
    while depth > 0 and index + 1 < len(lines):
        index += 1
        depth += brace_delta(lines[index])
        lines[index] = "}" * -depth if depth < 0 else ""
    return "\n".join(lines)


def brace_delta(line: str) -> int:
    """`{` minus `}` outside strings and comments."""
    code = strip_comment(line)
    in_string, escaped, delta = False, False, 0
    for char in code:
        if in_string:
            escaped = char == "\\" and not escaped
            if char == '"' and not escaped:
                in_string = False
            continue
        if char == '"':
            in_string = True
        delta += {"{": 1, "}": -1}.get(char, 0)
    return delta


def comment_column(line: str) -> int | None:
    """0-based index of the `#` starting a comment, ignoring `#` inside strings."""
    in_string, escaped = False, False
    for index, char in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "#":
            return index
    return None


def strip_comment(line: str) -> str:
    col = comment_column(line)
    return line if col is None else line[:col]


def scan_comments(text: str, file: str) -> tuple[n.Comment, ...]:
    comments = []
    for number, line in enumerate(text.split("\n"), start=1):  # text: newlines normalized
        col = comment_column(line)
        if col is None:
            continue
        body = line[col:].rstrip()
        span = n.Span(file, number, col + 1, number, col + 1 + len(body))
        comments.append(n.Comment(text=body, standalone=not line[:col].strip(), span=span))
    return tuple(comments)
