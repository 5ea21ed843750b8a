"""`pipec build FILE --target airflow|argo|local [-o DIR]`: exit 0 written, 1 the
program (or what the target can express of it) has an error, 2 usage error.

Writes the target's files and `lineage.json` into DIR (default `build/<target>/`): an
existing DIR is written into, not replaced, and its other files are left alone; each
file is complete before any is renamed into place, and a failure before that writes
nothing. DIR may be a symlink to a folder, but not the current folder or one holding
FILE (`_output` says why). Diagnostics only `build` can make (BUDGET001,
REPRO005, the backends' BUILD codes) are reported with the checker's."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipec.commands._files import single_file
from pipec.commands._output import output_problem, write_output

BUILTIN_TARGETS = ("airflow", "argo", "local")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the .pipe file to build")
    parser.add_argument("--target", required=True, metavar="TARGET",
                        help="airflow, argo, local, or an installed plug-in target")
    parser.add_argument("-o", "--output", metavar="DIR",
                        help="output folder (default: build/<target>/)")
    parser.add_argument("--airflow-operator", choices=("bash", "kubernetes"), default="bash",
                        help="how Airflow tasks run a stage (default: bash)")
    parser.add_argument("--resolve", action="store_true",
                        help="read the data of every `snapshot latest` source and check the "
                             "rules with the dates they resolve to")


def run(args: argparse.Namespace) -> int:
    from pipec.backends import available

    if args.target not in available():
        print(f"pipec: unknown target `{args.target}`; available: "
              f"{', '.join(available())}", file=sys.stderr)
        return 2
    path = single_file(args.file, "build")
    if path is None:
        return 2
    output = Path(args.output) if args.output else Path("build") / args.target
    problem = output_problem(output, [path])
    if problem is not None:
        print(f"pipec: {problem}", file=sys.stderr)
        return 2
    problem = _unnamable_base_dir(path, output)
    if problem is not None:
        print(f"pipec: {problem}", file=sys.stderr)
        return 2
    return build(path, args.target, output, args.airflow_operator, args.resolve)


def build(path: Path, target: str, output: Path, airflow_operator: str = "bash",
          resolve: bool = False) -> int:
    from pipec.backends.base import BuildOptions
    from pipec.backends.build import build_files
    from pipec.backends.registry import PluginError
    from pipec.backends.resolve import ResolveError
    from pipec.commands.check import emit

    try:
        result = build_files(path, target, output, airflow_operator=airflow_operator,
                             resolve=resolve)
    except ResolveError as exc:
        print(f"pipec: --resolve: {exc}", file=sys.stderr)
        return 2
    except PluginError as exc:
        print(f"pipec: {exc}; nothing written to `{output}`", file=sys.stderr)
        return 2
    for source, day in sorted(result.resolved.items()):
        print(f"snapshot latest of source `{source}` resolves to {day}", file=sys.stderr)
    emit(result.diagnostics, result.sources, "text")
    if not result.ok:
        print(f"pipec: nothing written to `{output}`", file=sys.stderr)
        return 1
    manifest = BuildOptions.manifest_name
    other = other_pipeline(output / manifest, result.files.get(manifest, ""))
    if other is not None:
        print(f"pipec: refusing to write into `{output}`: it holds the build of pipeline "
              f"`{other}`, and one folder has one `{manifest}`, which every task of both "
              "pipelines would read; build each pipeline into a folder of its own (Airflow "
              "reads `dags/` subfolders too), or remove the old build first", file=sys.stderr)
        return 2
    if not write_output(output, {n: text.encode("utf-8") for n, text in result.files.items()}):
        return 2
    print(f"wrote {', '.join(sorted(result.files))} to `{output}`", file=sys.stderr)
    _print_configmap_step(result.mounted_configmap, output / manifest)
    return 0


def _print_configmap_step(configmap: str | None, manifest: Path) -> None:
    """With `manifest_configmap`, the pods this build starts read the manifest from that
    ConfigMap, which nothing makes but this step: print it with the manifest just written
    (the generated files can only name it relative to their own folder)."""
    from pipec.backends.kube import configmap_command

    if configmap is None:
        return
    command = configmap_command(configmap, manifest.name, str(manifest))
    print(f"the stage pods read `{manifest.name}` from ConfigMap `{configmap}`; make it "
          f"from this build (after `kubectl delete configmap {configmap}`, if an older "
          f"build's is there):\n  {command}", file=sys.stderr)


def _unnamable_base_dir(path: Path, output: Path) -> str | None:
    """Why `lineage.json` cannot name the .pipe file's folder from the output folder (its
    `base_dir`), or None: a folder name in between that is not UTF-8 (a surrogate in
    Python's name for it) cannot be written into the UTF-8 manifest."""
    from pipec.backends.build import relative_base_dir
    from pipec.render.json_format import valid_text

    base_dir = relative_base_dir(path, output)
    try:
        base_dir.encode("utf-8")
    except UnicodeEncodeError:
        return valid_text(f"`lineage.json` in `{output}` would name the .pipe file's folder "
                          f"as `{base_dir}`, which is not UTF-8; rename that folder, or "
                          "build into a folder below the .pipe file's")
    return None


def other_pipeline(existing: Path, manifest: str) -> str | None:
    """The name of the pipeline whose manifest `existing` is, when it is not the one in
    `manifest` (None: no build there, the same pipeline, or an unreadable old manifest,
    which the new build replaces)."""
    if not existing.is_file():  # a FIFO there would block the read (write_tree refuses it)
        return None
    try:
        old = json.loads(existing.read_text("utf-8"))["pipeline"]["name"]
        new = json.loads(manifest)["pipeline"]["name"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return old if isinstance(old, str) and old != new else None
