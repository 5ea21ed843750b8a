"""`--format sarif`: SARIF 2.1.0 for code-scanning tools (GitHub code scanning and others).

Columns count Unicode code points (the run says so with `columnKind`); `endColumn` is
exclusive, as in pipec's spans. Each rule's `helpUri` is a `urn:pipec:rule:CODE` URN:
the schema wants an absolute URI, and pipec has no documentation host, so the full
page travels in the rule's `help` (text and Markdown) instead, which is what viewers
display.

Artifact URIs are relative to the repository root (`%SRCROOT%`: the nearest folder with
a `.git` above the file, else its project root), whatever folder pipec ran in, which is
how code scanning places them; a file of the bundled standard library is relative to
`PIPEC_STDLIB`. Neither base is given as a machine path: `originalUriBaseIds` only
describes them. A URI percent-encodes the bytes of the file's name, so a name that is
not UTF-8 keeps its exact bytes (`%FF`); in message texts such a byte is U+FFFD.

Each result carries a `partialFingerprints` entry of pipec's own: without one, code
scanning cannot tell a known alert from a new one when a SARIF file is uploaded through
the API, and shows duplicates. It hashes what stays when lines are added above the
finding: the rule, the file's URI and the text of the finding's line (not its number).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from pipec import __version__
from pipec.diagnostics import Diagnostic, Severity
from pipec.render.json_format import valid_text
from pipec.render.text import source_line

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
SRCROOT = "%SRCROOT%"
STDLIB = "PIPEC_STDLIB"
# Not `primaryLocationLineHash`: GitHub computes that key itself and warns when a tool's
# value differs from its own.
FINGERPRINT = "pipecFingerprint/v1"
BASES = {
    SRCROOT: {"description": {"text": "The root of the repository: the nearest folder with "
                              "a .git above the checked files, else their project root."}},
    STDLIB: {"description": {"text": "The standard library bundled with pipec, imported as "
                             "`std/...`."}},
}


def render(diagnostics: list[Diagnostic], sources: dict[str, str]) -> str:
    return json.dumps(sarif_log(diagnostics, sources), indent=2, ensure_ascii=False) + "\n"


def sarif_log(diagnostics: list[Diagnostic],
              sources: dict[str, str] | None = None) -> dict[str, object]:
    from pipec.rules import load_all

    rules = load_all()
    codes = list(rules)
    extra = sorted({d.code for d in diagnostics} - set(codes))
    index = {code: i for i, code in enumerate(codes + extra)}
    descriptors = [_descriptor(rules[c]) for c in codes] + [_bare(c) for c in extra]
    hashes = fingerprints(diagnostics, sources or {})
    return {
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "pipec", "version": __version__,
                                "semanticVersion": __version__, "rules": descriptors}},
            "originalUriBaseIds": BASES,
            "columnKind": "unicodeCodePoints",
            "results": [_result(d, index[d.code], fingerprint)
                        for d, fingerprint in zip(diagnostics, hashes, strict=True)],
        }],
    }


def _descriptor(rule: object) -> dict[str, object]:
    code = rule.code  # type: ignore[attr-defined]
    doc = rule.doc  # type: ignore[attr-defined]
    return {
        "id": code,
        "name": code,
        "shortDescription": {"text": rule.summary},  # type: ignore[attr-defined]
        "fullDescription": {"text": _what_it_does(doc)},
        "help": {"text": doc, "markdown": doc},
        "helpUri": f"urn:pipec:rule:{code}",
        "defaultConfiguration": {"level": LEVELS[rule.severity]},  # type: ignore[attr-defined]
        "properties": {"phase": rule.phase},  # type: ignore[attr-defined]
    }


def _bare(code: str) -> dict[str, object]:
    return {"id": code, "helpUri": f"urn:pipec:rule:{code}"}


def _what_it_does(doc: str) -> str:
    head = "## What it does"
    if head not in doc:
        return doc.strip()
    body = doc.split(head, 1)[1]
    return body.split("\n## ", 1)[0].strip()


def _result(diagnostic: Diagnostic, rule_index: int, fingerprint: str) -> dict[str, object]:
    span = diagnostic.span
    text = valid_text(diagnostic.message + (f"\nhelp: {diagnostic.help}"
                                            if diagnostic.help else ""))
    end_line = max(span.end_line, span.line)
    end_col = span.end_col if end_line > span.line else max(span.end_col, span.col + 1)
    return {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": LEVELS[diagnostic.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": {
            "artifactLocation": artifact_location(span.file),
            "region": {"startLine": span.line, "startColumn": span.col,
                       "endLine": end_line, "endColumn": end_col},
        }}],
        "partialFingerprints": {FINGERPRINT: fingerprint},
    }


def fingerprints(diagnostics: list[Diagnostic], sources: dict[str, str]) -> list[str]:
    """One stable hash per diagnostic: of its rule, file and line text, with the
    number of earlier diagnostics of the same basis (two alike lines in one file, or two
    findings of one rule on one line, stay apart). A file without text (not UTF-8)
    uses the message instead of the line."""
    seen: Counter[str] = Counter()
    hashes = []
    for diagnostic in diagnostics:
        span = diagnostic.span
        line = source_line(sources.get(span.file), span.line)
        basis = "\0".join((diagnostic.code, artifact_location(span.file)["uri"],
                           diagnostic.message if line is None else line.strip()))
        seen[basis] += 1
        text = f"{basis}\0{seen[basis]}".encode("utf-8", "surrogatepass")
        hashes.append(hashlib.sha256(text).hexdigest()[:32])
    return hashes


def artifact_location(file: str) -> dict[str, str]:
    """A diagnostic's file (its display name) as an artifact location."""
    from pipec.config import repository_name
    from pipec.loader import STD_PREFIX

    if file.startswith(STD_PREFIX):
        return {"uri": _quote(file[len(STD_PREFIX):]), "uriBaseId": STDLIB}
    in_repository = repository_name(file)
    if in_repository is not None:
        return {"uri": _quote(in_repository), "uriBaseId": SRCROOT}
    return {"uri": artifact_uri(file)}


def artifact_uri(file: str) -> str:
    """A display path as a URI reference: relative paths stay relative (code scanning
    resolves them against the checkout), absolute ones become `file:` URIs."""
    if PureWindowsPath(file).drive:
        return PureWindowsPath(file).as_uri()
    posix = PurePosixPath(file.replace("\\", "/"))
    if posix.is_absolute():
        return "file://" + _quote(str(posix))
    return _quote(str(posix))


def _quote(name: str) -> str:
    """A file name as a URI path: its bytes on this machine, percent-encoded where
    needed (a name that is not UTF-8 holds lone surrogates, which `quote` refuses)."""
    return quote(os.fsencode(name))
