"""5. Runtime: pipec's DuckDB data runtime against straightforward pandas on synthetic
rows; `pipec run` on the flights example against a hand-written scikit-learn script;
a no-op re-run against `pipec check`.

Targets: features and validation at 10M rows at least 5x faster than pandas; `pipec run`
at most 1.15x the script; a no-op re-run at most 2x `pipec check`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import runtime_kernels as k
from bench.common import (
    BENCH,
    OUT,
    ROOT,
    Result,
    Target,
    fmt_s,
    fmt_x,
    interleave,
    log,
    machine,
    mark,
    median,
    paired_ratio,
    pipec_argv,
    process,
    table,
)
from bench.runtime_data import dataset

NAME = "runtime"
TITLE = "5. Runtime"
SPEED_TARGET = 5.0
RUN_TARGET = 1.15
NOOP_TARGET = 2.0
EXAMPLE = ROOT / "examples" / "flights"


# ------------------------------------------------------------- synthetic rows
def synthetic(sizes: list[int], reps: int) -> tuple[str, list[Target]]:
    rows, targets, agreement = [], [], ""
    for n in sizes:
        events, balances = dataset(n)
        if not agreement:
            agreement = k.agree(n, k.pipec_features(events, balances, keep=True),
                                k.pandas_features(events, balances, keep=True))
        for work, pipec_fn, pandas_fn, args in (
                ("validation", k.pipec_validate, k.pandas_validate, (events,)),
                ("point-in-time features", k.pipec_features, k.pandas_features,
                 (events, balances))):
            log(f"{NAME}: {work} on {n:,} rows, {reps} interleaved rounds")
            times = interleave({"pipec": lambda f=pipec_fn, a=args: f(*a),
                                "pandas": lambda f=pandas_fn, a=args: f(*a)}, reps,
                               warmup=n < 5_000_000)
            speedup = paired_ratio(times["pandas"], times["pipec"])
            rows.append([work, f"{n:,}", fmt_s(median(times["pipec"])),
                         fmt_s(median(times["pandas"])), fmt_x(speedup)])
            if n == 10_000_000:
                targets.append(Target(f"{work} at 10M rows vs pandas",
                                      f">= {SPEED_TARGET:g}x faster", f"{fmt_x(speedup)} faster",
                                      speedup >= SPEED_TARGET,
                                      "" if speedup >= SPEED_TARGET else LIMITS[work]))
    if 10_000_000 not in sizes:
        for work in ("validation", "point-in-time features"):
            targets.append(Target(f"{work} at 10M rows vs pandas", f">= {SPEED_TARGET:g}x faster",
                                  "not run (--quick)", None))
    body = table(["work", "rows", "pipec (DuckDB)", "pandas", "pipec speed-up"], rows)
    body += (
        "\n\nBoth sides read the same parquet file (N events, N/100 accounts over one year, "
        "N/10 balance rows) inside the timed region. Validation: `require account_id, at`, "
        "`range amount >= 0`, `completeness amount >= 95%`, `unique account_id, at`, "
        "`freshness at within 2d`; pipec runs `validation.run_checks`, pandas uses boolean "
        "masks and `duplicated`. Features: for every event, sum, mean and count of the "
        "account's amounts in the 30 days strictly before it, and the latest balance "
        "strictly before it; pipec runs `features.build_features` (one window pass over the "
        "events themselves, one ASOF join), pandas `groupby().rolling('30d', closed='left')` "
        "and `merge_asof("
        f"allow_exact_matches=False)`. Results agree {agreement}. Median of {reps} "
        "interleaved rounds; DuckDB uses every core, pandas one.")
    return body, targets


# ------------------------------------------------------------- flights
def flights_workdir() -> Path:
    if not (EXAMPLE / "data" / "flights.parquet").is_file():
        subprocess.run([*pipec_argv(), "data", "flights"], check=True, cwd=ROOT)
    work = OUT / NAME / "flights"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("flights.pipe", "teams.pipe"):
        shutil.copy(EXAMPLE / name, work / name)
    (work / "data").symlink_to(EXAMPLE / "data", target_is_directory=True)
    return work


def sklearn_spec(pipe: Path, out: Path) -> Path:
    from pipec.check import compile
    from pipec.manifest import build_manifest

    stages = {s["kind"]: s for s in build_manifest(compile(pipe))["stages"]
              if s["kind"] in ("train", "evaluate")}
    train = stages["train"]
    spec = {"features": train["features"], "params": train["params"], "seed": train["seed"],
            "cpu": int((train.get("resources") or {}).get("cpu") or 1),
            "threshold": stages["evaluate"]["threshold"]}
    out.write_text(json.dumps(spec), encoding="utf-8")
    return out


def flights(reps: int, noop_reps: int) -> tuple[str, list[Target]]:
    work = flights_workdir()
    pipe = work / "flights.pipe"
    spec = sklearn_spec(pipe, work / "spec.json")
    times, outputs = fresh_runs(work, pipe, spec, reps)
    ratio = paired_ratio(times["pipec run"], times["script"])
    log(f"{NAME}: no-op re-run vs pipec check, {noop_reps} interleaved rounds")
    noop = interleave({"re-run": process([*pipec_argv(), "run", str(pipe)], cwd=work,
                                         ok=(0, 3)),
                       "check": process([*pipec_argv(), "check", str(pipe)], cwd=work)},
                      noop_reps)
    noop_ratio = paired_ratio(noop["re-run"], noop["check"])
    rows = [["`pipec run flights.pipe` (fresh store)", fmt_s(median(times["pipec run"])),
             "hand-written scikit-learn script", fmt_s(median(times["script"])), fmt_x(ratio)],
            ["`pipec run flights.pipe` again (all cached)", fmt_s(median(noop["re-run"])),
             "`pipec check flights.pipe`", fmt_s(median(noop["check"])), fmt_x(noop_ratio)]]
    body = table(["pipec", "median", "baseline", "median", "ratio"], rows)
    body += "\n\n" + stage_times(sorted(outputs)[len(outputs) // 2])  # median wall time
    body += f"\n\n{SCRIPT_NOTE} Median of {reps} rounds (re-run: {noop_reps})."
    return body, flights_targets(ratio, noop_ratio)


def fresh_runs(work: Path, pipe: Path, spec: Path,
               reps: int) -> tuple[dict[str, list[float]], list[tuple[float, str]]]:
    """Fresh `pipec run`s interleaved with script runs: the times of both, and every
    pipec run's (seconds, output)."""
    outputs: list[tuple[float, str]] = []

    def pipec_fresh() -> None:
        for stale in (".pipec", "registry"):
            shutil.rmtree(work / stale, ignore_errors=True)
        start = time.perf_counter()
        proc = subprocess.run([*pipec_argv(), "run", str(pipe)], cwd=work, capture_output=True,
                              text=True, check=False)
        if proc.returncode not in (0, 3):
            raise RuntimeError(f"pipec run exited {proc.returncode}:\n{proc.stderr[-3000:]}")
        outputs.append((time.perf_counter() - start, proc.stdout + proc.stderr))

    script = process([sys.executable, str(BENCH / "flights_sklearn.py"), str(work / "data"),
                      str(spec), str(work / "script-registry")])
    log(f"{NAME}: pipec run flights vs scikit-learn script, {reps} interleaved rounds")
    times = interleave({"pipec run": pipec_fresh, "script": script}, reps, warmup=False)
    return times, outputs


def stage_times(run: tuple[float, str]) -> str:
    """Where one run spent its time, from the runner's own per-stage report."""
    stages = re.findall(r"^(\S+): ran \(([\d.]+)s\)", run[1], flags=re.M)
    slow = sorted(((float(s), name) for name, s in stages), reverse=True)
    return ("Where a fresh `pipec run` spends its time (the runner's own per-stage "
            f"report, from the round of median wall time, {fmt_s(run[0])}): "
            + ", ".join(f"`{n}` {s:.1f} s" for s, n in slow[:6])
            + f"; {sum(s for s, _ in slow):.1f} s in all stages.")


SCRIPT_NOTE = (
    "The script (`bench/flights_sklearn.py`) does the work the .pipe file "
    "declares, in pandas and scikit-learn: it reads the same parquet files, checks "
    "the schema constraints and the three validate blocks, censors unripe labels, "
    "computes the same as-of weather, 6 h precipitation, 1-day origin delays (with "
    "the same lags) and plane columns, splits by the same dates, fits "
    "`HistGradientBoostingClassifier` with the file's params, seed and thread count "
    "(read from the manifest before timing), reports ROC AUC, recall at the "
    "threshold, ECE, Brier, per-origin AUC, p99 single-row latency (300 rows) and "
    "model size once each, and registers and deploys the pickled model (its hash, "
    "metadata and a production pointer in a folder). What pipec does beyond that: "
    "it snapshots, stores and hashes every intermediate table (parquet) so a re-run "
    "is cached and every artifact has lineage, stores the model as skops (no "
    "pickle: loading runs no code), bootstraps 95% intervals for every metric and "
    "slice, and writes the run and registry records.")


def flights_targets(ratio: float, noop_ratio: float) -> list[Target]:
    return [
        Target("`pipec run` flights vs hand-written script", f"<= {RUN_TARGET:g}x",
               fmt_x(ratio), ratio <= RUN_TARGET,
               "" if ratio <= RUN_TARGET else "the same model fit, latency loop and "
               "imports take most of both runs; what pipec adds (~3.5 s and ~7.4 s on two AMD "
               "EPYC machines, ~5 s on an Intel Xeon) is its own work: bootstrap 95% "
               "intervals for every metric and slice (~1.3 s), storing, hashing and "
               "re-reading every intermediate table as parquet (~1.5 s, ~1 s of it parquet "
               "encoding: what makes a re-run cached and every artifact traceable; not "
               "its codec: snappy, lz4 or none instead of zstd level 3 save a fifth of the "
               "writes' ~0.7 s, as the dictionary encoding is most of it), skops "
               "(~0.4 s to import it, as it lists every scikit-learn estimator, then "
               "dumping and loading the model), a DuckDB database per stage (~0.2 s) and "
               "the records"),
        Target("no-op re-run vs `pipec check`", f"<= {NOOP_TARGET:g}x", fmt_x(noop_ratio),
               noop_ratio <= NOOP_TARGET,
               "" if noop_ratio <= NOOP_TARGET else "the runner imports its runtime (duckdb, "
               "pyarrow) and opens the run store even when every stage is cached"),
    ]


# What stands between the measured speed-up and the target, as far as we found it.
LIMITS = {
    "validation": "one scan computes every count, `unique` included (the distinct count "
                  "of the key's 64-bit hashes, with DuckDB's partitioned aggregation); "
                  "what remains is that distinct count over 10M keys, a hash table of 10M "
                  "entries that any exact duplicate check pays",
    "point-in-time features": "the ratio moves with the CPU: the same code measured 4.81x "
                              "to 5.37x on AMD EPYC machines, 4.09x to 4.98x on "
                              "an Intel Xeon. DuckDB's part (timed on the EPYC): its RANGE-frame "
                              "window (~1.5 s at 10M: a sort, "
                              "then a frame search and a segment tree; the sum and both "
                              "counts already share one aggregate), its ASOF join (~0.8 s), "
                              "ordering each view's output by row for a deterministic "
                              "artifact (~0.4 s each) and coding string keys as integers "
                              "(~0.5 s, repaid by faster sorts: uncoded, the as-of view "
                              "takes 3.0 s, not 1.5 s); grouping by (key, time) pays only "
                              "when times repeat (these are distinct to the microsecond); "
                              "measured no faster: a numpy scatter instead of the final "
                              "sort, a prefix sum plus ASOF joins, a union with a running "
                              "last value, a numpy prefix-sum kernel, views instead of "
                              "coded tables, more DuckDB threads than cores, the parquet "
                              "file copied into a table before the coding, "
                              "`preserve_insertion_order = false`, keys coded by `hash()` "
                              "(with a collision check) instead of dense codes; one sort key "
                              "(key code times the time span, plus the time) in place of "
                              "PARTITION BY is ~100x slower (a window of one partition "
                              "runs on one thread)",
}


def run(quick: bool) -> Result:
    sizes = [1_000_000] if quick else [1_000_000, 10_000_000]
    body, targets = synthetic(sizes, 3)
    flights_body, flights_targets = flights(1 if quick else 3, 3 if quick else 7)
    targets += flights_targets
    summary = table(["target", "wanted", "measured", "verdict"],
                    [[t.name, t.target, t.measured, mark(t.met)] for t in targets])
    return Result(NAME, TITLE, "\n\n".join([summary, body, flights_body]), targets, machine(),
                  quick)
