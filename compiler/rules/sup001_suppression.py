"""SUP001: a suppression without a reason, one that suppresses nothing, or a comment that
looks like a suppression but is not one pipec understands.

Produced by the suppression pass (`pipec.suppress`), after the rules have run."""

from pipec.rules import document

DOC = '''
## What it does
Checks the suppression comments, `# pipec: ignore[CODE] reason` (also
`ignore[A, B] reason`), written on the offending statement's line or on a line of
their own directly above it. A suppression covers the whole statement it is on or
above: a multi-line statement (`params {` and its entries) from its first line to its
last, and a block with everything inside it (a diagnostic about a statement the block
lacks points at its header). So one above `pipeline p {` covers the whole pipeline:
put it on the innermost statement instead. Reports one that gives no reason, names no
code or an unknown one, or suppresses nothing (the code is not reported there). Also
reports a comment that looks like a suppression but is not one pipec understands (it
suppresses nothing): an unclosed bracket (`# pipec: ignore[VAL002`), codes without
brackets (`# pipec: ignore VAL002`) or another spelling (`# PIPEC: IGNORE[VAL002]`).

## Why is this bad?
A suppression is an exception to a safety rule. Without a reason, reviewers cannot
tell a considered decision from a silenced alarm; one that suppresses nothing is stale
and would silently hide the next real problem on that line. A misspelt suppression
misleads: a reader takes the problem as accepted on purpose, while pipec never read it.

## Example
```pipe
pipeline p {
  on_failure block  # pipec: ignore[FAIL001]
}
```

## Use instead
```pipe
team ml { contact "#ml"; role ml }

pipeline p {
  owner ml
  on_failure block
  # pipec: ignore[VAL002] validated upstream by the data platform's ingestion checks
  source events {
    from csv "events.csv"
    schema { id: string }
  }
}
```
'''

document("SUP001", "warning", "a suppression without a reason, one that suppresses nothing, "
         "or a comment that is not one pipec understands", DOC, phase="suppress")
