"""Child side of `crossproc`: split the tables of a job folder, write their sides."""

from __future__ import annotations

import importlib
import json
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
from pipec.testing.strategies import ROW

SIDE = "__side"


def main(folder: Path) -> None:
    job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    sys.path.insert(0, job["root"])
    module, _, name = job["impl"].partition(":")
    impl = importlib.import_module(module)
    for part in name.split("."):
        impl = getattr(impl, part)
    snapshot = date.fromisoformat(job["snapshot"]) if job["snapshot"] else None
    results = []
    for i in range(job["count"]):
        table = pa.ipc.open_file(str(folder / f"{i}.arrow")).read_all()
        out = impl(table, job["split"], snapshot, on=job["on"], identity=job["identity"])
        results.append(dict(zip(map(str, out.column(ROW).to_pylist()),
                                out.column(SIDE).to_pylist(), strict=True)))
    (folder / "sides.json").write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
