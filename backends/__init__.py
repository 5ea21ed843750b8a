"""Code generators ("backends"): one package per target, found through a registry.

A backend turns the checked `Program` into a target model (dataclasses) with `lower`,
then into files with `emit`. Built-in targets are `airflow`, `argo` and `local`; a
third-party target is one module that exposes a `Backend` and registers it under the
entry-point group `pipec.backends`:

```toml
[project.entry-points."pipec.backends"]
mytarget = "my_package.my_module:MyBackend"
```
"""

from __future__ import annotations

from pipec.backends.base import Backend, BuildOptions, Lowered
from pipec.backends.registry import available, get_backend

__all__ = ["Backend", "BuildOptions", "Lowered", "available", "get_backend"]
