"""1. Compile scaling: generated programs of 10 to 10,000 stages through `check` and
`build --target argo|airflow`, in-process (the Python API) and as whole processes.

The baseline of each size is the size ten times smaller, measured in the same rounds;
the target is `t(10,000) / t(1,000) <= 12` (a growth exponent of at most 1.08).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.common import (
    OUT,
    ROOT,
    Result,
    Target,
    fmt_s,
    fmt_x,
    fresh,
    interleave,
    log,
    machine,
    mark,
    median,
    pipec_argv,
    process,
    slope,
    table,
)

NAME = "compile"
TITLE = "1. Compile scaling"
OPS = ("check", "argo", "airflow")
TARGET_RATIO = 12.0
# Generated programs outgrow the default Argo document budget (BUDGET001, 1 MB) and
# Airflow task budget; the benchmark measures the compiler, so it raises both.
# The state volume names the claim the pods share, as a real Argo project would (BUILD003).
PYPROJECT = ("[tool.pipec]\nargo_max_bytes = 1000000000\nairflow_max_tasks = 1000000\n"
             'state_volume = "pipec-state"\n')


def programs(sizes: list[int]) -> dict[int, Path]:
    work = fresh(OUT / NAME)
    (work / "pyproject.toml").write_text(PYPROJECT)
    paths = {}
    for n in sizes:
        path = work / f"p{n}.pipe"
        subprocess.run([sys.executable, str(ROOT / "tools" / "gen_program.py"), str(n),
                        "-o", str(path)], check=True)
        paths[n] = path
    return paths


def in_process_case(op: str, path: Path):
    from pipec.backends.build import build_files
    from pipec.check import compile

    out = path.parent / "out" / f"{op}-{path.stem}"
    if op == "check":
        def run() -> None:
            if not compile(path).ok:
                raise RuntimeError(f"{path.name} does not check clean")
    else:
        def run() -> None:
            if not build_files(path, op, out).ok:
                raise RuntimeError(f"{path.name} does not build for {op}")
    return run


def process_case(op: str, path: Path):
    out = path.parent / "out" / f"proc-{op}-{path.stem}"
    argv = [*pipec_argv(), "check", str(path)] if op == "check" else \
        [*pipec_argv(), "build", str(path), "--target", op, "-o", str(out)]
    return process(argv, cwd=path.parent)


def measure(sizes: list[int], reps: int) -> dict[str, dict[int, float]]:
    """`MODE/OP` -> size -> median seconds. Sizes interleave within every round."""
    paths = programs(sizes)
    medians: dict[str, dict[int, float]] = {}
    for mode, make in (("in-process", in_process_case), ("process", process_case)):
        for op in OPS:
            log(f"{NAME}: {mode} {op} at {sizes}, {reps} rounds")
            cases = {str(n): make(op, paths[n]) for n in sizes}
            # Warm up on the smallest program only: a 10,000-stage warm-up costs a round.
            cases[str(sizes[0])]()
            times = interleave(cases, reps, warmup=False)
            medians[f"{mode}/{op}"] = {int(k): median(v) for k, v in times.items()}
    return medians


def render(medians: dict[str, dict[int, float]], sizes: list[int], reps: int,
           quick: bool) -> tuple[str, list[Target]]:
    rows, targets = [], []
    for key, by_size in medians.items():
        mode, op = key.split("/")
        label = "check" if op == "check" else f"build --target {op}"
        prev = None
        for n in sizes:
            t = by_size[n]
            growth = fmt_x(t / by_size[prev]) if prev else "–"
            rows.append([label, mode, f"{n:,}", fmt_s(t), f"{t / n * 1000:.2f} ms", growth])
            prev = n
        big = [n for n in sizes if n >= 100]
        exponent = slope(big, [by_size[n] for n in big]) if len(big) > 1 else float("nan")
        rows[-1].append(f"{exponent:.2f}")
        for row in rows[-len(sizes):-1]:
            row.append("")
        if 10_000 in by_size and 1_000 in by_size:
            ratio = by_size[10_000] / by_size[1_000]
            targets.append(Target(f"{label} ({mode}): t(10,000) / t(1,000)",
                                  f"<= {TARGET_RATIO:g}x", fmt_x(ratio), ratio <= TARGET_RATIO,
                                  "" if ratio <= TARGET_RATIO else
                                  "super-linear hot spots, see the notes"))
        else:
            targets.append(Target(f"{label} ({mode}): t(10,000) / t(1,000)",
                                  f"<= {TARGET_RATIO:g}x", "not run (--quick)", None))
    body = table(["command", "mode", "stages", "median time", "time per stage",
                  "vs 10x fewer stages", "growth exponent (log-log slope, 100..max)"], rows)
    body += (f"\n\nMedian of {reps} interleaved rounds per size (all sizes of one command "
             "in each round). A linear compiler shows 10x per 10x stages (exponent 1.0); "
             "the target, 12x from 1,000 to 10,000, is an exponent of at most 1.08. "
             "Whole processes include interpreter start-up and imports (~0.3 s), which is "
             "why their small sizes look flat.")
    summary = table(["target", "wanted", "measured", "verdict"],
                    [[t.name, t.target, t.measured, mark(t.met)] for t in targets])
    return summary + "\n\n" + body, targets


def run(quick: bool) -> Result:
    sizes = [10, 100, 1_000] if quick else [10, 100, 1_000, 10_000]
    reps = 3
    medians = measure(sizes, reps)
    body, targets = render(medians, sizes, reps, quick)
    log(f"{NAME}: profiling build --target argo at {PROFILE_STAGES:,} stages")
    body += "\n\n" + hotspots("argo")
    return Result(NAME, TITLE, body, targets, machine(), quick)


PROFILE_STAGES = 2_000


def short(filename: str) -> str:
    """A profiled file's name without any machine path: project- or package-relative."""
    if filename == "~":
        return "builtin"
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1:])
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


def hotspots(op: str, top: int = 12) -> str:
    """The functions with the most own time in one in-process build, as a table."""
    import cProfile
    import pstats

    path = programs([PROFILE_STAGES])[PROFILE_STAGES]
    case = in_process_case(op, path)
    profiler = cProfile.Profile()
    profiler.runcall(case)
    stats = pstats.Stats(profiler).stats  # (file, line, fn) -> (cc, nc, tt, ct, callers)
    total = sum(v[2] for v in stats.values())
    ranked = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    rows = [[f"`{short(f)}:{line} {fn}`" if f != "~" else f"`{fn}`", f"{nc:,}",
             f"{tt:.2f} s", f"{tt / total:.0%}",
             f"{ct:.2f} s"] for (f, line, fn), (_cc, nc, tt, ct, _) in ranked]
    return (f"Hot spots of `build --target {op}` at {PROFILE_STAGES:,} stages "
            f"(cProfile, {total:.1f} s of own time in all):\n\n"
            + table(["function", "calls", "own time", "share", "with callees"], rows))
