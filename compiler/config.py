"""Project configuration from the nearest `pyproject.toml` `[tool.pipec]` table.

```toml
[tool.pipec]
select = ["LEAK", "OWN001"]        # codes or prefixes to run (default: all)
ignore = ["GATE007"]               # codes or prefixes to skip
strict = false                     # warnings fail `pipec check` too
allowed_model_modules = ["sklearn"]
argo_max_bytes = 1000000
airflow_max_tasks = 5000
state_volume = "pipec-state"       # a PVC the stage pods mount for the run store and registries
service_account = "pipec-stages"   # the Kubernetes service account the stage pods run as
sensor_service_account = "pipec-sensor"  # Argo Events: may create Workflows (triggered retrain)
manifest_configmap = "pipec-manifest"  # a ConfigMap holding lineage.json, which stage pods mount
max_parallel_stages = 20           # stage pods (Argo) or tasks (Airflow) of a run at once

[tool.pipec.severity]
GATE005 = "error"                  # error | warning | note | off
```
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipec.check import CheckOptions


@dataclass(frozen=True)
class Config:
    root: Path | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    allowed_model_modules: tuple[str, ...] = ("sklearn",)
    argo_max_bytes: int = 1_000_000
    airflow_max_tasks: int = 5_000
    # A PersistentVolumeClaim the pods of Argo and the KubernetesPodOperator mount for
    # the run store and the local registries; None: the pods mount nothing.
    state_volume: str | None = None
    # The service accounts of the stage pods (Argo, the KubernetesPodOperator) and of the
    # Argo Events Sensor that starts a triggered retrain; None: the namespace's default.
    service_account: str | None = None
    sensor_service_account: str | None = None
    # A ConfigMap holding the build's `lineage.json` that every stage pod (Argo, the
    # KubernetesPodOperator) mounts and reads it from; None: the pods read it from the
    # image's working directory, which cannot hold its own build's (it names the image).
    manifest_configmap: str | None = None
    # The most stages of one run that Argo or Airflow runs at once; None: no limit of
    # pipec's (a wide fan-out starts every stage at once, a pod each on Kubernetes).
    max_parallel_stages: int | None = None


def find_pyproject(start: Path) -> Path | None:
    here = start.resolve()
    for folder in [here, *here.parents] if here.is_dir() else here.parents:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def project_root(path: Path) -> Path:
    """The folder imports must stay inside (P002): the nearest one (from the file's
    folder up) holding a `pyproject.toml` or a `.git`. Without one, the highest folder
    above the file that is still the user's own, stopping below the first shared one
    (`_shared`): a tree of pipelines without a marker can `import "../teams.pipe"`,
    while a file in `/tmp/job/` cannot reach a sibling `/tmp/other/`, nor a file in
    `~/pipes/` the rest of the home folder."""
    here = path.resolve()
    start = here if here.is_dir() else here.parent
    for folder in [start, *start.parents]:
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    root = start
    for folder in start.parents:
        if _shared(folder):
            break
        root = folder
    return root


def _shared(folder: Path) -> bool:
    """A folder holding more than one project's (or user's) files: the filesystem root
    and its top-level folders (`/home`, `/srv`, `/tmp`; `C:\\Users`), the home folder and
    those above it, and a folder anyone may write to (`/var/tmp`)."""
    if len(folder.parts) <= 2:
        return True
    try:
        home = Path.home().resolve()
    except (OSError, RuntimeError):  # no home folder (no HOME, unknown user)
        home = None
    if home is not None and (folder == home or folder in home.parents):
        return True
    try:
        return bool(folder.stat().st_mode & stat.S_IWOTH)
    except OSError:
        return True


def repository_root(path: Path) -> Path:
    """What code scanning places files against: the nearest folder with a `.git` above
    `path` (a `pyproject.toml` may be in a subfolder of the repository), else its project
    root."""
    for folder in path.parents:
        if (folder / ".git").exists():
            return folder
    return project_root(path)


def repository_name(display: str) -> str | None:
    """A diagnostic's file (its display name) relative to its repository root, `/`
    separated, whatever the working directory; None for the standard library and
    in-memory sources, which are in no repository."""
    return _repository_name(display, os.getcwd())


@functools.lru_cache(maxsize=4096)
def _repository_name(display: str, cwd: str) -> str | None:
    """`cwd` keys the cache: a relative display name is relative to it."""
    from pipec.loader import source_file

    path = source_file(display)
    if path is None:
        return None
    root = repository_root(path)
    for candidate in (path, path.resolve()):  # the root may be resolved (a symlinked /tmp)
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return None


def load_config(start: Path) -> Config:
    pyproject = find_pyproject(start)
    return _parse(pyproject, _stamp(pyproject)) if pyproject else Config()


def _stamp(path: Path) -> tuple[int, int] | None:
    """What keys the parsed file in the cache besides its path: a long-lived process (an
    editor plugin, a notebook calling the API) sees an edited pyproject.toml."""
    try:
        info = path.stat()
    except OSError:
        return None  # `_parse` says why it cannot be read
    return info.st_mtime_ns, info.st_size


class ConfigError(ValueError):
    """A `pyproject.toml` whose `[tool.pipec]` table pipec cannot use. Reported as a usage
    error: a typo there (`GATE005 = "eror"`, `selct = [...]`) would otherwise quietly
    check something other than what the project asked for."""


SETTINGS = ("select", "ignore", "strict", "allowed_model_modules", "argo_max_bytes",
            "airflow_max_tasks", "severity", "state_volume", "service_account",
            "sensor_service_account", "manifest_configmap", "max_parallel_stages")
# A PersistentVolumeClaim's, ServiceAccount's or ConfigMap's name: a DNS-1123 subdomain.
_KUBE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


@functools.lru_cache(maxsize=256)
def _parse(pyproject: Path, _stamp: tuple[int, int] | None = None) -> Config:
    shown = _shown(pyproject)
    try:
        text = pyproject.read_text("utf-8")
        table: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_invalid_toml(shown, text, str(exc))) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read `{shown}`: {exc}") from exc
    tool = table.get("tool", {})
    section = tool.get("pipec", {}) if isinstance(tool, dict) else {}
    if not isinstance(section, dict):
        raise ConfigError(f"`{shown}`: `[tool.pipec]` must be a table")
    try:
        return _config(pyproject.parent, section)
    except ConfigError as exc:
        raise ConfigError(f"`{shown}` [tool.pipec]: {exc}") from None


def _shown(path: Path) -> str:
    """A settings file as messages name it: from the working folder when below it, as a
    pre-commit or CI log names the files it checks, else whole."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except (OSError, ValueError):  # outside it, or no working folder (it was removed)
        return str(path)


# Where tomllib says its error is: the end of its message.
_TOML_POSITION = re.compile(r" \((?:at line (\d+), column (\d+)|at end of document)\)$")


def _invalid_toml(shown: str, text: str, message: str) -> str:
    """`FILE:LINE:COL`, the line and a caret under the column, as pipec shows a mistake in
    a `.pipe` file: tomllib gives the position only as words at the end of its message."""
    from pipec.render.text import cells, visible

    match = _TOML_POSITION.search(message)
    if match is None:
        return f"`{shown}` is not valid TOML: {message}"
    lines = text.split("\n")
    if match[1] is None:  # at the end of the document: after its last character
        number = len(lines) - (len(lines) > 1 and not lines[-1])
        column = len(lines[number - 1]) + 1
    else:
        number, column = int(match[1]), int(match[2])
    source = visible(lines[number - 1].expandtabs(1)) if number <= len(lines) else ""
    gutter = " " * len(str(number))
    return (f"{shown}:{number}:{column}: the file is not valid TOML: "
            f"{message[:match.start()]}\n{gutter} |\n{number} | {source}\n"
            f"{gutter} | {' ' * cells(source[:column - 1])}^")


def _config(root: Path, section: dict[str, Any]) -> Config:
    for key in section:
        if key not in SETTINGS:
            raise ConfigError(f"unknown setting `{key}`{_did_you_mean(key, SETTINGS)}")
    select = section.get("select")
    return Config(
        root=root,
        select=_codes(section, "select") if select is not None else None,
        ignore=_codes(section, "ignore"),
        severity=_severities(section.get("severity", {})),
        strict=_typed(section, "strict", bool, False),
        allowed_model_modules=_strings(section, "allowed_model_modules", ("sklearn",)),
        argo_max_bytes=_positive(section, "argo_max_bytes", 1_000_000),
        airflow_max_tasks=_positive(section, "airflow_max_tasks", 5_000),
        state_volume=_kube_name(section, "state_volume", "a PersistentVolumeClaim"),
        service_account=_kube_name(section, "service_account", "a ServiceAccount"),
        sensor_service_account=_kube_name(section, "sensor_service_account",
                                          "a ServiceAccount"),
        manifest_configmap=_kube_name(section, "manifest_configmap", "a ConfigMap"),
        max_parallel_stages=_optional_positive(section, "max_parallel_stages"),
    )


def _kube_name(section: dict[str, Any], key: str, kind: str) -> str | None:
    """A Kubernetes object's name (a DNS-1123 subdomain), or None when not set."""
    value = section.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > 253
                              or not _KUBE_NAME.fullmatch(value)):
        raise ConfigError(f"`{key}` must name {kind} (lowercase letters, digits, `-` and "
                          f"`.`), not {value!r}")
    return value


def _did_you_mean(word: str, choices: Any) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean `{close[0]}`?" if close else ""


def _typed(section: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = section.get(key, default)
    # bool is an int in Python; `argo_max_bytes = true` is still a mistake.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"`{key}` must be {'true or false' if kind is bool else 'a number'}")
    return value


def _positive(section: dict[str, Any], key: str, default: int) -> int:
    value = _typed(section, key, int, default)
    if value <= 0:
        raise ConfigError(f"`{key}` must be a positive number, not {value}")
    return value


def _optional_positive(section: dict[str, Any], key: str) -> int | None:
    return _positive(section, key, 1) if key in section else None


def _strings(section: dict[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = section.get(key, default)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of strings")
    return tuple(value)


def _codes(section: dict[str, Any], key: str) -> tuple[str, ...]:
    entries = _strings(section, key, ())
    for entry in entries:
        problem = unknown_code(entry)
        if problem:
            raise ConfigError(f"`{key}`: {problem}")
    return entries


def _severities(table: Any) -> dict[str, str]:
    from pipec.policy import SEVERITY_WORDS
    from pipec.rules import load_all
    from pipec.suppress import UNSUPPRESSIBLE

    if not isinstance(table, dict):
        raise ConfigError("`severity` must be a table of CODE = \"error\" | \"warning\" | "
                          "\"note\" | \"off\"")
    codes = load_all()
    for code, level in table.items():
        if code not in codes:
            raise ConfigError(f"`severity`: unknown code `{code}`{_did_you_mean(code, codes)}")
        if not isinstance(level, str) or level.strip().lower() not in SEVERITY_WORDS:
            raise ConfigError(f"`severity.{code}`: `{level}` is not one of error, warning, "
                              f"note, off{_did_you_mean(str(level), SEVERITY_WORDS)}")
        if code in UNSUPPRESSIBLE and SEVERITY_WORDS[level.strip().lower()] != "error":
            raise ConfigError(f"`severity.{code}`: {code} is always an error (a program "
                              "pipec cannot read or resolve cannot be built or run); remove "
                              "the line")
    return {str(k): str(v) for k, v in table.items()}


def unknown_code(entry: str) -> str | None:
    """Why a select/ignore entry (a code or a prefix such as `LEAK`) names no rule, or
    None when it names some."""
    from pipec.rules import load_all

    codes = sorted(load_all())
    if not entry:
        return "an empty entry"
    if any(code.startswith(entry) for code in codes):
        return None
    prefixes = sorted({code.rstrip("0123456789") for code in codes})
    hint = _did_you_mean(entry.strip().upper(), codes + prefixes) or "; `pipec explain` lists them"
    return f"unknown code `{entry}`{hint}"


def expand_codes(patterns: tuple[str, ...] | list[str]) -> set[str]:
    """`LEAK` selects every LEAK code; `LEAK002` one code."""
    from pipec.rules import load_all

    codes = load_all()
    return {code for code in codes for p in patterns if code == p or code.startswith(p)}


def options_for(path: Path, args: argparse.Namespace | None = None) -> CheckOptions:
    config = load_config(path)
    select = config.select
    ignore = list(config.ignore)
    if args is not None and getattr(args, "select", None):
        select = tuple(args.select.split(","))
    if args is not None and getattr(args, "ignore", None):
        ignore.extend(args.ignore.split(","))
    return CheckOptions(
        select=expand_codes(select) if select is not None else None,
        ignore=expand_codes(ignore),
        severity=dict(config.severity),
        strict=bool(getattr(args, "strict", False)) or config.strict,
        root=project_root(path),
        allowed_model_modules=config.allowed_model_modules,
    )
