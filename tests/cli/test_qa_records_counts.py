"""`pipec runs` says its counts as `pipec run` does: `336,688 rows`, `1 row`, the newest
50 of `1,200` runs, the start of `1,200` run ids."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pipec.cli import main
from support.records import run_record, stored

GATE = {"line": "features compatible", "passed": True, "observed": True,
        "blocking": True, "kind": "features_compatible", "note": ""}
RUN = "786dd6d6039d4c66"


def _data(rows: int | None, content_hash: str | None = "d" * 64) -> dict[str, Any]:
    return {"snapshot": "2026-03-31", "content_hash": content_hash, "rows": rows}


def _pipec(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_says_row_counts_as_pipec_run_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = run_record(RUN, GATE, "img", data={
        "flights": _data(336_688), "planes": _data(1), "weather": _data(None),
        "airports": _data(None, None)})
    stored(tmp_path, record)
    code, out, err = _pipec(capsys, "runs", "show", RUN, "--project", str(tmp_path))
    assert code == 0, err
    data = [line.strip() for line in out.splitlines() if line.lstrip().startswith("data")]
    assert data == [
        "data      airports: not read in this run",
        f"data      flights: 336,688 rows, snapshot 2026-03-31, sha256 {'d' * 12}",
        f"data      planes: 1 row, snapshot 2026-03-31, sha256 {'d' * 12}",
        f"data      weather: rows not counted, snapshot 2026-03-31, sha256 {'d' * 12}",
    ], out
    # The record itself keeps the number.
    code, out, _ = _pipec(capsys, "runs", "show", RUN, "--format", "json",
                          "--project", str(tmp_path))
    assert json.loads(out)["data"]["flights"]["rows"] == 336_688


def _many(folder: Path, count: int) -> None:
    """`count` more runs whose ids start with `run`, their rows inserted at once (one
    by one through the store, each record's bytes synced, would take seconds)."""
    stored(folder, run_record("seed", GATE, "img"))
    db = sqlite3.connect(folder / ".pipec" / "index.sqlite")
    try:
        rows = []
        for number in range(count):
            text = json.dumps(run_record(f"run{number:05d}", GATE, "img"), sort_keys=True)
            rows.append((f"run{number:05d}", "p", "succeeded",
                         hashlib.sha256(text.encode()).hexdigest(), text, number))
        with db:  # one transaction
            db.executemany("INSERT INTO run_records VALUES (?,?,?,?,?,?)", rows)
    finally:
        db.close()


def test_runs_are_counted_with_thousands_separators(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _many(tmp_path, 1_200)
    code, _, err = _pipec(capsys, "runs", "--limit", "2", "--project", str(tmp_path))
    assert code == 0 and "(the newest 2 of 1,201 runs; `--limit 0`" in err, err
    code, _, err = _pipec(capsys, "runs", "show", "run", "--project", str(tmp_path))
    assert code == 2 and "`run` is the start of 1,200 run ids (run01199, " in err, err
