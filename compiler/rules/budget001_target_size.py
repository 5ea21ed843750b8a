"""BUDGET001: a target's output that will not fit its orchestrator.

Reported by `build` (backends call `budget001`) with the measured size.
"""

from __future__ import annotations

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.rules import document

DOC = '''
## What it does
After a backend has generated its output, compares it with what the orchestrator
accepts: an Argo document larger than 1,000,000 bytes serialized (etcd's object
limit), or an Airflow DAG of more than 5,000 tasks. The limits are configurable with
`argo_max_bytes` and `airflow_max_tasks` under `[tool.pipec]`; with `[tool.pipec]
manifest_configmap`, also a `lineage.json` over the 1 MiB Kubernetes allows a ConfigMap
(its own limit, which no setting raises). Reported by `build` with the measured size.
An Argo CronWorkflow or WorkflowTemplate within the limit but too large for a plain
`kubectl apply` (over 256 KiB, which that command copies into an annotation) gets a
BUILD002 note instead, naming the commands that install it.

## Why is this bad?
The orchestrator rejects the workflow at submission, or its scheduler slows to a
crawl, long after the file was checked and merged.

## Example
Built for Argo with `argo_max_bytes = 2000` under `[tool.pipec]`, this pipeline's
workflow (a few kilobytes) is over the limit:
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

## Use instead
Keep the limit at what the orchestrator accepts, and split a pipeline whose stages
outgrow it into several files:
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
'''

document("BUDGET001", "error", "a target's output that will not fit its orchestrator", DOC,
         phase="build")

UNITS = {"argo": "bytes serialized", "airflow": "tasks"}
SETTINGS = {"argo": "argo_max_bytes", "airflow": "airflow_max_tasks"}


def budget001(span: n.Span, target: str, size: int, limit: int) -> Diagnostic:
    """The diagnostic a backend reports when its output of `size` exceeds `limit`."""
    unit = UNITS.get(target, "units")
    what = {"argo": "the Argo document", "airflow": "the Airflow DAG"}.get(
        target, f"the {target} output")
    knob = SETTINGS.get(target)
    help_text = "split the pipeline into smaller ones"
    if knob:
        help_text += f", or raise `{knob}` under [tool.pipec] if your orchestrator allows it"
    return error("BUDGET001", f"{what} is {size:,} {unit}, over the limit of {limit:,} by "
                 f"{size - limit:,}: the orchestrator would reject it", span, help_text)
