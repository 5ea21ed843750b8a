"""Progress for long work: a rich progress bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

DONE = {"ran", "skipped (cached)", "reused"}


@contextmanager
def stage_progress(planned: list[str]) -> Iterator[Callable[[str, str], None]]:
    if sys.stdout.isatty():
        with _rich(planned) as callback:
            yield callback
    else:
        yield _plain()


def _plain() -> Callable[[str, str], None]:
    started: dict[str, float] = {}

    def notify(stage_id: str, status: str) -> None:
        if status == "running":
            started[stage_id] = time.perf_counter()
            return
        elapsed = time.perf_counter() - started.get(stage_id, time.perf_counter())
        timing = f" ({elapsed:.1f}s)" if status == "ran" else ""
        print(f"{stage_id}: {status}{timing}", flush=True)

    return notify


@contextmanager
def _rich(planned: list[str]) -> Iterator[Callable[[str, str], None]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
               "{task.total}"), TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("starting", total=len(planned))

        def notify(stage_id: str, status: str) -> None:
            if status == "running":
                bar.update(task, description=f"[bold]{stage_id}[/] running")
                return
            bar.console.print(f"{stage_id}: {status}")
            if status in DONE:
                bar.advance(task)
            bar.update(task, description=f"{stage_id} {status}")

        yield notify
