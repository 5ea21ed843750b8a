"""The long fuzz run: `python -m tests.hardening.fuzz_long [--count 100000] [--seed 0]`.

Runs the inputs of `fuzzing.fuzz_inputs` through check, fmt and build (every target) in
process and keeps going after a failure, so one run reports every distinct failure.
Failing inputs are written to `--out` (default: a `fuzz-failures` folder in the system's
temporary directory) to be replayed. Exit status 0 when every input held every promise.
Also reachable from pytest: `PIPEC_FUZZ_LONG=1 pytest -m slow tests/hardening`.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # `python -m tests.hardening.fuzz_long` from the checkout
    sys.path.insert(0, str(TESTS))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from hardening.fuzzing import exercise, fuzz_inputs  # noqa: E402

TARGETS = ("local", "airflow", "argo")


def run(count: int, seed_value: int, out: Path, progress_every: int = 1000) -> dict[str, object]:
    """Fuzz `count` inputs; a summary with the distinct failures (first line of each)."""
    done, failures, started = 0, {}, time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="pipec-fuzz-"))

    @seed(seed_value)
    @settings(max_examples=count, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=["generate"])
    @given(fuzz_inputs())
    def one(data: bytes) -> None:
        nonlocal done
        done += 1
        problem = exercise(data, work, targets=TARGETS)
        if problem is not None:
            key = problem.strip().splitlines()[-1][:200]
            if key not in failures:
                failures[key] = problem
                out.mkdir(parents=True, exist_ok=True)
                name = hashlib.sha256(data).hexdigest()[:16]
                (out / f"{name}.pipe").write_bytes(data)
                (out / f"{name}.txt").write_text(problem, "utf-8")
                print(f"FAIL #{len(failures)} after {done} inputs: {key}", flush=True)
        if done % progress_every == 0:
            print(f"{done} inputs, {time.monotonic() - started:.0f} s, "
                  f"{len(failures)} distinct failures", flush=True)

    one()
    return {"inputs": done, "seconds": round(time.monotonic() - started, 1),
            "distinct_failures": len(failures), "failures": sorted(failures)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path,
                        default=Path(tempfile.gettempdir()) / "fuzz-failures")
    args = parser.parse_args(argv)
    summary = run(args.count, args.seed, args.out)
    print(f"fuzzed {summary['inputs']} inputs in {summary['seconds']} s: "
          f"{summary['distinct_failures']} distinct failures")
    for line in summary["failures"]:
        print(f"  {line}")
    return 0 if not summary["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
