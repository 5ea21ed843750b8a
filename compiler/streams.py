"""Standard streams while a pipec command runs: a failure to write stdout (a full
disk) told apart from pipec's own errors, a closed stdout or stderr run on without, and
what is still buffered for a reader that left discarded rather than failing at exit."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO


class OutputError(OSError):
    """Standard output could not be written (a full disk, an I/O error): the
    environment, not a bug in pipec, and no file name to give."""


_PIECE = 2048  # characters: at most 8 KiB of UTF-8, the buffer's size


class _Output:
    """`sys.stdout` while a command runs, telling a failure to write it (`OutputError`)
    apart from any other OSError; BrokenPipeError (the reader left) passes unchanged."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        # In pieces: a write larger than the buffer goes to the pipe in one call, and
        # when the reader leaves part-way CPython returns a short count instead of
        # raising (the rest is lost, and the exit was 0); through the buffer, the next
        # write raises BrokenPipeError.
        with _as_output_error():
            for start in range(0, len(text), _PIECE):
                self._stream.write(text[start:start + _PIECE])
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        with _as_output_error():
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _as_output_error() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(exc.errno, exc.strerror or str(exc)) from exc


@contextlib.contextmanager
def standard_streams() -> Iterator[None]:
    """A closed stdout or stderr (`pipec check x.pipe >&-`) is run on without: what
    would be written there goes nowhere and the exit status is unchanged. (Without a
    stream Python has `sys.stdout` None, and `print(..., file=sys.stderr)` with None
    writes to stdout.) The closed descriptor is taken by /dev/null, so that no file
    pipec opens, nor a process it starts, gets it as its stdout or stderr."""
    saved = sys.stdout, sys.stderr
    opened = []
    for name, fd in (("stdout", 1), ("stderr", 2)):
        if getattr(sys, name) is None:
            _occupy(fd)
            opened.append(open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
            setattr(sys, name, opened[-1])
    sys.stdout = _Output(sys.stdout)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        for stream in opened:
            stream.close()


def _occupy(fd: int) -> None:
    """/dev/null on descriptor `fd` when it is closed."""
    try:
        os.fstat(fd)
    except OSError:
        null = os.open(os.devnull, os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)


def flush_or_discard() -> None:
    try:
        sys.stdout.flush()
    except OSError:
        discard_stdout()


def discard_stdout() -> None:
    """Point stdout's descriptor at /dev/null: what is still buffered for a reader that
    left or a full disk would fail again when Python flushes it at exit (a message
    and status 120). A stdout with no descriptor (a test's capture) is left alone."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)
