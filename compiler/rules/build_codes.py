"""BUILD001, BUILD002 and BUILD003: what a target cannot express or would lose, reported by
`pipec build`.

The backends emit these (backends/build.py, backends/airflow, backends/argo); their
pages live here so that `pipec explain` knows them like every other code.
"""

from pipec.rules import document

document("BUILD001", "error", "the target cannot carry the program as written", '''
## What it does
Reported by `pipec build` when the chosen orchestrator cannot express something the
program says: an Airflow id longer than 250 characters, an Argo build without an
`image` (Argo, or Airflow's KubernetesPodOperator: every stage runs in a container),
an image containing `{{` (Argo would read it as a template), two stage names that map
to the same Kubernetes name, a `resources` value that is not a Kubernetes quantity
(`memory: "16GB"`: the pod would be refused when the stage starts), a pipeline without
stages built for Argo (a DAG with no tasks), or a file without a pipeline. On every
target (and by `pipec run`, before any stage runs): a `registry` other than `local`,
since every target registers through pipec's runtime, which writes a local folder.

## Why is this bad?
The orchestrator would reject the output at submission, or run something other than
what the file says. A target's limit is a diagnostic, never a crash.

## Example
Built with `--target argo`, this pipeline has no image to run its stages in:
```pipe
team ml { contact "#ml"; role ml }

pipeline p {
  owner ml
  on_failure block

  source events {
    from csv "events.csv"
    schema { id: string }
  }
}
```

## Use instead
```pipe
team ml { contact "#ml"; role ml }

pipeline p {
  owner ml
  on_failure block
  image "example.com/train@sha256:4b1c0f9e2d7a8c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d"

  source events {
    from csv "events.csv"
    schema { id: string }
  }
}
```
''', phase="build")

document("BUILD002", "note", "a setting the target ignores", '''
## What it does
Reported by `pipec build` when the target accepts the program but ignores one of its
settings: `resources` on a train stage or the pipeline's `image` built for Airflow's
BashOperator, which runs every stage on the worker as it is, or for the local script,
which runs every stage as a process of the machine it runs on, or a `resources` key that
names no Kubernetes resource (`gpus`), which a pod cannot request (`gpu` becomes
`nvidia.com/gpu`), or `[tool.pipec] state_volume`, `service_account` or
`manifest_configmap` built for the BashOperator or the local script, which start no
pod. On every target: `distributed` on a train stage, which the lineage records but no
target applies (the model trains in one process), and a deploy stage's `canary P for
D`, which the deploy report and the registry record but no target serves (the version
is promoted to production at once). For Argo, also a CronWorkflow or WorkflowTemplate
(or Sensor) within `argo_max_bytes` but too large for a plain `kubectl apply -f`, which
copies the whole object into its `kubectl.kubernetes.io/last-applied-configuration`
annotation: Kubernetes allows an object 262,144 bytes (256 KiB) of annotations in all.

## Why is this bad?
The stage would run without the CPU or memory the file asks for, or in the worker's
own Python environment instead of the pinned image; the note says which option would
honour it. A document too large for `kubectl apply` is refused when it is installed
("metadata.annotations: Too long: must have at most 262144 bytes"); the note names the
commands that install it all the same: `kubectl apply --server-side`, `kubectl create`,
or `argo cron create` / `argo template create`.

## Example
Built with `--target airflow` (the BashOperator default):
```pipe
team ml { contact "#ml"; role ml }

pipeline p {
  owner ml
  on_failure block
  predicts iid

  source events {
    from csv "events.csv"
    schema { id: string; x: float; y: bool }
  }

  validate events {
    require id, x, y
  }

  label y {
    column y
    known_after 0d
  }

  split by random {
    test 20%
    seed 7
  }

  train m {
    model "sklearn.linear_model.LogisticRegression"
    task binary
    seed 7
    resources { cpu: 4 }
  }
}
```

## Use instead
Build with `--airflow-operator kubernetes`, or for Argo, where resources are requested
for the stage's pod:
```pipe
team ml { contact "#ml"; role ml }

pipeline p {
  owner ml
  on_failure block
  predicts iid
  image "example.com/train@sha256:4b1c0f9e2d7a8c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d"

  source events {
    from csv "events.csv"
    schema { id: string; x: float; y: bool }
  }

  validate events {
    require id, x, y
  }

  label y {
    column y
    known_after 0d
  }

  split by random {
    test 20%
    seed 7
  }

  train m {
    model "sklearn.linear_model.LogisticRegression"
    task binary
    seed 7
    resources { cpu: 4 }
  }
}
```
''', phase="build")


document("BUILD003", "warning", "stage pods that share no run store", '''
## What it does
Reported by `pipec build --target argo` (or `--airflow-operator kubernetes`) when no
`[tool.pipec] state_volume` names a PersistentVolumeClaim for the stage pods to share.

## Why is this bad?
Each stage runs in a pod of its own, with its own empty run store: the second stage
finds no outputs of the first and fails (and is retried, in vain), and a model written
to a `registry local` folder is lost with its pod.

## Example
Built with `--target argo`, with a `pyproject.toml` beside the `.pipe` file that names
no claim (or no `pyproject.toml` at all):
```toml
[tool.pipec]
argo_max_bytes = 1000000
```

## Use instead
```toml
[tool.pipec]
state_volume = "pipec-state"
```
''', phase="build")
