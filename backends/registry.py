"""Finding backends: the built-in ones, then the `pipec.backends` entry-point group."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points

from pipec.backends.base import Backend

GROUP = "pipec.backends"
BUILTIN = {
    "airflow": "pipec.backends.airflow:AirflowBackend",
    "argo": "pipec.backends.argo:ArgoBackend",
    "local": "pipec.backends.local:LocalBackend",
}


class PluginError(Exception):
    """A plug-in target that cannot be loaded, or that failed or broke the interface
    while building: said as the plug-in's fault, naming its entry point."""


def _load(target: str) -> type:
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
    if name in BUILTIN:
        return _load(BUILTIN[name])()
    target = _entry_points().get(name)
    if target is None:
        raise KeyError(name)
    with plugin_guard(name, "loading it"):
        if ":" not in target:
            raise TypeError(f"the entry point `{target}` is not `module:Class`")
        backend = _load(target)()
    if not isinstance(backend, Backend):
        missing = [m for m in ("name", "lower", "emit", "measure") if not hasattr(backend, m)]
        raise PluginError(f"target `{name}` (plug-in `{target}`) does not implement the pipec "
                          f"backend interface: it has no {', '.join(missing)}")
    return backend


@contextmanager
def plugin_guard(name: str, doing: str) -> Iterator[None]:
    """Any exception of a plug-in target's code, as a PluginError naming the target and
    its entry point (a built-in target's exceptions pass through: those are pipec's)."""
    if name in BUILTIN:
        yield
        return
    try:
        yield
    except PluginError:
        raise
    except Exception as exc:
        target = _entry_points().get(name, "?")
        raise PluginError(f"target `{name}` (plug-in `{target}`) failed while {doing}: "
                          f"{type(exc).__name__}: {exc}") from exc
