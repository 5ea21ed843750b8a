"""What a stage runner sees: the manifest, the store, the index and this run's outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ManifestError, MissingUpstream
from .store import ArtifactStore, RunIndex

if TYPE_CHECKING:  # DuckDB is imported by the runners that use it, not here
    import duckdb

# A stage execution with one of these statuses has usable outputs.
USABLE = ("ran", "skipped (cached)", "reused")


def manifest_stage(manifest: dict[str, Any], stage_id: str) -> dict[str, Any]:
    """The manifest's entry for `stage_id`."""
    for stage in manifest["stages"]:
        if stage["id"] == stage_id:
            return stage
    raise ManifestError(f"the manifest has no stage {stage_id!r}")


def upstream_ids(manifest: dict[str, Any], stage_id: str) -> list[str]:
    """Every stage `stage_id` depends on, directly or through others (by `inputs`)."""
    inputs = {s["id"]: s.get("inputs") or [] for s in manifest["stages"]}
    found: set[str] = set()
    pending = list(inputs.get(stage_id, []))
    while pending:
        sid = pending.pop()
        if sid not in found:
            found.add(sid)
            pending.extend(inputs.get(sid, []))
    return sorted(found)


@dataclass(frozen=True, slots=True)
class StageOutput:
    """What a runner returns: named artifact ids and a JSON-able report."""

    outputs: dict[str, str]
    report: dict[str, Any] = field(default_factory=dict)


@dataclass
class StageContext:
    manifest: dict[str, Any]
    manifest_dir: Path
    stage: dict[str, Any]
    run_id: str
    store: ArtifactStore
    index: RunIndex
    options: dict[str, Any] = field(default_factory=dict)
    # An evaluate stage's champion as its cache key named it (`champion.named_champion`):
    # resolved once, so the stage compares the very version the key names. None until
    # then; `{"resolved": ...}` after (what it resolved may itself be None: no registry).
    named_champion: dict[str, Any] | None = field(default=None, repr=False)

    def close(self) -> None:
        self.index.close()
        self.store.close()

    @property
    def base_dir(self) -> Path:
        """Where the `.pipe` file's relative paths start (docs/manifest.md)."""
        return (self.manifest_dir / self.manifest.get("base_dir", ".")).resolve()

    def stage_def(self, stage_id: str) -> dict[str, Any]:
        return manifest_stage(self.manifest, stage_id)

    def has_stage(self, stage_id: str) -> bool:
        return any(s["id"] == stage_id for s in self.manifest["stages"])

    def source_def(self, name: str) -> dict[str, Any]:
        return self.stage_def(f"source.{name}")

    def dataset_stage(self, source: str) -> str:
        """Every consumer of a validated source reads the validate stage's output."""
        validate = f"validate.{source}"
        return validate if self.has_stage(validate) else f"source.{source}"

    def base_source(self) -> str:
        return self.manifest["pipeline"]["base_source"]

    def outputs_of(self, stage_id: str) -> dict[str, str]:
        """Outputs of an upstream stage in this run (run, cached or reused)."""
        execution = self.index.execution(self.run_id, stage_id)
        if execution is None or execution.status not in USABLE:
            raise MissingUpstream(
                f"{self.stage['id']}: upstream {stage_id!r} has no outputs in run {self.run_id}"
            )
        return execution.outputs

    def source_meta(self, source: str) -> dict[str, Any]:
        """The load report of a source (snapshot, type errors...), via its dataset stage."""
        return self.store.get_json(self.outputs_of(self.dataset_stage(source))["meta"])

    def open_dataset(
        self, con: duckdb.DuckDBPyConnection, source: str, name: str, row_id: bool = False
    ) -> None:
        from .db import load_parquet

        artifact = self.outputs_of(self.dataset_stage(source))["dataset"]
        load_parquet(con, name, self.store.get_path(artifact), row_id=row_id)

    def open_output(
        self, con: duckdb.DuckDBPyConnection, stage_id: str, output: str, name: str
    ) -> None:
        from .db import load_parquet

        load_parquet(con, name, self.store.get_path(self.outputs_of(stage_id)[output]))

    def put_query(self, con: duckdb.DuckDBPyConnection, table: str) -> str:
        """Store a DuckDB table as a parquet artifact."""
        from .db import ident, query_arrow

        return self.store.put_table(query_arrow(con, f"SELECT * FROM {ident(table)}"))

    def connect(self) -> duckdb.DuckDBPyConnection:
        from .db import connect

        return connect()
