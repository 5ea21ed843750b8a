"""`python -m bench [--quick] [--only NAME]`: run the benchmarks, rewrite bench/README.md."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from bench import report
from bench.common import byte_compile_pipec, log

MODULES = {
    "compile": "bench.compile_scaling",
    "cold-start": "bench.cold_start",
    "kfp": "bench.kfp_peer",
    "airflow": "bench.airflow_parse",
    "runtime": "bench.runtime",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes and fewer rounds (a few minutes)")
    parser.add_argument("--only", action="append", choices=sorted(MODULES), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(MODULES)}")
    args = parser.parse_args(argv)
    byte_compile_pipec()
    failed = []
    for name in args.only or list(MODULES):
        start = time.perf_counter()
        log(f"{name}: starting{' (quick)' if args.quick else ''}")
        try:
            result = importlib.import_module(MODULES[name]).run(args.quick)
        except Exception as exc:  # one broken benchmark must not lose the others' tables
            log(f"{name}: failed: {type(exc).__name__}: {exc}")
            failed.append(name)
            continue
        result.seconds = time.perf_counter() - start
        report.save(result)
        report.write()
        log(f"{name}: done in {result.seconds:.0f} s")
    report.write()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
