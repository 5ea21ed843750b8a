"""RETRAIN002: `retrain continuous` without `canary` or without `rollback`."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
For `retrain continuous`, requires a gradual rollout (`canary PCT for DUR` on a deploy
stage, with a share below 100%) and a way back (`rollback previous|VERSION` on a
register stage). A pipeline without a deploy stage (or a register stage) has no place
for them: the message says so and names the stage to add.

## Why is this bad?
Continuous retraining ships models nobody looked at. A canary limits the damage of a
bad one; a rollback ends it.

## Example
```pipe
pipeline p {
  retrain continuous
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  register m {
    registry local "registry/"
  }
  deploy m {
    runtime "python"
  }
}
```

## Use instead
```pipe
pipeline p {
  retrain continuous
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  register m {
    registry local "registry/"
    rollback previous
  }
  deploy m {
    canary 5% for 1h
  }
}
```
'''


@rule("RETRAIN002", "error", "continuous retraining without canary or rollback", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    retrain = program.retrain()
    if retrain is None or retrain.mode != "continuous":
        return
    trains = program.blocks("train")
    model = trains[0].name.name if len(trains) == 1 else "MODEL"
    missing, fixes = [], []
    deploys, registers = program.blocks("deploy"), program.blocks("register")
    # Every model shipped needs its own way in (a canary) and way back (a rollback): one
    # model's canary does not protect another's rollout.
    bare_deploys = [d for d in deploys if not d.first(n.Canary)]
    # `canary 100%` sends every request to the new model at once: no canary at all.
    whole = [d for d in deploys if (c := d.first(n.Canary)) and _share(c) >= 1]
    bare_registers = [r for r in registers if not r.setting("rollback")]
    if not deploys:
        missing.append("deploy stage, so no canary")
        fixes.append(f"a deploy stage with a canary (`deploy {model} {{ canary 5% for 1h }}`)")
    elif bare_deploys:
        missing.append("canary" + _on("deploy", bare_deploys, len(deploys)))
        fixes.append("`canary 5% for 1h` on " + _stages("deploy", bare_deploys, len(deploys)))
    if whole:
        missing.append("canary smaller than all traffic" + _on("deploy", whole, len(deploys)))
        fixes.append("a share below 100% (`canary 5% for 1h`) on "
                     + _stages("deploy", whole, len(deploys)))
    if not registers:
        missing.append("register stage, so no rollback")
        fixes.append(f"a register stage with a rollback (`register {model} {{ registry local "
                     '"registry/"; rollback previous }`)')
    elif bare_registers:
        missing.append("rollback" + _on("register", bare_registers, len(registers)))
        fixes.append("`rollback previous` on "
                     + _stages("register", bare_registers, len(registers)))
    if missing:
        yield error("RETRAIN002", "`retrain continuous` ships models without review, but "
                    f"there is no {' and no '.join(missing)}", retrain.span,
                    "add " + " and ".join(fixes))


def _on(kind: str, bare: list[n.Block], stages: int) -> str:
    """` on deploy `b``, naming the stages only when the pipeline has several."""
    return "" if stages == 1 else " on " + _stages(kind, bare, stages)


def _stages(kind: str, bare: list[n.Block], stages: int) -> str:
    if stages == 1:
        return f"the {kind} stage"
    return ", ".join(f"{kind} `{b.name.name}`" for b in bare)


def _share(canary: n.Canary) -> float:
    """The canary's share of traffic as a fraction (0.05 for `5%`); 0 when not a number."""
    value = canary.share.py
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else 0.0
