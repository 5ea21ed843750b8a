"""Comments and braces in `.pipe` text, read line by line without parsing (a `#` or a
brace inside a string is text): what the parser, its error recovery and fmt share."""

from __future__ import annotations

from pipec import nodes as n


def brace_delta(line: str) -> int:
    """`{` minus `}` outside strings and comments."""
    code = strip_comment(line)
    in_string, escaped, delta = False, False, 0
    for char in code:
        if in_string:
            # Whether this character is escaped is decided by the one before it: a
            # `\"` did end the string, and the braces after it counted (`"a\"}"`).
            if char == '"' and not escaped:
                in_string = False
            escaped = char == "\\" and not escaped
            continue
        if char == '"':
            in_string = True
        delta += {"{": 1, "}": -1}.get(char, 0)
    return delta


def open_blocks(lines: list[str]) -> list[int]:
    """The 1-based numbers of the lines whose `{` is still open after these lines,
    innermost last."""
    opened: list[int] = []
    for number, line in enumerate(lines, start=1):
        delta = brace_delta(line)
        opened.extend([number] * max(delta, 0))
        # A `}` with no block open closes nothing: never past the first block.
        del opened[max(len(opened) + min(delta, 0), 0):]
    return opened


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
