"""`--format github`: GitHub Actions workflow commands, one annotation per diagnostic:
`::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=CODE::message`.

Escaping follows the runner's rules: in the message `%`, CR and LF are percent-encoded;
in properties `:` and `,` are too. Other control characters from a file or its name (an
ESC that would colour or rewrite the Actions log, a NUL) are shown as their Unicode
pictures, as in the text format, in the message and in `file=` alike; a byte of a file
name that is not UTF-8 is U+FFFD, so that the log stays UTF-8.

`file=` is relative to the repository root (the nearest folder with a `.git` above the
file, else its project root), which is where GitHub places annotations, whatever folder
pipec ran in; a file of the standard library stays `std/...`.
"""

from __future__ import annotations

from pipec.diagnostics import Diagnostic, Severity
from pipec.render.json_format import valid_text
from pipec.render.text import PICTURES

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}
# The text format's pictures, but for CR, which is percent-encoded with LF instead.
_PICTURES = {c: picture for c, picture in PICTURES.items() if c != 0x0D}


def visible(text: str) -> str:
    return valid_text(text.translate(_PICTURES))


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(diagnostic: Diagnostic) -> str:
    from pipec.config import repository_name

    span = diagnostic.span
    properties = {
        "file": visible(repository_name(span.file) or span.file), "line": span.line,
        "col": span.col,
        "endLine": span.end_line, "endColumn": span.end_col, "title": diagnostic.code,
    }
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    message = visible(diagnostic.message) + (
        f"\nhelp: {visible(diagnostic.help)}" if diagnostic.help else "")
    return f"::{COMMANDS[diagnostic.severity]} {props}::{escape_data(message)}"


def render(diagnostics: list[Diagnostic], sources: dict[str, str]) -> str:
    return "".join(annotation(d) + "\n" for d in diagnostics)
