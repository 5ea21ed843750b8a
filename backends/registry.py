"""Finding backends: the built-in ones, then the `pipec.backends` entry-point group."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from pipec.backends.base import Backend

GROUP = "pipec.backends"
BUILTIN = {
    "airflow": "pipec.backends.airflow:AirflowBackend",
    "argo": "pipec.backends.argo:ArgoBackend",
    "local": "pipec.backends.local:LocalBackend",
}


def _load(target: str) -> type | None:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _entry_points() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def available() -> list[str]:
    """Every target name: built-ins and installed plug-ins, sorted."""
    return sorted(set(BUILTIN) | set(_entry_points()))


def get_backend(name: str) -> Backend:
    """An instance of the backend called `name`; KeyError when there is none.

    A built-in name always means the built-in backend, so a plug-in cannot shadow it.
    """
    target = BUILTIN.get(name) or _entry_points().get(name)
    if target is None:
        raise KeyError(name)
    backend = _load(target)()
    if not isinstance(backend, Backend):
        raise TypeError(f"{target} does not implement the pipec backend interface")
    return backend
