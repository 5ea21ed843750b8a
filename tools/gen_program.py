"""Write a valid pipec program with N stages (for size and scale tests).

    python tools/gen_program.py N [-o FILE]

The program has a fixed skeleton (two sources with their validate stages, a label,
join, split, train, evaluate, register) and as many point-in-time feature views as it
takes to reach N stages. It checks clean.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SKELETON_STAGES = 10  # 2 sources, 2 validates, label, join, split, train, evaluate, register
HEADER = '''team data { contact "#data"; role data }
team ml { contact "#ml"; role ml }
team product { contact "#product"; role product }

pipeline generated_%(n)d {
  owner ml
  risk low
  predicts future
  image "registry.example.com/train@sha256:%(digest)s"
  code_commit "4b1c0f9e2d7a8c6b5a49382716f5e4d3c2b1a0f9"
  on_failure block
  retrain manual

  source events {
    owner data
    from parquet "data/events.parquet"
    snapshot 2026-06-01
    entity account_id
    time at
    schema { account_id: string; at: timestamp; amount: float >= 0 }
  }

  source outcomes {
    owner data
    from parquet "data/outcomes.parquet"
    snapshot 2026-06-01
    entity account_id
    time reported_at
    schema { account_id: string; reported_at: timestamp }
  }

  validate events {
    require account_id, at, amount
    completeness amount >= 0.99
    unique account_id, at
  }

  validate outcomes {
    require account_id, reported_at
    unique account_id, reported_at
  }

  label outcome {
    owner product
    from outcomes
    window 30d
  }
'''
VIEW = '''
  features view_%(i)d version 1 {
    from events
    entity account_id
    time at
    point_in_time
    feature amount_sum_%(i)d = sum(amount) over %(days)dd
  }
'''
FOOTER = '''
  split by time on at {
    train before snapshot - 120d
    gap 30d
  }

  train model {
    model "sklearn.linear_model.LogisticRegression"
    seed 7
  }

  evaluate model {
    owners ml, product
    primary roc_auc >= 0.7
    calibration ece <= 0.1
  }

  register model {
    registry local "registry/"
  }
}
'''


def program(stages: int) -> str:
    views = max(0, stages - SKELETON_STAGES)
    text = HEADER % {"n": stages, "digest": "ab" * 32}
    text += "".join(VIEW % {"i": i, "days": 1 + i % 90} for i in range(views))
    return text + FOOTER


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("stages", type=int, help=f"number of stages (>= {SKELETON_STAGES})")
    parser.add_argument("-o", "--output", help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    text = program(args.stages)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
