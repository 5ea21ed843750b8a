"""Codes the parser and the model builder emit; their pages live here with the rules."""

from pipec.rules import document

document("P001", "error", "a syntax error, a value of the wrong kind, or bytes that are not UTF-8",
         '''
## What it does
Reports text that is not a `.pipe` program: a syntax error, a value of the wrong
kind for its keyword, or a file that is not valid UTF-8. The diagnostic points at the
offending position and names what was expected there.

A `retrain scheduled` string must be a five-field cron expression that both Airflow
and Argo read the same way (`*`, numbers, ranges, steps, lists, month and weekday
names, Sunday as 0, or `@daily`-style presets) and that fires at all: `61 3 * * *`,
`0 0 L * *` and `0 0 30 2 *` are P001 here rather than a failed deployment later.
So are numbers no run could use: a share outside 0-100% (`test`, `valid`, `threshold`,
`completeness`, `canary`), `test` and `valid` that leave nothing to train on, negative
`retries`, a zero `timeout` or window, a drift factor below 1x, a `seed` outside
0..4,294,967,295, and an `in A..B` range of a check or schema constraint that ends
before it starts (`range amount in 5..1`: no value is in it; `in 3..3` is one value).

So are stages that parse but could not run, at the header of the block (or the
contradicting statement): a label that defines no value (`from S` + `window W`, or
`column`/`when`, with an optional `known_after` for the latter) or mixes the two forms;
a feature view without `entity` (a view without `from` reads the base source); a time
split with neither `train before` nor `test from` (`train before` alone is fine: the
test period starts at `train before + gap`); a group or market split without `on`, a
time or entity split without `on` whose base source declares no `time`/`entity`; a
market split without `holdout` values; `test from A until B` with B not after A; a
`test` share of 100%; and a `backfill` range that is not dates or ends before it starts.
So are statements a stage needs from its sources, at the header of the source that
lacks them: a windowed label needs the `entity` and `time` of the base source and of
the source of its events; a label with `known_after`, and a feature view with a time,
need the base source's `time`; a windowed aggregate needs the view's `time` (its own or
its source's).

A keyword value with extra letters (`role mll`, `risk higher`) is reported as the whole
word, with what was expected there.

## Why is this bad?
Nothing else can be checked about a statement that does not parse; every broken
statement is reported, not only the first.

## Example
```pipe
pipeline p {
  source visits {
    from csv "visits.csv"
    entity patient
    time at
    schema { patient: string, at: timestamp }
  }
  source admissions {
    from csv "admissions.csv"
    entity patient
    time admitted_at
    schema { patient: string, admitted_at: timestamp }
  }
  label readmitted {
    from admissions
    window three years
  }
}
```

## Use instead
```pipe
pipeline p {
  source visits {
    from csv "visits.csv"
    entity patient
    time at
    schema { patient: string, at: timestamp }
  }
  source admissions {
    from csv "admissions.csv"
    entity patient
    time admitted_at
    schema { patient: string, admitted_at: timestamp }
  }
  label readmitted {
    from admissions
    window 1095d
  }
}
```
''', phase="parse")

document("P002", "error", "an import that is not found, or an import cycle", '''
## What it does
Reports an `import` whose file does not exist (paths are relative to the importing
file; `std/...` names the standard library bundled with pipec), or imports that form a
cycle.

## Why is this bad?
The declarations the file relies on (teams, check sets, gate sets) are missing, so
ownership and gates cannot be checked.

## Example
```pipe
import "no_such_file.pipe"
```

## Use instead
Import a file that exists, or declare what it would have provided:
```pipe
team ml { contact "#ml"; role ml }
```
''', phase="parse")

document("P003", "error", "two declarations of the same kind and name", '''
## What it does
Reports two declarations of the same kind and name in one pipeline (two `source x`,
two splits), a second label (of any name: a pipeline has one), two teams of one name,
a single-valued statement given twice in a block or in the pipeline (`owner`,
`primary`, `approval by`, `registry`, `canary`, `train before`, `backfill`...), a
column declared twice in one schema, two features of one name in a feature view, or a
key given twice in one map (`params { max_iter: 200, max_iter: 300 }`; `max_iter` and
`"max_iter"` are one key).

## Why is this bad?
Which one wins would be an accident of file order (a map silently keeps the last of
its keys); lineage needs one stage per id. The examples table carries one target: a
second label would be computed and never used.

## Example
```pipe
team ml { contact "#ml"; role ml }
team ml { contact "#ml-2"; role ml }
```

## Use instead
```pipe
team ml { contact "#ml"; role ml }
team ml_research { contact "#ml-2"; role ml }
```
''', phase="model")

document("T001", "error", "a reference to an undeclared source, label, view, set or train stage",
         '''
## What it does
Reports a name that refers to nothing: `validate X` without `source X`, a label or
feature view `from` a missing source, `evaluate M` without `train M`, `use S` of an
undeclared check or gate set.

## Why is this bad?
The stage would have no input; the DAG has a hole where data should flow.

## Example
```pipe
pipeline p {
  validate payments {
    require id
  }
}
```

## Use instead
```pipe
pipeline p {
  source payments {
    from csv "payments.csv"
    schema { id: string }
  }
  validate payments {
    require id
  }
}
```
''', phase="model")

document("T004", "error", "a reference to a declaration of the wrong kind", '''
## What it does
Reports a reference that names a declaration of another kind than the statement
needs: a label `from` a feature view, `evaluate X` where X is a source.

## Why is this bad?
The stage would consume an artifact of the wrong type (a feature table is not an
event stream to label from).

## Example
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string, late: bool }
  }
  label late {
    column late
  }
  split by random {
    test 20%
    seed 1
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    seed 1
  }
  evaluate events {
    primary roc_auc >= 0.8
  }
}
```

## Use instead
```pipe
pipeline p {
  source events {
    from csv "events.csv"
    schema { id: string, late: bool }
  }
  label late {
    column late
  }
  split by random {
    test 20%
    seed 1
  }
  train m {
    model "sklearn.linear_model.LogisticRegression"
    seed 1
  }
  evaluate m {
    primary roc_auc >= 0.8
  }
}
```
''', phase="model")

document("T007", "error", "no base source, or more than one candidate", '''
## What it does
Finds the base source, whose rows become the examples: `examples from NAME`, else the
sources that feed no label; if several, those no feature view reads; if still several,
the one whose `time` column the time split names. None or several left is T007.

## Why is this bad?
Without one base, "an example" has no meaning: labels, features and splits are all
defined relative to the base rows and their event time.

## Example
```pipe
pipeline p {
  source a {
    from csv "a.csv"
    schema { id: string }
  }
  source b {
    from csv "b.csv"
    schema { id: string }
  }
}
```

## Use instead
```pipe
pipeline p {
  examples from a
  source a {
    from csv "a.csv"
    schema { id: string }
  }
  source b {
    from csv "b.csv"
    schema { id: string }
  }
}
```
''', phase="model")
