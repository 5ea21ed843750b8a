"""pipec: a compiler for ML training pipelines.

`pipec.compile(source_or_path)` returns the checked `Program` (the semantic model with
its diagnostics). Submodules load lazily so that `import pipec` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pipec.check import compile as compile  # noqa: F401


def __getattr__(name: str) -> Any:
    if name == "compile":
        from pipec.check import compile

        return compile
    raise AttributeError(f"module 'pipec' has no attribute {name!r}")
