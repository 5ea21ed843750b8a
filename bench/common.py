"""Timing, machine description and verdicts shared by every benchmark."""

from __future__ import annotations

import compileall
import gc
import importlib.metadata
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / ".out"  # scratch outputs (gitignored)
DATA = BENCH / ".data"  # synthetic data sets (gitignored)
RESULTS = BENCH / "results"  # one JSON per benchmark; README.md is rendered from them

PACKAGES = ("lark", "networkx", "pydantic", "jinja2", "pyyaml", "rich", "duckdb", "pyarrow",
            "numpy", "pandas", "scikit-learn")


@dataclass
class Target:
    """One target of the issue, beside what this run measured."""

    name: str
    target: str
    measured: str
    met: bool | None  # None: not measured in this run
    note: str = ""


@dataclass
class Result:
    """What one benchmark hands to the report."""

    name: str
    title: str
    body: str  # markdown: tables and notes
    targets: list[Target] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    quick: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# pipec's own packages (the import name `pipec` maps onto these folders).
PIPEC_PACKAGES = ("compiler", "backends", "stdlib")


def byte_compile_pipec() -> None:
    """Write pipec's bytecode (`__pycache__`), as installing a wheel does.

    Every library the benchmarks compare against was installed with its bytecode. pipec
    is installed editable, whose bytecode only appears when a process may write it; with
    PYTHONDONTWRITEBYTECODE set (as on some CI machines) every pipec process would compile
    its own source again (~50 ms), which no installed user pays."""
    for package in PIPEC_PACKAGES:
        if not compileall.compile_dir(ROOT / package, quiet=1):
            raise RuntimeError(f"could not byte-compile {package}/")


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ measuring
def interleave(cases: dict[str, Callable[[], Any]], reps: int,
               warmup: bool = True) -> dict[str, list[float]]:
    """Seconds of each case, `reps` times, the order reversed every other round (ABBA)
    so a drift in the machine's load falls on every case alike. Every case starts after
    a full garbage collection, outside the timed region."""
    names = list(cases)
    if warmup:
        for name in names:
            cases[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        for name in names if rep % 2 == 0 else reversed(names):
            gc.collect()  # no case pays for the garbage of the one before it
            start = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - start)
    return times


def process(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
            ok: tuple[int, ...] = (0,)) -> Callable[[], None]:
    """A case that runs one whole process, output discarded, exit status checked."""

    def run() -> None:
        proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, check=False)
        if proc.returncode not in ok:
            raise RuntimeError(f"{' '.join(map(str, argv))} exited {proc.returncode}:\n"
                               f"{proc.stderr.decode(errors='replace')[-3000:]}")

    return run


def median(values: list[float]) -> float:
    return statistics.median(values)


def paired_ratio(a: list[float], b: list[float]) -> float:
    """Median of the per-round ratios a/b (each round measured both back to back)."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) on log(x): the growth exponent."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / \
        sum((a - mx) ** 2 for a in lx)


def pipec_argv() -> list[str]:
    """The `pipec` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("pipec")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "pipec"]


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


# ------------------------------------------------------------------ reporting
def fmt_s(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def fmt_x(ratio: float) -> str:
    return f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.1f}x"


def fmt_bytes(n: int) -> str:
    return f"{n:,}"


def mark(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not run"}[met]


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _proc_field(name: str, key: str) -> str | None:
    """The value of `key: value` in /proc/NAME, or None (not Linux, or no such line)."""
    try:
        lines = Path("/proc", name).read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key)),
                None)


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, Python and the key package versions, date."""
    cpu = _proc_field("cpuinfo", "model name") or platform.processor() or "unknown"
    memory_kb = _proc_field("meminfo", "MemTotal")
    memory = f"{int(memory_kb.split()[0]) / 1024 ** 2:.1f} GiB" if memory_kb else "unknown"
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "absent"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory,
            "os": platform.system(),
            "python": platform.python_version(), "packages": versions,
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def machine_line(m: dict[str, Any]) -> str:
    packages = ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items())
    return (f"{m.get('cpu')}, {m.get('cores')} cores, {m.get('memory')} RAM, "
            f"{m.get('os')}, Python {m.get('python')}; {packages}; measured {m.get('date')}")
