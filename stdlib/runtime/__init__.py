"""The pipec runtime: executes the stages of a lineage manifest (docs/manifest.md).

This package holds the data half (sources, validation, labels, features, join, splits)
plus the store, the run index, the stage entry point and the local runner. Model stages
(train, evaluate, register, approval, deploy) plug into `STAGE_RUNNERS`.
"""

from typing import Any

# Names resolve on first use, so that `import pipec.stdlib.runtime.X` loads only what X
# needs (a fully cached run loads no data library).
_EXPORTS = {
    "StageContext": "context", "StageOutput": "context", "ArtifactMissing": "errors",
    "ManifestError": "errors", "MissingUpstream": "errors", "PipecRuntimeError": "errors",
    "SourceError": "errors", "StageNotAvailable": "errors", "ValidationBlocked": "errors",
    "RunResult": "runner", "run_pipeline": "runner", "STAGE_RUNNERS": "stage",
    "StageResult": "stage", "StageRunner": "stage", "run_stage": "stage",
    "ArtifactStore": "store", "RunIndex": "store",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


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
