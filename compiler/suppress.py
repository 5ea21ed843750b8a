"""Suppression comments: `# pipec: ignore[CODE] reason` or `ignore[A, B] reason`.

A suppression covers the line it is written on, or, written on a line of its own, the
statement directly below it (other comment lines may come between; a blank line may
not). Diagnostics about a block that lacks something point at the block's header, so
a comment above the header suppresses those. A suppression without a reason, or one
that suppresses nothing, is SUP001.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program

PATTERN = re.compile(r"#\s*pipec:\s*ignore\[(?P<codes>[^\]]*)\](?P<reason>.*)$")
# Text that cannot be understood is never suppressed (the comment may not even exist).
UNSUPPRESSIBLE = frozenset({"P001", "P002"})


@dataclass
class Suppression:
    comment: n.Comment
    codes: tuple[str, ...]
    reason: str
    line: int  # the line of the statement it covers
    used: set[str] = field(default_factory=set)


def parse(comment: n.Comment, lines: list[str], standalone: set[int]) -> Suppression | None:
    match = PATTERN.search(comment.text)
    if match is None:
        return None
    codes = tuple(c.strip().upper() for c in match.group("codes").split(",") if c.strip())
    reason = match.group("reason").strip().lstrip(":-–— ").strip()
    line = comment.span.line
    if comment.standalone:
        line += 1
        while line in standalone:
            line += 1
        if line > len(lines) or not lines[line - 1].strip():
            line = -1  # nothing directly below: it can cover nothing
    return Suppression(comment, codes, reason, line)


def collect(program: Program) -> dict[str, list[Suppression]]:
    """Display path -> the suppressions in that file (the main file and its imports)."""
    found: dict[str, list[Suppression]] = {}
    for loaded in program.files:
        if loaded.module is None:
            continue
        lines = loaded.text.replace("\r\n", "\n").split("\n")
        standalone = {c.span.line for c in loaded.module.comments if c.standalone}
        parsed = [parse(c, lines, standalone) for c in loaded.module.comments]
        found[loaded.display] = [s for s in parsed if s is not None]
    return found


def apply_suppressions(program: Program, diagnostics: list[Diagnostic],
                       active: Callable[[str], bool]) -> list[Diagnostic]:
    """Drops suppressed diagnostics; adds SUP001 for the main file's bad suppressions.
    `active(code)` says whether the rule ran, so an unused suppression of a rule that
    was deselected is not reported."""
    table = collect(program)
    kept = []
    for diagnostic in diagnostics:
        match = _matching(table.get(diagnostic.span.file, ()), diagnostic)
        if match is None:
            kept.append(diagnostic)
        else:
            match.used.add(diagnostic.code)
    main = program.display if program.module is not None else None
    for suppression in table.get(main, []) if main else []:
        kept.extend(_problems(suppression, active))
    return kept


def _matching(suppressions: list[Suppression] | tuple[()],
              diagnostic: Diagnostic) -> Suppression | None:
    if diagnostic.code in UNSUPPRESSIBLE or diagnostic.code == "SUP001":
        return None
    for suppression in suppressions:
        if suppression.line == diagnostic.span.line and diagnostic.code in suppression.codes:
            return suppression
    return None


def _problems(suppression: Suppression, active: Callable[[str], bool]) -> list[Diagnostic]:
    from pipec.rules import load_all

    rules = load_all()
    span = suppression.comment.span
    found = []
    if not suppression.codes:
        found.append(warning("SUP001", "the suppression names no code", span,
                             "write `# pipec: ignore[CODE] reason`"))
    elif not suppression.reason:
        codes = ", ".join(suppression.codes)
        found.append(warning("SUP001", f"the suppression of {codes} gives no reason", span,
                             f"say why after the bracket: `# pipec: ignore[{codes}] REASON`"))
    for code in suppression.codes:
        if code in suppression.used:
            continue
        if code not in rules:
            found.append(warning("SUP001", f"`{code}` is not a pipec rule, so the suppression "
                                 "suppresses nothing", span,
                                 "fix the code (`pipec explain` lists them) or remove it"))
        elif code in UNSUPPRESSIBLE:
            found.append(warning("SUP001", f"{code} cannot be suppressed", span,
                                 "fix the file instead, and remove the suppression"))
        elif active(code) and rules[code].phase in ("check", "model"):
            found.append(warning("SUP001", f"the suppression of {code} suppresses nothing: "
                                 f"no {code} is reported on line {suppression.line}"
                                 if suppression.line > 0 else
                                 f"the suppression of {code} suppresses nothing: no statement "
                                 "follows it directly", span,
                                 "remove it (or move it onto the offending statement's line "
                                 "or the line above it)"))
    return found
