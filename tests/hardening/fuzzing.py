"""Grammar-aware fuzzing of the front end: valid programs, then mutated.

Seeds are the example files, the bundled standard library and the random valid programs
of `support.pipe_strategies`. A mutation works on the seed's tokens (drop, swap,
duplicate, replace with another token of the language, truncate) or on its bytes (random
bytes, invalid UTF-8, NUL, lone surrogates, deep nesting, huge literals).

`exercise(data, folder)` runs one input through `compile`, `format_module` and
`build_files` in process and returns the first broken promise as a string (None when
every promise held): no exception escapes, each step answers (a hang guard of a minute:
an endless loop, not a speed measure, which these shared machines would make flaky;
the cost of large inputs is pinned by tests that count work), and formatting is
idempotent and keeps the program parseable.
"""

from __future__ import annotations

import re
import signal
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import strategies as st
from support.pipe_strategies import programs

REPO = Path(__file__).resolve().parents[2]
SEED_FILES = sorted((REPO / "examples").glob("*/*.pipe")) + sorted(
    (REPO / "stdlib").rglob("*.pipe"))
SEEDS = [path.read_bytes() for path in SEED_FILES]
TEAMS = (REPO / "examples" / "fraud" / "teams.pipe").read_bytes()

# Tokens of the language, to splice in where they do not belong.
KEYWORDS = [
    "import", "team", "contact", "role", "checks", "gates", "pipeline", "owner", "on_failure",
    "alert", "retries", "timeout", "description", "risk", "predicts", "image", "code_commit",
    "examples", "from", "retrain", "manual", "scheduled", "triggered", "on", "new_snapshot",
    "drift", "continuous", "source", "csv", "parquet", "sql", "snapshot", "latest", "entity",
    "time", "lag", "freshness", "schema", "pii", "after_event", "validate", "require", "range",
    "completeness", "unique", "within", "of", "baseline", "use", "warn", "label", "window",
    "column", "when", "known_after", "definition", "features", "version", "point_in_time",
    "feature", "over", "columns", "backfill", "validated", "split", "by", "random", "group",
    "market", "test", "valid", "seed", "train", "before", "gap", "until", "holdout", "model",
    "task", "params", "resources", "distributed", "evaluate", "owners", "primary", "guardrail",
    "slice", "min", "calibration", "latency", "size", "compare", "champion", "compatible",
    "threshold", "approval", "register", "registry", "local", "mlflow", "rollback", "previous",
    "deploy", "canary", "for", "runtime", "true", "false", "in",
]
PUNCTUATION = ["{", "}", "[", "]", "(", ")", ":", ";", ",", ".", "..", "=", "*", "-", "%",
               ">=", "<=", "==", "!=", ">", "<", "\n", '"', "#", "\\"]
LITERALS = ["0", "-1", "0.5", "1e9", "20%", "5x", "30d", "12h15m", "250ms", "50MB", "2GiB",
            "2026-06-10", "2026-02-30", "2026-06-10T04:00:00Z", "2026-01-01..2026-03-01",
            '"x"', '""', '"\\u0000"', '"\\ud800"', '"\\"', "9" * 40, "0" * 30 + "1"]
WEIRD_BYTES = [b"\x00", b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\xed\xbf\xbf",
               b"\xef\xbb\xbf", b"\r", b"\r\n", b"\x0b", b"\x0c", b"\xe2\x80\xa8", b"\t",
               b"\xf4\x90\x80\x80", b"\xc0\x80", b"\x1b[31m"]
TOKEN = re.compile(rb'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\s+|[A-Za-z0-9_.%:\-]+|.', re.DOTALL)


def tokens(data: bytes) -> list[bytes]:
    return TOKEN.findall(data)


SPLICE = st.one_of(st.sampled_from(KEYWORDS), st.sampled_from(PUNCTUATION),
                   st.sampled_from(LITERALS)).map(lambda t: f" {t} ".encode())


@st.composite
def _token_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    parts = tokens(data)
    if not parts:
        return draw(SPLICE)
    i = draw(st.integers(0, len(parts) - 1))
    kind = draw(st.sampled_from(["drop", "swap", "duplicate", "replace", "insert"]))
    if kind == "drop":
        del parts[i]
    elif kind == "swap":
        j = draw(st.integers(0, len(parts) - 1))
        parts[i], parts[j] = parts[j], parts[i]
    elif kind == "duplicate":
        parts.insert(i, parts[i] * draw(st.integers(1, 3)))
    elif kind == "replace":
        parts[i] = draw(SPLICE)
    else:
        parts.insert(i, draw(SPLICE))
    return b"".join(parts)


@st.composite
def _byte_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    kind = draw(st.sampled_from(["truncate", "random", "weird", "flip"]))
    if kind == "truncate":
        return data[:at]
    if kind == "random":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if kind == "weird":
        return data[:at] + draw(st.sampled_from(WEIRD_BYTES)) + data[at:]
    if not data:
        return data
    at = min(at, len(data) - 1)
    return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1:]


@st.composite
def _big_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """Deep nesting and huge literals, at a token boundary (sizes kept moderate here; the
    dedicated tests use 10,000 levels, 1 MB strings and 10,000-digit numbers)."""
    parts = tokens(data) or [b""]
    i = draw(st.integers(0, len(parts)))
    size = draw(st.sampled_from([10, 65, 300, 2000]))
    big = draw(st.sampled_from([
        b"[" * size, b"{ a: " * size, b"[" * size + b"]" * size, b"(" * size,
        b'"' + b"a" * size * 50 + b'"', b"9" * size, b"-" + b"1" * size + b".5",
        b"1" + b"0" * size + b"d", b"# " + b"x" * size * 50, b"\n" * size, b";" * size,
    ]))
    return b"".join(parts[:i]) + b" " + big + b" " + b"".join(parts[i:])


def mutate(data: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(_token_mutation(data), _byte_mutation(data), _big_mutation(data))


@st.composite
def seeds(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(st.sampled_from(SEEDS))
    return draw(programs()).encode("utf-8")


@st.composite
def fuzz_inputs(draw: st.DrawFn) -> bytes:
    """A seed program with 0 to 4 mutations applied one after another."""
    data = draw(seeds())
    for _ in range(draw(st.integers(0, 4))):
        data = draw(mutate(data))
    return data


class TooSlow(BaseException):
    """Raised by the alarm; a BaseException so that `except Exception` cannot swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def _alarm(_signum: int, _frame: object) -> None:
        raise TooSlow(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def exercise(data: bytes, folder: Path, *, limit: float = 60.0,
             targets: tuple[str, ...] = ("local",)) -> str | None:
    """Check, format and build one input; the first broken promise, or None."""
    from pipec.backends.build import build_files
    from pipec.check import compile
    from pipec.fmt import format_module
    from pipec.parser import parse_bytes, parse_text

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "teams.pipe").write_bytes(TEAMS)
    path = folder / "fuzz.pipe"
    path.write_bytes(data)
    step = "check"
    try:
        with time_limit(limit):
            program = compile(path)
            assert all(d.span.line >= 1 and d.span.col >= 1 for d in program.diagnostics)
        step = "fmt"
        with time_limit(limit):
            parsed = parse_bytes(data, "fuzz.pipe")
            if parsed.module is not None:
                once = format_module(parsed.module, parsed.text)
                again = parse_text(once, "fuzz.pipe")
                if again.module is None:
                    return f"fmt output does not parse: {again.diagnostics[0].message}"
                if format_module(again.module, once) != once:
                    return "fmt is not idempotent"
        if parsed.module is None:
            return None  # build would refuse with the same P001 that check just gave
        for target in targets:
            step = f"build --target {target}"
            with time_limit(limit):
                build_files(path, target, folder / "out")
    except TooSlow as exc:
        return f"{step}: {exc}"
    except Exception:
        return f"{step}: {traceback.format_exc(limit=-3)}"
    return None
