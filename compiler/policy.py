"""What fails: rule selection, suppression comments (`# pipec: ignore[CODE] reason`,
see `pipec.suppress`) and severity overrides, in that order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipec.diagnostics import Diagnostic, Severity
from pipec.suppress import UNSUPPRESSIBLE, apply_suppressions

if TYPE_CHECKING:
    from pipec.check import CheckOptions
    from pipec.model import Program

# Spellings accepted in `[tool.pipec.severity]`; anything else leaves the default.
SEVERITY_WORDS = {"error": "error", "warning": "warning", "warn": "warning", "note": "note",
                  "info": "note", "off": "off", "ignore": "off", "none": "off"}


def apply_policy(program: Program, diagnostics: list[Diagnostic],
                 options: CheckOptions) -> list[Diagnostic]:
    selected = [d for d in diagnostics if _active(d.code, options)]
    unsuppressed = apply_suppressions(program, selected, lambda code: _active(code, options))
    return [_override(d, options) for d in unsuppressed if _active(d.code, options)]


def _active(code: str, options: CheckOptions) -> bool:
    """Whether diagnostics of `code` are reported at all."""
    if code in UNSUPPRESSIBLE:
        return True
    return not _deselected(code, options) and severity_override(code, options) != "off"


def _override(diagnostic: Diagnostic, options: CheckOptions) -> Diagnostic:
    override = severity_override(diagnostic.code, options)
    if override is None or override == "off" or diagnostic.code in UNSUPPRESSIBLE:
        return diagnostic
    return diagnostic.with_severity(Severity(override))


def severity_override(code: str, options: CheckOptions) -> str | None:
    value = options.severity.get(code)
    return SEVERITY_WORDS.get(value.strip().lower()) if isinstance(value, str) else None


def _deselected(code: str, options: CheckOptions) -> bool:
    if code in options.ignore:
        return True
    return options.select is not None and code not in options.select
