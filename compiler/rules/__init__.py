"""The rule registry: one module per rule, each registering itself by code.

A rule is a function `(program) -> Iterable[Diagnostic]` plus its documentation in
one fixed template (What it does / Why is this bad? / Example / Use instead), which
`pipec explain` prints and the test suite runs.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pipec.diagnostics import Diagnostic, Severity
from pipec.suppress import UNSUPPRESSIBLE

Check = Callable[["Program"], Iterable[Diagnostic]]  # noqa: F821 - avoids an import cycle


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    summary: str
    doc: str
    check: Check | None
    # Reported by `build`/`run` rather than `check` (REPRO005, BUDGET001).
    phase: str = "check"


RULES: dict[str, Rule] = {}
_LOADED = False


def rule(code: str, severity: str, summary: str, doc: str, *,
         phase: str = "check") -> Callable[[Check], Check]:
    """Decorator that registers a rule's check function under its code."""

    def register(check: Check) -> Check:
        RULES[code] = Rule(code, Severity(severity), summary, doc.strip("\n"), check, phase)
        return check

    return register


def document(code: str, severity: str, summary: str, doc: str, *, phase: str) -> None:
    """Registers a code that another part of pipec emits (the parser, the model builder,
    a backend); its documentation still lives with the rules."""
    RULES[code] = Rule(code, Severity(severity), summary, doc.strip("\n"), None, phase)


def load_all() -> dict[str, Rule]:
    """Imports every rule module once; returns the registry sorted by code.

    A flag, not `if not RULES`: importing one rule module directly (a backend calling
    `budget001`) registers that rule alone, and must not stop the others loading."""
    global _LOADED
    if not _LOADED:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _LOADED = True
    return dict(sorted(RULES.items()))


def run_rules(program: object, selected: Iterable[str] | None = None) -> list[Diagnostic]:
    wanted = set(selected) if selected is not None else None
    found: list[Diagnostic] = []
    for code, entry in load_all().items():
        if entry.check is None or entry.phase != "check":
            continue
        if wanted is not None and code not in wanted and code not in UNSUPPRESSIBLE:
            continue
        found.extend(entry.check(program))
    return found
