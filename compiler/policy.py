"""What fails: rule selection and severity overrides from options. Suppression
comments (`# pipec: ignore[CODE] reason`) are applied here too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipec.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from pipec.check import CheckOptions
    from pipec.model import Program

# Codes that describe text that cannot be understood; never deselected or downgraded.
UNSUPPRESSIBLE = frozenset({"P001", "P002"})


def apply_policy(program: Program, diagnostics: list[Diagnostic],
                 options: CheckOptions) -> list[Diagnostic]:
    kept = []
    for diagnostic in diagnostics:
        if diagnostic.code not in UNSUPPRESSIBLE and _deselected(diagnostic.code, options):
            continue
        override = options.severity.get(diagnostic.code)
        if override is not None and diagnostic.code not in UNSUPPRESSIBLE:
            if override == "off":
                continue
            diagnostic = diagnostic.with_severity(Severity(override))
        kept.append(diagnostic)
    return kept


def _deselected(code: str, options: CheckOptions) -> bool:
    if code in options.ignore:
        return True
    return options.select is not None and code not in options.select
