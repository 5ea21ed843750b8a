"""Suppression comments: `# pipec: ignore[CODE] reason` or `ignore[A, B] reason`.

A suppression covers the statements starting on the line it is written on (and that
whole line), or, written on a line of its own, those starting on the line directly below
it (other comment lines may come between; a blank line may not). It covers each as a
whole: a multi-line statement (`params {` and its entries) from its first line to its
last, and a block with its body, so a comment above a block's header (or at the end of
that line) covers the block's own diagnostics (about a statement it lacks: they point
at the header) and those inside it. A comment on any line of a multi-line statement
without a body (an entry of its map) covers that statement too. This is what lets
`pipec fmt` expand a one-line block without changing what a comment on its line
suppresses. A suppression without a reason, or one that suppresses nothing, is SUP001.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.loader import imports_failed
from pipec.model import Program

PATTERN = re.compile(r"#\s*pipec:\s*ignore\[(?P<codes>[^\]]*)\](?P<reason>.*)$")
# What a suppression was meant to be (`# pipec: ignore[VAL002` unclosed, `# pipec: ignore
# VAL002`, `# PIPEC: IGNORE[...]`) but PATTERN does not read: SUP001, never silence.
ATTEMPT = re.compile(r"#\s*pipec\s*:\s*ignore", re.IGNORECASE)
# Never suppressed, deselected or downgraded: text that cannot be understood (the comment
# may not even exist), and a program whose names, columns, types, metrics or base source
# do not resolve. Every later stage (the manifest, the backends, the runtime) would build
# or run something broken: `select = ["OWN"]` must not let `build` write such a pipeline.
UNSUPPRESSIBLE = frozenset({"P001", "P002", "P003", "T001", "T002", "T003", "T004", "T005",
                            "T007"})


@dataclass
class Suppression:
    comment: n.Comment
    codes: tuple[str, ...]
    reason: str
    line: int  # the line of the statement it covers (-1: none follows it)
    first: int = -1  # the lines it covers, first to last (-1: none)
    last: int = -1
    used: set[str] = field(default_factory=set)

    def covers(self, line: int) -> bool:
        return self.first <= line <= self.last and self.first > 0

    def where(self) -> str:
        if self.first == self.last:
            return f"on line {self.first}"
        return f"on lines {self.first}-{self.last}"


def stands_alone(comment: n.Comment, lines: list[str]) -> bool:
    """A comment on a line of its own: nothing but blanks (or a stray `;`) before it."""
    return comment.standalone or not lines[comment.span.line - 1][:comment.span.col - 1].strip(
        " \t\f;")


def parse(comment: n.Comment, lines: list[str], standalone: set[int]) -> Suppression | None:
    """`standalone`: the lines holding a comment of their own (`stands_alone`)."""
    match = PATTERN.search(comment.text)
    if match is None:
        return None
    codes = tuple(c.strip().upper() for c in match.group("codes").split(",") if c.strip())
    reason = match.group("reason").strip().lstrip(":-–— ").strip()
    line = comment.span.line
    if line in standalone:
        line += 1
        while line in standalone:
            line += 1
        if line > len(lines) or not lines[line - 1].strip():
            line = -1  # nothing directly below: it can cover nothing
    return Suppression(comment, codes, reason, line)


@dataclass
class StatementLines:
    """Where a module's statements are, by line: for each first line, the last line of
    the longest statement starting there; and each multi-line statement without a body."""

    starts: dict[int, int] = field(default_factory=dict)
    leaves: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def of(cls, module: n.Module) -> StatementLines:
        found = cls()
        pending: list[n.Stmt] = list(module.items)
        while pending:
            stmt = pending.pop()
            first, last = stmt.span.line, stmt.span.end_line
            found.starts[first] = max(last, found.starts.get(first, first))
            if isinstance(stmt, n.Block):
                pending.extend(stmt.body)
            elif last > first and not isinstance(stmt, n.Schema):
                found.leaves.append((first, last))
        return found

    def cover(self, suppression: Suppression) -> None:
        """The lines `suppression` covers: its own line or the one below it, the whole of
        the statements starting there, and the whole of a multi-line statement without a
        body that holds the comment or that line."""
        written = suppression.comment.span.line
        spans = [(first, last) for first, last in self.leaves
                 if first <= written <= last or first <= suppression.line <= last]
        if suppression.line > 0:
            spans.append((suppression.line, self.starts.get(suppression.line,
                                                             suppression.line)))
        if spans:
            suppression.first = min(first for first, _ in spans)
            suppression.last = max(last for _, last in spans)


def collect(program: Program) -> dict[str, list[Suppression]]:
    """Display path -> the suppressions in that file (the main file and its imports)."""
    found: dict[str, list[Suppression]] = {}
    for loaded in program.files:
        if loaded.module is None:
            continue
        lines = loaded.text.split("\n")  # the parser normalized its newlines
        standalone = {c.span.line for c in loaded.module.comments if stands_alone(c, lines)}
        parsed = [parse(c, lines, standalone) for c in loaded.module.comments]
        found[loaded.display] = [s for s in parsed if s is not None]
        if found[loaded.display]:
            statements = StatementLines.of(loaded.module)
            for suppression in found[loaded.display]:
                statements.cover(suppression)
    return found


def apply_suppressions(program: Program, diagnostics: list[Diagnostic],
                       active: Callable[[str], bool]) -> list[Diagnostic]:
    """Drops suppressed diagnostics; adds SUP001 for the main file's bad suppressions.
    `active(code)` says whether the rule ran, so an unused suppression of a rule that
    was deselected is not reported."""
    table = collect(program)
    kept = []
    for diagnostic, match in zip(diagnostics, _matches(table, diagnostics), strict=True):
        if match is None:
            kept.append(diagnostic)
        else:
            match.used.add(diagnostic.code)
    main = program.display if program.module is not None else None
    # While an import is broken, rules about what it would declare stay quiet, so an
    # unused suppression of one proves nothing.
    quiet = imports_failed(program.files, program.path, program.diagnostics)
    for suppression in table.get(main, []) if main else []:
        kept.extend(_problems(suppression, lambda code: not quiet and active(code)))
    if program.module is not None:
        kept.extend(_unread(program.module.comments))
    return kept


def _unread(comments: tuple[n.Comment, ...]) -> list[Diagnostic]:
    """SUP001 for each comment that tries to be a suppression and is not one."""
    return [warning("SUP001", "this comment is not a suppression pipec understands, so it "
                    "suppresses nothing", comment.span,
                    "write `# pipec: ignore[CODE] reason` (lowercase `pipec: ignore`, codes in "
                    "square brackets)")
            for comment in comments
            if ATTEMPT.search(comment.text) and not PATTERN.search(comment.text)]


def _matches(table: dict[str, list[Suppression]],
             diagnostics: list[Diagnostic]) -> list[Suppression | None]:
    """For each diagnostic, the first suppression of its file (in file order) that names
    its code and covers its line, or None. Answered by one sweep over the lines per file
    and code: scanning every suppression for every diagnostic made a file of 10,000
    suppressed stages take 20 s to check."""
    asked: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for position, diagnostic in enumerate(diagnostics):
        if diagnostic.code not in UNSUPPRESSIBLE and diagnostic.code != "SUP001":
            key = (diagnostic.span.file, diagnostic.code)
            asked.setdefault(key, []).append((diagnostic.span.line, position))
    by_code = {file: _by_code(suppressions) for file, suppressions in table.items()}
    found: list[Suppression | None] = [None] * len(diagnostics)
    for (file, code), lines in asked.items():
        candidates = by_code.get(file, {}).get(code, [])
        for position, match in _first_covering(candidates, sorted(lines)):
            found[position] = match
    return found


def _by_code(suppressions: list[Suppression]) -> dict[str, list[Suppression]]:
    """Code -> the suppressions naming it that cover some line, in file order."""
    found: dict[str, list[Suppression]] = {}
    for suppression in suppressions:
        if suppression.first > 0:
            for code in dict.fromkeys(suppression.codes):
                found.setdefault(code, []).append(suppression)
    return found


def _first_covering(suppressions: list[Suppression],
                    lines: list[tuple[int, int]]) -> Iterator[tuple[int, Suppression | None]]:
    """(position, the first of `suppressions` covering the line) for each (line,
    position) of `lines`, sorted by line: the suppressions enter a heap by file order as
    the sweep reaches their first line and leave it once it passes their last."""
    order = sorted(range(len(suppressions)), key=lambda i: suppressions[i].first)
    entered, heap = 0, []  # heap: (file order, last line covered)
    for line, position in lines:
        while entered < len(order) and suppressions[order[entered]].first <= line:
            heapq.heappush(heap, (order[entered], suppressions[order[entered]].last))
            entered += 1
        while heap and heap[0][1] < line:  # lines only grow: it covers none of the rest
            heapq.heappop(heap)
        yield position, suppressions[heap[0][0]] if heap else None


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
                                 "suppresses nothing", span, _unknown_code_help(code, rules)))
        elif code in UNSUPPRESSIBLE:
            found.append(warning("SUP001", f"{code} cannot be suppressed", span,
                                 "fix the file instead, and remove the suppression"))
        elif active(code) and rules[code].phase in ("check", "model"):
            found.append(warning("SUP001", f"the suppression of {code} suppresses nothing: "
                                 f"no {code} is reported {suppression.where()}"
                                 if suppression.first > 0 else
                                 f"the suppression of {code} suppresses nothing: no statement "
                                 "follows it directly", span,
                                 "remove it (or move it onto the offending statement's line "
                                 "or the line above it)"))
    return found


def _unknown_code_help(code: str, rules: dict[str, object]) -> str:
    """What to write instead of `code`: the codes it begins (a suppression names whole
    codes, where `select` and `ignore` also take a prefix such as `LEAK`), or the code
    it is a typo of."""
    import difflib

    begun = sorted(c for c in rules if c.startswith(code))
    if begun:
        named = ", ".join(f"`{c}`" for c in begun[:3]) + (", ..." if len(begun) > 3 else "")
        return f"a suppression names whole codes, not a prefix: {named}"
    close = difflib.get_close_matches(code, sorted(rules), n=3)
    if close:
        # Every code as close as the closest: `LEAK02` is one keystroke from both
        # `LEAK002` and `LEAK012`, and naming one would be a guess.
        def closeness(c: str) -> float:
            return difflib.SequenceMatcher(None, code, c).ratio()
        tied = [c for c in close if closeness(c) == closeness(close[0])]
        return f"did you mean {' or '.join(f'`{c}`' for c in sorted(tied))}? " \
               "(`pipec explain` lists the codes)"
    return "fix the code (`pipec explain` lists them) or remove it"
