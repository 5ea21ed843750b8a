"""Keeping the compiler linear in the size of its input."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around compiler work.

    Parsing allocates millions of small objects that stay alive until the end, and each
    collection walks all of them: at 10,000 stages that made `check` three times slower
    than its linear cost. The compiler's trees hold no reference cycles worth collecting
    mid-way; collection resumes (and runs) afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
