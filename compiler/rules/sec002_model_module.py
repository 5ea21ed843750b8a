"""SEC002: a train stage's model from a module `[tool.pipec] allowed_model_modules` does
not list. The runtime refuses such a model at the train stage with the same test
(`model_modules.module_allowed`); reported here, it is found before any data is read."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule
from pipec.stdlib.runtime.model_modules import module_allowed

DOC = '''
## What it does
Reports a train stage whose `model` is not a class from one of the modules the project
allows: `[tool.pipec] allowed_model_modules` in `pyproject.toml`, scikit-learn
(`sklearn`) by default. A module is allowed with its submodules (`sklearn` allows
`sklearn.ensemble`).

## Why is this bad?
The runtime imports the model's module to train it, so a `.pipe` file must not be a way
to run arbitrary code: it refuses any other module, but only when the run reaches the
train stage, after every source was read, validated and featurised.

## Example
```pipe
pipeline p {
  train m {
    model "xgboost.XGBClassifier"
  }
}
```

## Use instead
```pipe
pipeline p {
  train m {
    model "sklearn.ensemble.HistGradientBoostingClassifier"
  }
}
```
'''


@rule("SEC002", "error", "a model from a module allowed_model_modules does not list", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    allowed = program.allowed_model_modules
    for train in program.blocks("train"):
        setting = train.setting("model")
        if setting is None or not isinstance(setting.value, n.Str):
            continue
        path = setting.value.value
        if not module_allowed(path, allowed):
            yield error("SEC002", f"model `{path}` is not from an allowed module "
                        f"({', '.join(allowed)}): the run would refuse it at "
                        f"`train.{train.name.name}`", setting.value.span,
                        "add its module to `[tool.pipec] allowed_model_modules` in "
                        "pyproject.toml, or use a scikit-learn estimator")

