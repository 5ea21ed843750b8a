"""VAL005: a validate stage's own check that is looser than a check of a check set it
uses, as if it could relax the set's standard; the set's check still applies."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.manifest import check_entry
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._bounds import check_bounds, powerless_lines
from pipec.rules._support import checks_with_origin
from pipec.spelling import check_line

DOC = '''
## What it does
Compares each check a validate stage writes itself with the checks of the check sets
it `use`s. A set's checks always run: the stage's own checks add to them or tighten
them. An own `completeness`, `freshness`, `drift` or `range` check on the same column
with a looser bound than the set's (`freshness event_time within 7d` beside the set's
`within 2d`) is reported: it reads like an exception to the standard, and changes
nothing.

## Why is this bad?
The author believes a week-old extract may now train a model; the run then stops at
the validate stage on the set's two-day check, which the stage does not show. Check
sets exist so that a data team's standards cannot be relaxed one pipeline at a time.

## Example
```pipe
import "std/checks/events.pipe"
pipeline p {
  validate events {
    use event_table
    freshness event_time within 7d
  }
}
```

## Use instead
```pipe
import "std/checks/events.pipe"
pipeline p {
  validate events {
    use event_table
    freshness event_time within 1d
  }
}
```
'''


@rule("VAL005", "warning", "a stage's check looser than a check of a check set it uses", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for validate in program.blocks("validate"):
        lines = checks_with_origin(program, validate)
        for own, kept, set_name in powerless_lines(lines, check_bounds):
            yield _report(own, kept, set_name)


def _report(own: n.Stmt, kept: n.Stmt, set_name: str) -> Diagnostic:
    return warning(
        "VAL005", f"`{_text(own)}` does not loosen `{_text(kept)}` of check set "
        f"`{set_name}` ({kept.span}), which still applies", own.span,
        "a stage's own checks add to or tighten a set's, never relax them: tighten this "
        "check, remove it, or stop using the set (copying the checks you keep)")


def _text(line: n.Stmt) -> str:
    warns = isinstance(line, n.Check) and line.warn
    return check_line(check_entry(line)) + (" warn" if warns else "")
