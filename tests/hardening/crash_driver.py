"""Run `pipec` and SIGKILL it at a chosen point: `python crash_driver.py TARGET N WHEN --
pipec-args...` kills the process the Nth time TARGET (`module:attr` or
`module:Class.attr`) is called, before (`WHEN=before`) or after (`after`) the call.

The crash tests use it to land a kill exactly between two steps that random delays
would almost never hit (after a run is marked succeeded and before its record is
written, inside a registry transaction, between a temporary file and its rename)."""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys


def _install(target: str, nth: int, when: str) -> None:
    module_name, _, attr_path = target.partition(":")
    owner = importlib.import_module(module_name)
    *parents, attr = attr_path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    original = getattr(owner, attr)
    calls = 0

    @functools.wraps(original)
    def wrapper(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == nth and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if calls == nth and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    if isinstance(owner, type) and isinstance(owner.__dict__.get(attr), staticmethod):
        wrapper = staticmethod(wrapper)  # type: ignore[assignment]
    setattr(owner, attr, wrapper)


def main() -> int:
    target, nth, when, separator, *argv = sys.argv[1:]
    assert separator == "--" and when in ("before", "after")
    _install(target, int(nth), when)
    from pipec.cli import main as pipec_main

    return pipec_main(argv)


if __name__ == "__main__":
    sys.exit(main())
