"""GATE011: an evaluate stage's own gate line that is looser than a line of a gate set
it uses, as if it could relax the set's standard; the set's line still applies."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.manifest import gate_entry
from pipec.model import Program
from pipec.rules import rule
from pipec.rules._bounds import gate_bounds, powerless_lines
from pipec.rules._support import gates_with_origin
from pipec.spelling import gate_line

DOC = '''
## What it does
Compares each gate line an evaluate stage writes itself with the lines of the gate sets
it `use`s. A set's lines always apply: the stage's own lines add to them or tighten
them. An own line on the same measure (the same kind of gate, metric, slice and
direction) with a looser bound than the set's (`size <= 1GB` beside the set's
`size <= 500MB`) is reported: it reads like an exception to the standard, and changes
nothing.

## Why is this bad?
The author believes the stage may now ship a 1 GB model, or a model whose calibration
error is 0.2; the run then refuses it at the evaluate stage, after the training it
waited for, against a line the stage does not show. Gate sets exist so that an
organisation's promotion standards cannot be relaxed one pipeline at a time.

## Example
```pipe
import "std/gates/binary.pipe"
pipeline p {
  evaluate m {
    use binary_classifier
    size <= 1GB
  }
}
```

## Use instead
```pipe
import "std/gates/binary.pipe"
pipeline p {
  evaluate m {
    use binary_classifier
    size <= 200MB
  }
}
```
'''


@rule("GATE011", "warning", "a stage's gate line looser than a line of a gate set it uses",
      DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for evaluate in program.blocks("evaluate"):
        lines = gates_with_origin(program, evaluate)
        for own, kept, set_name in powerless_lines(lines, gate_bounds):
            yield _report(own, kept, set_name)


def _report(own: n.Gate, kept: n.Gate, set_name: str) -> Diagnostic:
    return warning(
        "GATE011", f"`{_text(own)}` does not loosen `{_text(kept)}` of gate set "
        f"`{set_name}` ({kept.span}), which still applies", own.span,
        "a stage's own gate lines add to or tighten a set's, never relax them: tighten "
        "this line, remove it, or stop using the set (copying the lines you keep)")


def _text(gate: n.Gate) -> str:
    return gate_line(gate_entry(gate)) + (" warn" if gate.warn else "")
