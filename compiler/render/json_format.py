"""`--format json`: a list of objects with 1-based lines and code-point columns."""

from __future__ import annotations

import json

from pipec.diagnostics import Diagnostic


def as_dict(diagnostic: Diagnostic) -> dict[str, object]:
    span = diagnostic.span
    return {
        "code": diagnostic.code, "severity": diagnostic.severity.value,
        "message": diagnostic.message, "file": span.file, "line": span.line,
        "column": span.col, "end_line": span.end_line, "end_column": span.end_col,
        "help": diagnostic.help,
    }


def render(diagnostics: list[Diagnostic], sources: dict[str, str]) -> str:
    return json.dumps([as_dict(d) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"
