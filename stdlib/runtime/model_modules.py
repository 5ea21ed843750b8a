"""Which modules a train stage's model may come from (`[tool.pipec]
allowed_model_modules`): a `.pipe` file must not be a way to run arbitrary code. Shared
by the runtime, which refuses any other model at the train stage, and by `pipec check`
(SEC002), which says so before any data is read; no import beyond the standard library."""

from __future__ import annotations

DEFAULT_ALLOWED = ("sklearn",)


def module_allowed(path: str, allowed: tuple[str, ...] = DEFAULT_ALLOWED) -> bool:
    """Whether the class path `module.Class` is in an allowed module or a submodule."""
    module, _, _ = path.rpartition(".")
    return bool(module) and any(module == a or module.startswith(a + ".") for a in allowed)
