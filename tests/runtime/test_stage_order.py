"""Every stage runs after every stage whose output it reads: the runtime's `reads` of
each data stage are upstream of it through the manifest's inputs (what Airflow and Argo
order by) and come before it in the manifest's order (what the local runner follows).

The reference program once failed its first run: `label.is_fraud` reads the base rows
(`validate.transactions`) as well as its own source, but only the latter was an input,
and `chargebacks` sorts before `transactions`."""

from __future__ import annotations

from pathlib import Path

import pipec
import pytest
from pipec.manifest import build_manifest
from pipec.stdlib.runtime.context import StageContext
from pipec.stdlib.runtime.stage import STAGE_RUNNERS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DATA_KINDS = ("validate", "label", "features", "join", "split")


@pytest.mark.parametrize("path", [EXAMPLES / "fraud" / "fraud.pipe",
                                  EXAMPLES / "flights" / "flights.pipe"], ids=lambda p: p.stem)
def test_data_stages_follow_what_they_read(path: Path) -> None:
    manifest = build_manifest(pipec.compile(path))
    order = [stage["id"] for stage in manifest["stages"]]
    upstream: dict[str, set[str]] = {}
    for stage in manifest["stages"]:  # topological: inputs come first
        upstream[stage["id"]] = set(stage["inputs"]).union(
            *(upstream[i] for i in stage["inputs"]))
    checked = 0
    for position, stage in enumerate(manifest["stages"]):
        if stage["kind"] not in DATA_KINDS:
            continue
        ctx = StageContext(manifest, path.parent, stage, "run", None, None)  # type: ignore[arg-type]
        for read in STAGE_RUNNERS[stage["kind"]].reads(ctx):
            assert read in upstream[stage["id"]], (stage["id"], read)
            assert order.index(read) < position, (stage["id"], read)
            checked += 1
    assert checked > 5


def test_the_reference_label_reads_the_base_rows_too() -> None:
    manifest = build_manifest(pipec.compile(EXAMPLES / "fraud" / "fraud.pipe"))
    label = next(s for s in manifest["stages"] if s["id"] == "label.is_fraud")
    assert label["inputs"] == ["validate.chargebacks", "validate.transactions"]
