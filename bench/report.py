"""Render bench/README.md from the results of every benchmark (bench/results/*.json)."""

from __future__ import annotations

import json

from bench.common import BENCH, RESULTS, Result, Target, machine_line, mark, table

ORDER = ("compile", "cold-start", "kfp", "airflow", "runtime")

INTRO = """# Benchmarks

`python -m bench` runs every benchmark and rewrites this file; `--quick` runs smaller
sizes with fewer rounds (a few minutes), `--only NAME` one benchmark ({names}). Each
benchmark keeps its last result in `bench/results/NAME.json`, so `--only` leaves the
other tables as they were.

How it measures: the machine is shared with other work, so no absolute number is
trusted on its own. Every number that is judged is a **ratio against a baseline
measured in the same run**, the two interleaved (A B B A A B ...) over several rounds,
and the ratio is the median of the per-round ratios; times shown are medians.
Before measuring, pipec's own modules are byte-compiled (`__pycache__`), as installing a
wheel does and as every library measured here already is: an editable install where
PYTHONDONTWRITEBYTECODE is set would otherwise compile pipec's source in every process.
Scratch output goes to `bench/.out/`, synthetic data to `bench/.data/`, kfp lives in
`bench/.venv-kfp/` and Airflow in `.venv-airflow/` (all gitignored).
"""


def load() -> dict[str, Result]:
    results = {}
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        data["targets"] = [Target(**t) for t in data["targets"]]
        results[data["name"]] = Result(**data)
    return results


def save(result: Result) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{result.name}.json").write_text(
        json.dumps(result.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")


def render(results: dict[str, Result]) -> str:
    parts = [INTRO.format(names=", ".join(f"`{n}`" for n in ORDER))]
    rows = []
    for name in ORDER:
        result = results.get(name)
        for t in result.targets if result else []:
            rows.append([result.title, t.name, t.target, t.measured, mark(t.met), t.note])
    parts.append("## All targets\n\n" + table(
        ["benchmark", "target", "wanted", "measured", "verdict", "what limits it"], rows))
    for name in ORDER:
        result = results.get(name)
        if result is None:
            parts.append(f"## {name}\n\nNot run yet: `python -m bench --only {name}`.")
            continue
        run = "`--quick` run" if result.quick else "full run"
        parts.append(f"## {result.title}\n\n_Machine: {machine_line(result.machine)}; "
                     f"{run}, {result.seconds:.0f} s._\n\n{result.body}")
    return "\n\n".join(parts).rstrip() + "\n"


def write() -> None:
    (BENCH / "README.md").write_text(render(load()), encoding="utf-8")
