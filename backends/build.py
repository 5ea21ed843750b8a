"""Build one program for one target: check, lower, emit, measure, add `lineage.json`.

`pipec build` writes the result; tests call `build_files` directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from pipec.atomic import inside
from pipec.backends.base import BuildOptions, pipeline_span
from pipec.backends.registry import get_backend, plugin_guard
from pipec.backends.runtime_limits import runtime_limits
from pipec.diagnostics import Diagnostic, error, has_errors
from pipec.model import Program


@dataclass
class BuildResult:
    files: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    resolved: dict[str, Any] = field(default_factory=dict)  # source -> date (`--resolve`)
    # The `[tool.pipec] manifest_configmap` the built stage pods mount, as the backend
    # lowered it (None where no pod runs: the BashOperator, the local script).
    mounted_configmap: str | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def build_files(path: Path, target: str, output: Path, *,
                airflow_operator: str = "bash", resolve: bool = False) -> BuildResult:
    """`resolve`: read each `snapshot latest` source's data first and check the rules
    with the dates they resolve to (raises `ResolveError` when the data cannot be read)."""
    from pipec.perf import gc_paused

    with gc_paused():  # see pipec.perf: builds of large programs stay linear
        return _build_files(path, target, output, airflow_operator, resolve)


def _build_files(path: Path, target: str, output: Path, airflow_operator: str,
                 resolve: bool = False) -> BuildResult:
    from pipec.check import compile
    from pipec.config import load_config, options_for

    check_options = options_for(path)
    program = compile(path, options=check_options)
    resolved = {}
    if resolve and program.ok:
        from pipec.backends.resolve import resolve_snapshots

        resolved = resolve_snapshots(program, path.parent)
        if resolved:
            check_options.resolved_snapshots = resolved
            program = compile(path, options=check_options)
    result = BuildResult(diagnostics=list(program.diagnostics),
                         sources={f.display: f.text for f in program.files}, resolved=resolved)
    if not program.ok:
        return result
    if program.pipeline is None:
        result.diagnostics.append(error("BUILD001", "this file declares no pipeline: there is "
                                        "nothing to build", pipeline_span(program)))
        return result
    from pipec.manifest import build_manifest, dump_manifest

    config = load_config(path)
    # Built once: the backends lower from it, and it is written as `lineage.json`.
    manifest = build_manifest(program, base_dir=relative_base_dir(path, output))
    options = BuildOptions(airflow_operator=airflow_operator,
                           argo_max_bytes=config.argo_max_bytes,
                           airflow_max_tasks=config.airflow_max_tasks,
                           state_volume=config.state_volume,
                           service_account=config.service_account,
                           sensor_service_account=config.sensor_service_account,
                           manifest_configmap=config.manifest_configmap,
                           max_parallel_stages=config.max_parallel_stages,
                           manifest=manifest)
    files, found, result.mounted_configmap = _lower_and_emit(program, target, options)
    found += runtime_limits(program)
    # Resolved, as `pipec run` does: REPRO005 names the folder, and the parent of a bare
    # `model.pipe` is `.`, which named no folder at all.
    found += _repro005(program, path.resolve().parent, output)
    result.diagnostics += _policy(found, check_options)
    result.files = {**files, options.manifest_name: dump_manifest(manifest)}
    return result


def _lower_and_emit(program: Program, target: str, options: BuildOptions
                    ) -> tuple[dict[str, str], list[Diagnostic], str | None]:
    """The target's files, what lowering and measuring them found, and the ConfigMap its
    pods mount the manifest from (the lowered model's `manifest_configmap`, if any)."""
    backend = get_backend(target)
    with plugin_guard(target, "lowering the program"):
        lowered = backend.lower(program, options)
        diagnostics = list(lowered.diagnostics)
    if has_errors(diagnostics):
        return {}, diagnostics, None
    with plugin_guard(target, "writing its files"):
        files = backend.emit(lowered)
        _check_files(files)
    too_long = _long_file_names(files, program)
    if too_long:
        return {}, diagnostics + too_long, None
    with plugin_guard(target, "measuring its files"):
        measured = list(backend.measure(lowered, files, options))
    return files, diagnostics + measured, getattr(lowered.model, "manifest_configmap", None)


def _check_files(files: object) -> None:
    """What `emit` returns: relative POSIX paths inside the output folder -> text. A path
    that leaves the folder would write a file outside it, which a build never touches."""
    if not isinstance(files, dict):
        raise TypeError(f"emit returned {type(files).__name__}, not a dict of path -> text")
    for name, text in files.items():
        if not isinstance(name, str) or not inside(name):
            raise ValueError(f"emit returned the path {name!r}: a file name must be a "
                             "relative path inside the output folder")
        if not isinstance(text, str):
            raise TypeError(f"emit returned {type(text).__name__} for {name!r}, not text")


# The longest file name most file systems take (NAME_MAX), in bytes.
FILE_NAME_MAX = 255


def _long_file_names(files: dict[str, str], program: Program) -> list[Diagnostic]:
    """Files are named after the pipeline (`<pipeline>.yaml`, `run_<pipeline>.py`): a name
    past what file systems take would build with no error, then fail the write itself."""
    found = []
    for name in sorted(files):
        part = max(PurePath(name).parts, key=lambda p: len(p.encode()))
        size = len(part.encode())
        if size > FILE_NAME_MAX:
            found.append(error("BUILD001", f"the output file `{part[:40]}…` would have a "
                               f"name of {size:,} bytes, and file systems refuse more than "
                               f"{FILE_NAME_MAX}", pipeline_span(program),
                               "shorten the pipeline's name"))
    return found


def _repro005(program: Program, repo_dir: Path, output: Path) -> list[Diagnostic]:
    from pipec.rules.repro005_dirty_tree import repro005

    return repro005(program, repo_dir, [output])


def _policy(diagnostics: list[Diagnostic], options) -> list[Diagnostic]:
    """`[tool.pipec]` ignore/select/severity for build-time codes (no suppressions:
    these are about the build, not a line of the file)."""
    from pipec.diagnostics import Severity
    from pipec.policy import severity_override

    kept = []
    for diagnostic in diagnostics:
        override = severity_override(diagnostic.code, options)
        if diagnostic.code in options.ignore or override == "off":
            continue
        if options.select is not None and diagnostic.code not in options.select \
                and not diagnostic.code.startswith("BUILD"):
            continue
        kept.append(diagnostic.with_severity(Severity(override)) if override else diagnostic)
    return sorted(kept, key=lambda d: d.sort_key)


def relative_base_dir(pipe_file: Path, output: Path) -> str:
    """The .pipe file's folder relative to the output folder, POSIX style."""
    relative = os.path.relpath(pipe_file.resolve().parent, output.resolve())
    return PurePath(relative).as_posix()
