"""SEC001: a literal that looks like a credential, anywhere in the file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.loader import LoadedFile, stdlib_root
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Scans the whole file and the files it imports, comments included, for text that looks
like a credential: a password in a URI (`postgres://user:secret@host`), a token or key
in a URI's query string, a cloud access key (AWS `AKIA...`, Google `AIza...`, an Azure
`AccountKey=`), a GitHub or Slack token, or a private key block. An image digest
(`@sha256:` and 64 hex digits) never is one.

## Why is this bad?
Pipeline files are committed, reviewed, rendered into orchestrator objects and logs.
A secret written in one is leaked to everyone who can read any of them, and must be
rotated.

## Example
```pipe
pipeline p {
  source events {
    from csv "https://analyst:hunter2@data.example.com/events.csv"
    schema { id: string }
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "https://data.example.com/events.csv"
    schema { id: string }
  }
}
```
'''

# Where a key may start: not inside a longer run of letters and digits, but after `_`
# (`key_AKIA...` in a file name), which `\b` would refuse.
_START = "(?<![0-9A-Za-z])"
PATTERNS = (
    # The scheme is bounded: unbounded, a long run of letters costs quadratic time (each
    # start scans to the end looking for `://`); a longer scheme still matches its tail.
    ("a password in a URI", re.compile(
        # The user name may be empty: `redis://:PASSWORD@host` is Redis's own form.
        r"[A-Za-z][A-Za-z0-9+.\-]{0,31}://[^/\s:@\"]*:[^/\s@\"]+@")),
    ("a token in a URI", re.compile(
        r"[?&](?:access_token|token|api_?key|apikey|password|passwd|secret|client_secret|"
        r"sig|signature|X-Amz-Signature|X-Amz-Credential)=[^&\s\"]+", re.IGNORECASE)),
    ("an AWS access key", re.compile(rf"{_START}(?:AKIA|ASIA)[0-9A-Z]{{16}}(?![0-9A-Za-z])")),
    ("a Google API key", re.compile(rf"{_START}AIza[0-9A-Za-z_\-]{{35}}")),
    # Azure connection strings: a storage account key, a Service Bus / Event Hubs key.
    ("an Azure access key", re.compile(r"\b(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{20,}"
                                       r"={0,2}", re.IGNORECASE)),
    ("a GitHub token", re.compile(rf"{_START}gh[pousr]_[A-Za-z0-9]{{36,}}")),
    # Fine-grained personal access tokens: `github_pat_` + 22 + `_` + 59 characters.
    ("a GitHub token", re.compile(rf"{_START}github_pat_[A-Za-z0-9_]{{22,}}")),
    ("a Slack token", re.compile(rf"{_START}xox[abposr]-[A-Za-z0-9-]{{10,}}")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")),
)
DIGEST = re.compile(r"@sha256:[0-9a-fA-F]{64}")
# A string literal with an escape (`\u0040` for `@`, `\/` for `/`): its value is what
# reaches the manifest, so it is scanned as well as its text.
ESCAPED_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*\\(?:[^"\\\n]|\\.)*"')


@rule("SEC001", "error", "a literal that looks like a credential", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    if program.module is None:
        return
    # The file and those it imports: an imported team's `contact` is built into the
    # manifest like the file's own text. The bundled standard library holds none.
    std = stdlib_root().resolve()
    for loaded in program.files:
        if loaded.module is not None and not loaded.path.resolve().is_relative_to(std):
            yield from _scan(loaded)


def _scan(loaded: LoadedFile) -> Iterator[Diagnostic]:
    for number, line in enumerate(loaded.text.replace("\r\n", "\n").split("\n"), start=1):
        found = list(_matches(line))
        for what, start, end in found:
            yield _report(loaded, number, start, end, what)
        for literal in ESCAPED_STRING.finditer(line) if "\\" in line else ():
            if any(literal.start() <= start < literal.end() for _, start, _ in found):
                continue
            value = _decoded(literal.group())
            first = next(_matches(value), None) if value is not None else None
            if first is not None:
                yield _report(loaded, number, literal.start(), literal.end(),
                              f"{first[0]} (written with escapes)")


def _matches(text: str) -> Iterator[tuple[str, int, int]]:
    """(what, start, end) of every credential-like run in `text`."""
    # Blank digests (same length) so columns stay right and they never match.
    scanned = DIGEST.sub(lambda m: " " * len(m.group()), text)
    for what, pattern in PATTERNS:
        for match in pattern.finditer(scanned):
            yield what, match.start(), match.end()


def _decoded(literal: str) -> str | None:
    """A string literal's value (the language's escapes are JSON's); None if it is not
    one (a quote inside a comment)."""
    try:
        value = json.loads(literal)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _report(loaded: LoadedFile, line: int, start: int, end: int, what: str) -> Diagnostic:
    span = n.Span(loaded.display, line, start + 1, line, end + 1)
    return error("SEC001", f"this looks like {what}: secrets must not be written in pipeline "
                 "files", span, "remove it, rotate it (it has been exposed), and let the "
                 "runner read it from its environment or a secret store")
