"""Reproducibility across processes: the same input gets the same sides in a fresh
interpreter with another `PYTHONHASHSEED`.

In one process Python's `hash()` of a string is stable, so a split that hashes keys with
it passes every in-process property and still moves keys between runs. This property
runs the implementation in two child interpreters with different hash seeds. The
implementation must be importable by name (`module:function`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
from pipec.testing.properties import (
    Counterexample,
    Impl,
    Options,
    SplitPropertyFailure,
    _rows,
    runtime_impl,
    sides,
    statement,
)
from pipec.testing.spec import SplitSpec
from pipec.testing.strategies import ROW, bulk_table, default_snapshot

HASH_SEEDS = ("1", "2")
SIZES = (1, 2, 5, 20, 200)


def reference(impl: Impl) -> tuple[str, str] | None:
    """(`module:qualname`, import root) of an importable function, else None."""
    module = sys.modules.get(getattr(impl, "__module__", "") or "")
    qualname = getattr(impl, "__qualname__", "")
    if module is None or "<" in qualname or module.__name__ == "__main__":
        return None
    root = Path(getattr(module, "__file__", "") or ".").resolve().parent
    for _ in range(module.__name__.count(".")):
        root = root.parent
    return f"{module.__name__}:{qualname}", str(root)


def reproducible_across_processes(spec: SplitSpec, impl: Impl | None = None,
                                  options: Options | None = None) -> None:
    """Every kind: the same input gets the same sides in another process, whatever its
    `PYTHONHASHSEED` (a split must not depend on Python's randomised `hash()`)."""
    impl, options = impl or runtime_impl(), options or Options()
    ref = reference(impl)
    if ref is None:
        return  # a local function cannot be imported by a child interpreter
    tables = [bulk_table(spec, n, seed) for seed, n in enumerate(SIZES)]
    snapshot = default_snapshot(spec)
    if options.tick is not None:
        options.tick()
    try:
        _compare(spec, impl, ref, tables, snapshot)
    except Counterexample as exc:
        # Outside hypothesis nothing turns a raising split into a property failure: without
        # this, `pipec test` stops with an internal error and pytest with an error.
        func = reproducible_across_processes
        raise SplitPropertyFailure(func.__name__, statement(func), exc.message,
                                   exc.rows) from None


def _compare(spec: SplitSpec, impl: Impl, ref: tuple[str, str], tables: list[pa.Table],
             snapshot: date) -> None:
    runs = [_child(spec, ref, tables, seed) for seed in HASH_SEEDS]
    for i, table in enumerate(tables):
        mine = sides(spec, impl, table, snapshot)
        for seed, run in zip(HASH_SEEDS, runs, strict=True):
            theirs = {int(k): v for k, v in run[i].items()}
            if theirs != mine:
                raise _failure(spec, table, mine, theirs, seed)


def _failure(spec: SplitSpec, table: pa.Table, mine: dict[int, Any], theirs: dict[int, Any],
             seed: str) -> SplitPropertyFailure:
    differ = [r for r in mine if mine[r] != theirs.get(r)]
    shown = table.filter(pa.array([r in differ[:5] for r in table.column(ROW).to_pylist()]))
    message = (f"{len(differ)} of {table.num_rows} row(s) change side in a process with "
               f"PYTHONHASHSEED={seed}: row {differ[0]} is on `{mine[differ[0]]}` here and on "
               f"`{theirs.get(differ[0])}` there")
    rows = _rows(spec, shown, side_here=mine, side_in_other_process=theirs)
    func = reproducible_across_processes
    return SplitPropertyFailure(func.__name__, statement(func), message, rows)


def _child(spec: SplitSpec, ref: tuple[str, str], tables: list[pa.Table],
           hash_seed: str) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="pipec-test-") as tmp:
        folder = Path(tmp)
        for i, table in enumerate(tables):
            with pa.OSFile(str(folder / f"{i}.arrow"), "wb") as sink, \
                    pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
        job = {"impl": ref[0], "root": ref[1], "split": spec.split, "on": spec.on,
               "identity": list(spec.identity), "count": len(tables),
               "snapshot": default_snapshot(spec).isoformat()}
        (folder / "job.json").write_text(json.dumps(job), encoding="utf-8")
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-m", "pipec.testing._worker", str(folder)],
                              env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise Counterexample(f"the split failed in a child process: "
                                 f"{done.stderr.strip()[-500:]}", [])
        return json.loads((folder / "sides.json").read_text(encoding="utf-8"))
