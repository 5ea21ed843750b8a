"""The pipec runtime: executes the stages of a lineage manifest (docs/manifest.md).

This package holds the data half (sources, validation, labels, features, join, splits)
plus the store, the run index, the stage entry point and the local runner. Model stages
(train, evaluate, register, approval, deploy) plug into `STAGE_RUNNERS`.
"""

from .context import StageContext, StageOutput
from .errors import (
    ArtifactMissing,
    ManifestError,
    MissingUpstream,
    PipecRuntimeError,
    SourceError,
    StageNotAvailable,
    ValidationBlocked,
)
from .runner import RunResult, run_pipeline
from .stage import STAGE_RUNNERS, StageResult, StageRunner, run_stage
from .store import ArtifactStore, RunIndex

__all__ = [
    "STAGE_RUNNERS",
    "ArtifactMissing",
    "ArtifactStore",
    "ManifestError",
    "MissingUpstream",
    "PipecRuntimeError",
    "RunIndex",
    "RunResult",
    "SourceError",
    "StageContext",
    "StageNotAvailable",
    "StageOutput",
    "StageResult",
    "StageRunner",
    "ValidationBlocked",
    "run_pipeline",
    "run_stage",
]
