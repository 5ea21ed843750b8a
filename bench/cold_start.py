"""2. Cold start: `pipec check` on the reference program against `python -c pass` and
against importing the design card's libraries in one process (the import floor).

Target: at most 1.5x the import floor. `python -X importtime` tells which imports the
check pays for, grouped by top-level package.
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

from bench.common import (
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

NAME = "cold-start"
TITLE = "2. Cold start"
PROGRAM = "examples/fraud/fraud.pipe"
LIBRARIES = ("lark", "networkx", "pydantic", "jinja2", "yaml", "rich")
TARGET_RATIO = 1.5


def import_profile(argv: list[str], runs: int = 3,
                   level: int = 1) -> dict[str, float]:
    """Module name cut to `level` dotted parts (1: top-level package) -> median seconds
    of own import time (self time of all its modules), from `python -X importtime`."""
    per_run: list[dict[str, float]] = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        totals: dict[str, float] = defaultdict(float)
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _cumulative, name = (p.strip() for p in
                                          line[len("import time:"):].split("|"))
            totals[".".join(name.split(".")[:level])] += int(self_us) / 1e6
        per_run.append(totals)
    names = set().union(*per_run)
    return {n: median([r.get(n, 0.0) for r in per_run]) for n in names}


def run(quick: bool) -> Result:
    reps = 9 if quick else 21
    python = sys.executable
    floor_code = "import " + ", ".join(LIBRARIES)
    cases = {
        "python -c pass": process([python, "-c", "pass"]),
        "import floor": process([python, "-c", floor_code]),
        "pipec check": process([*pipec_argv(), "check", PROGRAM], cwd=ROOT),
    }
    log(f"{NAME}: {reps} interleaved rounds")
    times = interleave(cases, reps)
    vs_floor = paired_ratio(times["pipec check"], times["import floor"])
    vs_pass = paired_ratio(times["pipec check"], times["python -c pass"])
    rows = [[name, fmt_s(median(t)), fmt_x(paired_ratio(t, times["import floor"]))]
            for name, t in times.items()]
    body = table(["process", "median wall time", "vs import floor"], rows)
    body += (f"\n\nThe import floor is `python -c \"{floor_code}\"`. `pipec check "
             f"{PROGRAM}` is {fmt_x(vs_pass)} `python -c pass`. Median of {reps} interleaved "
             "rounds; ratios are the median of the per-round ratios.")

    log(f"{NAME}: import profile")
    check_code = f"from pipec.cli import main; main(['check', {PROGRAM!r}])"
    check = import_profile(["-c", check_code])
    floor = import_profile(["-c", floor_code])
    ranked = sorted(check.items(), key=lambda kv: kv[1], reverse=True)[:15]
    prof_rows = [[f"`{name}`", f"{secs * 1000:.1f} ms",
                  f"{floor[name] * 1000:.1f} ms" if name in floor else "–"]
                 for name, secs in ranked]
    body += ("\n\nWhat `pipec check` imports (own import time per top-level package, "
             "`python -X importtime`, median of 3 runs, beside the same package's time in the "
             f"floor). Total: {sum(check.values()) * 1000:.0f} ms for "
             f"`pipec check`, {sum(floor.values()) * 1000:.0f} ms for the floor.\n\n")
    body += table(["package", "own import time in `pipec check`", "in the floor"], prof_rows)
    modules = import_profile(["-c", check_code], level=9)
    own = sorted(((secs, name) for name, secs in modules.items()
                  if name.split(".")[0] in ("pipec", "networkx")),
                 reverse=True)[:10]
    body += ("\n\nThe slowest single modules among pipec's own and those only pipec "
             "pulls in:\n\n" + table(["module", "own import time"],
                                       [[f"`{n}`", f"{s * 1000:.1f} ms"] for s, n in own]))
    wall = median(times["pipec check"])
    body += (f"\n\nOf the {fmt_s(wall)} wall time, about {sum(check.values()) * 1000:.0f} ms "
             "is imports; the rest is interpreter start-up and the check itself (parse, "
             "model, rules, render).")
    skipped = [lib for lib in ("pydantic", "rich", "jinja2", "yaml") if lib not in check]
    if skipped:
        body += ("\n\n`pipec check` never imports " + ", ".join(f"`{s}`" for s in skipped)
                 + " (loaded lazily by the commands that need them).")
    met = vs_floor <= TARGET_RATIO
    targets = [Target("`pipec check` cold start vs import floor", f"<= {TARGET_RATIO:g}x",
                      fmt_x(vs_floor), met,
                      "" if met else "see the import profile: the largest packages above")]
    summary = table(["target", "wanted", "measured", "verdict"],
                    [[t.name, t.target, t.measured, mark(t.met)] for t in targets])
    return Result(NAME, TITLE, summary + "\n\n" + body, targets, machine(), quick)
