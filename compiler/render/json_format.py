"""`--format json`: a list of objects with 1-based lines and code-point columns.

The output is always valid UTF-8: a byte of a file name that is not UTF-8 (which Python
holds as a lone surrogate, `os.fsdecode`) is shown as U+FFFD, as a UTF-8 decoder shows
a bad byte; the exact name cannot be carried by JSON text anyway."""

from __future__ import annotations

import json
import re

from pipec.diagnostics import Diagnostic

_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """`text` with every lone surrogate (an undecodable byte of a file name) as U+FFFD."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def as_dict(diagnostic: Diagnostic) -> dict[str, object]:
    span = diagnostic.span
    return {
        "code": diagnostic.code, "severity": diagnostic.severity.value,
        "message": valid_text(diagnostic.message), "file": valid_text(span.file),
        "line": span.line, "column": span.col, "end_line": span.end_line,
        "end_column": span.end_col,
        "help": valid_text(diagnostic.help) if diagnostic.help else diagnostic.help,
    }


def render(diagnostics: list[Diagnostic], sources: dict[str, str]) -> str:
    return json.dumps([as_dict(d) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"
