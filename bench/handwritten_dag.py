"""Write the hand-written equivalent of a generated Airflow DAG: what an engineer types
without pipec, BashOperators in a loop with the same tasks and the same dependencies.

    python -m bench.handwritten_dag LINEAGE_JSON OUT.py

The task list and edges come from the lineage manifest the generated DAG runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TEMPLATE = '''import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

STAGES = {stages}

EDGES = {edges}

with DAG(
    dag_id={dag_id!r},
    schedule=None,
    start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
) as dag:
    tasks = {{}}
    for stage in STAGES:
        tasks[stage] = BashOperator(
            task_id=stage.replace(".", "__"),
            bash_command=f"pipec stage run --manifest lineage.json --stage {{stage}}",
        )
    for upstream, downstream in EDGES:
        tasks[upstream] >> tasks[downstream]
'''


def handwritten(manifest: dict, dag_id: str) -> str:
    stages = [s["id"] for s in manifest["stages"]]
    edges = [(e["source"], e["target"]) for e in manifest["edges"]]
    return TEMPLATE.format(stages="[\n" + "".join(f"    {s!r},\n" for s in stages) + "]",
                           edges="[\n" + "".join(f"    {e!r},\n" for e in edges) + "]",
                           dag_id=dag_id)


def main(argv: list[str]) -> int:
    manifest = json.loads(Path(argv[1]).read_text("utf-8"))
    out = Path(argv[2])
    out.write_text(handwritten(manifest, out.stem), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
