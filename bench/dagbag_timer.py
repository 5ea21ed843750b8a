"""Time Airflow's DagBag on DAG files, interleaved. Run with the Airflow venv's python:

    .venv-airflow/bin/python bench/dagbag_timer.py REPS FILE...

Prints one JSON object: {"airflow_version", "files": {FILE: {"seconds": [...],
"dags": {dag_id: task count}, "import_errors": {...},
"compile_seconds": median time to compile the source}}}. Airflow itself is imported
once, before any timing; each round loads every file in a new DagBag (alternating the
order), which re-executes the file.
"""

import gc
import json
import os
import sys
import tempfile
import time


def main(argv):
    reps, files = int(argv[1]), [os.path.realpath(f) for f in argv[2:]]
    home = tempfile.mkdtemp(prefix="bench-airflow-home-")
    os.environ.update({
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "sqlite:///" + os.path.join(home, "airflow.db"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "600",
    })
    json_fd = os.dup(1)
    os.dup2(2, 1)  # whatever Airflow prints goes to stderr
    import airflow

    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:
        from airflow.models.dagbag import DagBag
    import inspect

    extra = {}
    if "include_examples" in inspect.signature(DagBag.__init__).parameters:
        extra["include_examples"] = False
    out = {f: {"seconds": [], "dags": {}, "import_errors": {}} for f in files}

    def load(path):
        gc.collect()  # each load starts from the same heap, not from the last one's garbage
        start = time.perf_counter()
        bag = DagBag(dag_folder=path, **extra)
        seconds = time.perf_counter() - start
        out[path]["dags"] = {d: len(bag.dags[d].tasks) for d in bag.dags}
        out[path]["import_errors"] = {str(k): str(v)[-2000:] for k, v in bag.import_errors.items()}
        return seconds

    for path in files:  # warm-up
        load(path)
    for rep in range(reps):
        for path in files if rep % 2 == 0 else reversed(files):
            out[path]["seconds"].append(load(path))
    for path in files:  # the share of a load that is only compiling the file's source
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            compile(source, path, "exec")
            runs.append(time.perf_counter() - start)
        out[path]["compile_seconds"] = sorted(runs)[len(runs) // 2]
    os.dup2(json_fd, 1)
    print(json.dumps({"airflow_version": airflow.__version__, "files": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
