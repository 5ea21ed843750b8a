"""FAIL002: an explicit `on_failure warn` on a stage where `warn` changes nothing.

At run time only a validate stage reads `warn`: its failed checks are reported and the
run goes on (`stdlib/runtime/validation.py`, `CONTINUE_POLICIES`). Every other stage
that fails stops the stages after it exactly as `block` does: an evaluate stage's gates
decide the blessing whatever its policy, and a source's values are type-checked by its
validate stage, under that stage's policy. A pipeline-level `on_failure warn` is a
default meant for the validate stages, so only a stage's own line is reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.model import Program, Stage
from pipec.rules import rule

DOC = '''
## What it does
Reports `on_failure warn` written on a stage other than a validate stage.

## Why is this bad?
`warn` lets the run go on only from a validate stage: its failed checks are reported
and training still runs. On any other stage (a source, label, feature view, split,
train, evaluate, register or deploy stage) a failure stops the stages after it just as
`block` does, so the line promises something the run does not do, and nobody is told
when the stage fails. An evaluate stage's gates decide whether the model is blessed
whatever its policy (a gate line that should only warn ends with `warn`), and a
source's type errors are checked by its validate stage, under that stage's policy.

## Example
```pipe
pipeline p {
  on_failure block
  source events {
    from csv "events.csv"
    schema { id: string, late: bool }
  }
  label late { column late }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    seed 1
    on_failure warn
  }
}
```

## Use instead
Say what happens, or ask to be told when it does:
```pipe
pipeline p {
  on_failure block
  source events {
    from csv "events.csv"
    schema { id: string, late: bool }
  }
  label late { column late }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    seed 1
    on_failure alert "#ml-oncall"
  }
}
```
'''

HELP = ("write `on_failure block` (what happens anyway), `retry` to run it again, or "
        "`alert \"...\"` to be told when it fails")


@rule("FAIL002", "warning", "on_failure warn on a stage where warn has no effect", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    for stage in program.stages.values():
        own = _own_warn(stage)
        if own is None:
            continue
        what = "the split" if stage.kind == "split" else f"stage `{stage.id}`"
        yield warning("FAIL002", f"`on_failure warn` has no effect on {what}: "
                      f"{_instead(program, stage)}", own.span, _help(stage))


def _own_warn(stage: Stage) -> n.OnFailure | None:
    """The stage's own `on_failure warn`, where it is inert (every kind but validate)."""
    if stage.block is None or stage.kind == "validate":
        return None
    own = stage.block.first(n.OnFailure)  # a second one is P003; the first counts
    return own if own is not None and own.policy == "warn" else None


def _instead(program: Program, stage: Stage) -> str:
    """What the run does instead of going on."""
    if stage.kind == "evaluate":
        return ("a failed gate still leaves the model unblessed, so it is not registered "
                "or deployed, as with `block`")
    stops = "if it fails, the run fails and the stages after it do not run, as with `block`"
    if stage.kind != "source":
        return stops
    read = "if it cannot be read, the run fails as with `block`"
    validate = f"validate.{stage.name}"
    if validate in program.stages:
        return f"{read}, and whether a bad value in it stops the run is `{validate}`'s " \
               "policy to decide"
    return f"{read}, and with no validate stage nothing checks its values"


def _help(stage: Stage) -> str:
    if stage.kind == "evaluate":
        return f"{HELP}; to let one gate fail without blocking, end that gate line with `warn`"
    return HELP
