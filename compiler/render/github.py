"""`--format github`: GitHub Actions workflow commands, one annotation per diagnostic:
`::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=CODE::message`.

Escaping follows the runner's rules: in the message `%`, CR and LF are percent-encoded;
in properties `:` and `,` are too.
"""

from __future__ import annotations

from pipec.diagnostics import Diagnostic, Severity

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(diagnostic: Diagnostic) -> str:
    span = diagnostic.span
    properties = {
        "file": span.file, "line": span.line, "col": span.col,
        "endLine": span.end_line, "endColumn": span.end_col, "title": diagnostic.code,
    }
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    message = diagnostic.message + (f"\nhelp: {diagnostic.help}" if diagnostic.help else "")
    return f"::{COMMANDS[diagnostic.severity]} {props}::{escape_data(message)}"


def render(diagnostics: list[Diagnostic], sources: dict[str, str]) -> str:
    return "".join(annotation(d) + "\n" for d in diagnostics)
