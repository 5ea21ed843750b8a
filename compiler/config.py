"""Project configuration from the nearest `pyproject.toml` `[tool.pipec]` table.

```toml
[tool.pipec]
select = ["LEAK", "OWN001"]        # codes or prefixes to run (default: all)
ignore = ["GATE007"]               # codes or prefixes to skip
strict = false                     # warnings fail `pipec check` too
allowed_model_modules = ["sklearn"]
argo_max_bytes = 1000000
airflow_max_tasks = 5000

[tool.pipec.severity]
GATE005 = "error"                  # error | warning | note | off
```
"""

from __future__ import annotations

import argparse
import functools
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


def find_pyproject(start: Path) -> Path | None:
    here = start.resolve()
    for folder in [here, *here.parents] if here.is_dir() else here.parents:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def project_root(path: Path) -> Path:
    """The folder imports must stay inside: the nearest one (from the file's folder up)
    holding a `pyproject.toml` or a `.git`, else the file's own folder."""
    here = path.resolve()
    start = here if here.is_dir() else here.parent
    for folder in [start, *start.parents]:
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return start


def load_config(start: Path) -> Config:
    pyproject = find_pyproject(start)
    return _parse(pyproject) if pyproject else Config()


@functools.cache
def _parse(pyproject: Path) -> Config:
    try:
        table: dict[str, Any] = tomllib.loads(pyproject.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return Config(root=pyproject.parent)
    section = table.get("tool", {}).get("pipec", {})
    select = section.get("select")
    return Config(
        root=pyproject.parent,
        select=tuple(select) if select is not None else None,
        ignore=tuple(section.get("ignore", ())),
        severity={str(k): str(v) for k, v in section.get("severity", {}).items()},
        strict=bool(section.get("strict", False)),
        allowed_model_modules=tuple(section.get("allowed_model_modules", ("sklearn",))),
        argo_max_bytes=int(section.get("argo_max_bytes", 1_000_000)),
        airflow_max_tasks=int(section.get("airflow_max_tasks", 5_000)),
    )


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
    )
