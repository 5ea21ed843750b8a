"""Load a folder of DAG files with Airflow's own DagBag and describe the result as JSON.

Run this with the Python of the Airflow virtualenv (see ``.ci/airflow-venv.sh``), never
with the project's own interpreter::

    .venv-airflow/bin/python tests/support/dagbag_probe.py DAG_FOLDER

It prints exactly one JSON object on stdout (everything Airflow logs goes to stderr)::

    {
      "airflow_version": "3.x.y",
      "import_errors": {file: message},
      "warnings": [{category, message, filename, lineno, dag_file, in_dag_folder}],
      "other_warnings": [...],        # raised while loading, but not by a DAG file's import
      "airflow_import_warnings": [...],  # raised by ``import airflow`` before any DAG file
      "captured_warnings": {file: [str]},  # DagBag's own per-file record, verbatim
      "dags": {dag_id: {"tasks": {task_id: {...}}, "schedule": str, "tags": [...],
                        "timetable": str, ...}}
    }

A warning counts as a DAG file's ("warnings", with ``dag_file`` set) when it was raised while
DagBag imported that file -- the same rule Airflow uses for the warnings it shows on a DAG --
or when Python attributed it to a file inside DAG_FOLDER. ``filename`` alone is not enough:
a deprecated argument to an operator is blamed on the operator's module (e.g. HITL's
``execution_timeout`` names ``.../operators/hitl.py``); ``in_dag_folder`` tells which.
Warnings that ``import airflow`` itself raises are listed apart, so tests can ignore them.

The exit status is 0 whenever the JSON was printed (import errors included); 2 on bad usage.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings


def _setup_environment(home: str, dag_folder: str) -> None:
    # Everything here must happen before ``airflow`` is first imported: Airflow reads its
    # configuration (and creates AIRFLOW_HOME/airflow.cfg) at import time.
    os.environ["AIRFLOW_HOME"] = home
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = dag_folder
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = "sqlite:///" + os.path.join(
        home, "airflow.db"
    )
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    os.environ.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "60")


def _warning_dict(w: warnings.WarningMessage) -> dict:
    category = w.category
    name = category.__name__
    if category.__module__ != "builtins":
        name = f"{category.__module__}.{name}"
    return {
        "category": name,
        "message": str(w.message),
        "filename": str(w.filename),
        "lineno": w.lineno,
    }


def _inside(path: str, folder: str) -> bool:
    try:
        path = os.path.realpath(path)
    except (TypeError, ValueError):
        return False
    return path == folder or path.startswith(folder + os.sep)


def _seconds(value) -> float | None:
    if value is None:
        return None
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _jsonable(value):
    """Best-effort conversion of an operator attribute to JSON."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "to_dict"):
        try:
            return _jsonable(value.to_dict())
        except Exception:  # noqa: BLE001 - description only
            pass
    return repr(value)


# Operator attributes worth reporting when an operator has them.
_EXTRA_ATTRS = (
    "bash_command",
    "env",
    "append_env",
    "env_vars",
    "cwd",
    "subject",
    "body",
    "options",
    "defaults",
    "multiple",
    "response_timeout",
    "fail_on_reject",
    "image",
    "cmds",
    "arguments",
    "name",
    "namespace",
    "container_resources",
    "volumes",
    "volume_mounts",
    "service_account_name",
    "labels",
    "annotations",
    "trigger_rule",
    "pool",
    "queue",
    "doc_md",
    "skip_on_exit_code",
)


def _describe_task(task) -> dict:
    out = {
        "upstream": sorted(task.upstream_task_ids),
        "downstream": sorted(task.downstream_task_ids),
        "owner": task.owner,
        "retries": task.retries,
        "retry_delay_s": _seconds(task.retry_delay),
        "execution_timeout_s": _seconds(task.execution_timeout),
        "operator": type(task).__name__,
        "operator_module": type(task).__module__,
        # module.name of every class it derives from (a DAG file's own subclasses)
        "bases": [f"{c.__module__}.{c.__name__}" for c in type(task).__mro__[1:]],
    }
    extra = {}
    for attr in _EXTRA_ATTRS:
        if hasattr(type(task), attr) or attr in getattr(task, "__dict__", {}):
            try:
                extra[attr] = _jsonable(getattr(task, attr))
            except Exception:  # noqa: BLE001 - description only
                continue
    out["attrs"] = extra
    return out


def _describe_timetable(dag) -> tuple[str, str | None]:
    timetable = dag.timetable
    summary = getattr(timetable, "summary", None)
    if not isinstance(summary, str):
        try:  # Airflow >= 3.2 keeps the summary on the scheduler-side timetable
            from airflow.serialization.encoders import coerce_to_core_timetable

            summary = coerce_to_core_timetable(timetable).summary
        except Exception:  # noqa: BLE001 - description only
            summary = getattr(timetable, "expression", None)
    return type(timetable).__name__, summary if isinstance(summary, str) else None


def _describe_dag(dag) -> dict:
    timetable, summary = _describe_timetable(dag)
    schedule = getattr(dag, "schedule", None)
    params = {}
    try:
        params = {k: _jsonable(v) for k, v in dag.params.dump().items()}
    except Exception:  # noqa: BLE001 - description only
        params = {"<unreadable>": repr(dag.params)}
    return {
        "tasks": {t.task_id: _describe_task(t) for t in dag.tasks},
        "schedule": schedule if isinstance(schedule, str) or schedule is None else repr(schedule),
        "timetable": timetable,
        "timetable_summary": summary,
        "tags": sorted(dag.tags or []),
        "doc_md": dag.doc_md,
        "description": dag.description,
        "params": params,
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "catchup": getattr(dag, "catchup", None),
        "max_active_tasks": getattr(dag, "max_active_tasks", None),
        "fileloc": dag.fileloc,
    }


def _make_dagbag(dag_folder: str):
    try:  # Airflow >= 3.2
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0 / 3.1
        from airflow.models.dagbag import DagBag
    import inspect

    kwargs = {"dag_folder": dag_folder}
    if "include_examples" in inspect.signature(DagBag.__init__).parameters:
        kwargs["include_examples"] = False  # removed in Airflow 3.2
    return DagBag(**kwargs)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] in {"-h", "--help"}:
        print(f"usage: {argv[0]} DAG_FOLDER", file=sys.stderr)
        return 2
    dag_folder = os.path.realpath(argv[1])
    if not os.path.isdir(dag_folder):
        print(f"not a directory: {argv[1]}", file=sys.stderr)
        return 2

    # Keep the real stdout for the JSON; anything Airflow prints goes to stderr.
    sys.stdout.flush()
    json_fd = os.dup(1)
    os.dup2(2, 1)

    with tempfile.TemporaryDirectory(prefix="pipec-airflow-home-") as home:
        _setup_environment(home, dag_folder)

        with warnings.catch_warnings(record=True) as import_warnings:
            warnings.simplefilter("always")
            import airflow  # noqa: F401 - records the warnings Airflow raises on import

        with warnings.catch_warnings(record=True) as load_warnings:
            warnings.simplefilter("always")
            dagbag = _make_dagbag(dag_folder)

        result = {
            "airflow_version": airflow.__version__,
            "dag_folder": dag_folder,
            "import_errors": {str(k): str(v) for k, v in sorted(dagbag.import_errors.items())},
            "warnings": [],
            "other_warnings": [],
            "airflow_import_warnings": [_warning_dict(w) for w in import_warnings],
            "captured_warnings": {
                str(k): list(v) for k, v in sorted(getattr(dagbag, "captured_warnings", {}).items())
            },
            "dags": {},
        }
        # DagBag records every warning raised while it imports a DAG file, as
        # "FILE:LINE: CATEGORY: MESSAGE" under that DAG file (Airflow shows these as the
        # DAG's warnings), then re-emits each one at its original filename/lineno: with its
        # own category up to Airflow 3.1, as a UserWarning from 3.2 on. A recorded warning
        # that matches such a line is the DAG file's, whichever file Python blamed for it
        # (a deprecation inside an operator's __init__ names the operator's module).
        captured = [
            (dag_file, line)
            for dag_file, lines in result["captured_warnings"].items()
            for line in lines
        ]
        for w in load_warnings:
            entry = _warning_dict(w)
            entry["in_dag_folder"] = _inside(entry["filename"], dag_folder)
            prefix = f"{entry['filename']}:{entry['lineno']}: "
            suffix = f": {entry['message']}"
            for dag_file, line in captured:
                if line.startswith(prefix) and line.endswith(suffix):
                    entry["category"] = line[len(prefix) : len(line) - len(suffix)]
                    entry["dag_file"] = dag_file
                    break
            if "dag_file" not in entry and entry["in_dag_folder"]:
                entry["dag_file"] = entry["filename"]
            result["warnings" if "dag_file" in entry else "other_warnings"].append(entry)

        order = lambda e: (e.get("dag_file", ""), e["filename"], e["lineno"] or 0, e["message"])  # noqa: E731
        result["warnings"].sort(key=order)
        result["other_warnings"].sort(key=order)

        for dag_id in sorted(dagbag.dags):
            result["dags"][dag_id] = _describe_dag(dagbag.dags[dag_id])

    sys.stdout.flush()  # whatever Airflow buffered still belongs on stderr
    os.dup2(json_fd, 1)
    os.close(json_fd)
    sys.stdout.write(json.dumps(result, sort_keys=True, default=repr) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
