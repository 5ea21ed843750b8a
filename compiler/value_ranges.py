"""Numbers the grammar accepts but no run could use (P001, "a value of the wrong kind
for its keyword"): a share outside 0..100%, negative retries, a zero timeout or window,
a seed scikit-learn refuses, a canary of nothing or for no time, a freshness of no time,
shares of a split that leave no train set, an `in A..B` range of a check or schema
constraint that ends before it starts (no value is in it: every row fails the check).
A backfill range that does so is `structure`'s, with the rest of the backfill's shape.

Also P003 for a key given twice in one map (`params { max_iter: 1, max_iter: 2 }`): the
map would silently keep the last. It is found here, on the built program, rather than
while building the AST, where any error drops the file and stops the analysis.

These would otherwise fail at run time on the orchestrator, or worse, run: a 120% test
share puts every row in test and trains on nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.rules._support import moment_of_value

# Resources measured in bytes, and the least a stage could run in (a bare number below
# it is a unit left out, not a request).
BYTE_RESOURCES = frozenset({"memory", "ephemeral-storage"})
MIN_BYTES = 2**20
# Argo reads `retryStrategy.limit` as a 32-bit integer; a larger one cannot run there.
RETRIES_MAX = 2**31 - 1
SEED_MAX = 2**32 - 1  # scikit-learn's random_state and numpy's legacy seeding
# keyword -> (lowest, highest, inclusive at the low end, what it is)
SHARES = {
    "test": (0.0, 1.0, False, "the test share"),
    "valid": (0.0, 1.0, False, "the validation share"),
    "threshold": (0.0, 1.0, True, "a probability threshold"),
}


def value_diagnostics(blocks: list[n.Block]) -> Iterator[Diagnostic]:
    """P001 for every out-of-range value in these blocks (the pipeline and its stages)."""
    for block in blocks:
        yield from _settings(block)
        yield from _statements(block)
        yield from _empty_ranges(block)
        yield from _duplicate_keys(block)
        if block.kind == "split":
            yield from _split_shares(block)


def _settings(block: n.Block) -> Iterator[Diagnostic]:
    for setting in block.settings("retries"):
        if isinstance(setting.value, n.Int) and setting.value.value < 0:
            yield _p001(setting.value, "retries cannot be negative", "write `retries 0`")
        elif isinstance(setting.value, n.Int) and setting.value.value > RETRIES_MAX:
            yield _p001(setting.value, f"retries are at most {RETRIES_MAX:,} (Argo's "
                        "retry limit is a 32-bit integer)", "write `retries 3`, say")
    for setting in block.settings("rollback"):
        yield from _rollback(setting.value)
    for setting in block.settings("code_commit"):
        yield from _code_commit(setting.value)
    for setting in block.settings("timeout"):
        if isinstance(setting.value, n.Duration) and setting.value.seconds <= 0:
            yield _p001(setting.value, "a timeout of no time would fail every run",
                        "give the stage time to run, e.g. `timeout 2h`")
    for setting in block.settings("seed"):
        value = setting.value
        if isinstance(value, n.Int) and not 0 <= value.value <= SEED_MAX:
            yield _p001(value, f"a seed is a whole number from 0 to {SEED_MAX:,}",
                        "pick any number in that range, e.g. `seed 42`")
    for keyword, (low, high, low_ok, what) in SHARES.items():
        for setting in block.settings(keyword):
            yield from _share(setting.value, low, high, low_ok, what)
    for setting in block.settings("resources"):
        yield from _byte_amounts(setting.value)
    for setting in block.settings("freshness"):  # a source's
        if isinstance(setting.value, n.Duration) and setting.value.seconds <= 0:
            yield _p001(setting.value, "a source's freshness is how often it is updated, "
                        "and no source is updated in no time", "write its update cadence, "
                        "e.g. `freshness 1d`")


def _byte_amounts(value: n.Value | n.Ident) -> Iterator[Diagnostic]:
    """A bare number for memory is bytes to Kubernetes: `memory: 16` asks for 16 bytes,
    which no stage runs in; the user meant 16 GiB (or MiB)."""
    if not isinstance(value, n.MapValue):
        return
    for pair in value.pairs:
        amount = pair.value
        if pair.key in BYTE_RESOURCES and isinstance(amount, n.Int | n.Float) and \
                0 <= amount.value < MIN_BYTES:
            yield _p001(amount, f"`{pair.key}: {amount.value}` is {amount.value} bytes: "
                        "no stage runs in that", f"write a size, e.g. `{pair.key}: "
                        f"{amount.value}GiB`, or a quantity such as \"{amount.value}Gi\"")


def _rollback(value: n.Value) -> Iterator[Diagnostic]:
    """`rollback VERSION` pins a registry version: a whole number from 1. A string (or 0)
    names no version, and the runtime would silently restore the previous one."""
    if isinstance(value, n.Int) and value.value < 1:
        yield _p001(value, "registry versions count from 1", "write `rollback previous`, "
                    "or the version to restore, e.g. `rollback 3`")
    elif isinstance(value, n.Str):
        yield _p001(value, "a rollback version is a registry version number, not text",
                    "write it unquoted, e.g. `rollback 3`, or `rollback previous`")


# A git commit id, abbreviated to 7 hex digits at the least (SHA-1 40, SHA-256 64). A
# branch or tag name moves: lineage would name code that it cannot pin.
_COMMIT_ID = re.compile(r"[0-9a-fA-F]{7,64}")


def _code_commit(value: n.Value | n.Ident) -> Iterator[Diagnostic]:
    """`code_commit "SHA"` pins the code every artifact records; `auto` (unquoted) reads
    the checkout's. Quoted, "auto" would be a commit named auto."""
    if not isinstance(value, n.Str):
        return
    if value.value == "auto":
        yield _p001(value, '`"auto"` in quotes names a commit called auto',
                    "write `code_commit auto`, unquoted, to record the checkout's commit")
    elif not _COMMIT_ID.fullmatch(value.value):
        yield _p001(value, f"{_text(value)} is not a commit id (7 to 64 hex digits): a "
                    "branch or tag name moves, so lineage could not say which code ran",
                    "write the commit's id (`git rev-parse HEAD`), or `code_commit auto`")


def _statements(block: n.Block) -> Iterator[Diagnostic]:
    if isinstance(block, n.Features) and block.version is not None and block.version.value < 0:
        yield _p001(block.version, "a feature view's version is a whole number from 0: "
                    "lineage and the docs order versions by it", "write `version 1`, and "
                    "raise it when the view's definition changes")
    for gate in block.all(n.Gate):
        if gate.min_rows is not None and gate.min_rows.value < 0:
            yield _p001(gate.min_rows, "a slice's `min` is a number of test rows, so it "
                        "cannot be negative", "write `min 0` to gate every slice, or the "
                        "fewest rows a slice needs to be gated, e.g. `min 100`")
    for feature in block.all(n.FeatureDef):
        if feature.window.seconds <= 0:
            yield _p001(feature.window, "a window of no time holds no rows: the feature "
                        "would be empty for every example", "give the window a length, e.g. "
                        "`over 7d`")
    for setting in block.settings("window"):  # a label's event window
        if isinstance(setting.value, n.Duration) and setting.value.seconds <= 0:
            yield _p001(setting.value, "a label window of no time can hold no event: every "
                        "label would be false", "give the window a length, e.g. `window 30d`")
    for drift in block.all(n.Drift):
        if drift.factor.factor < 1:
            yield _p001(drift.factor, "a drift factor below 1x fails every value but an "
                        "exact repeat (the ratio is taken both ways, so it is at least 1)",
                        "write the largest ratio you accept, e.g. `within 3x`")
    for check in block.all(n.Completeness):
        yield from _share(check.value, 0.0, 1.0, True, "a completeness share")
    for canary in block.all(n.Canary):
        yield from _share(canary.share, 0.0, 1.0, False, "a canary share")
        if canary.duration.seconds <= 0:
            yield _p001(canary.duration, "a canary of no time watches nothing: the model "
                        "would go to everyone at once", "give the canary time, e.g. "
                        "`for 1h`")
    for check in block.all(n.FreshnessCheck):
        if check.within.seconds <= 0:
            yield _p001(check.within, "freshness within no time fails on any data: the "
                        "newest row is never as new as the snapshot's end",
                        "write the delay you accept, e.g. `within 2d`")


def _empty_ranges(block: n.Block) -> Iterator[Diagnostic]:
    for value in _checked_ranges(block):
        if _ends_before_start(value):
            yield _p001(value, f"the range `{value.text}` ends ({value.high.text}) before it "
                        f"starts ({value.low.text}): no value is in it, so every row with a "
                        "value fails",
                        f"write the low end first: `{value.high.text}..{value.low.text}`")


def _checked_ranges(block: n.Block) -> Iterator[n.RangeValue]:
    """The `in A..B` of range checks and schema constraints."""
    for check in block.all(n.RangeCheck):
        if check.range is not None:
            yield check.range
    for schema in block.all(n.Schema):
        for column in schema.columns:
            if column.constraint is not None and column.constraint.range is not None:
                yield column.constraint.range


def _ends_before_start(value: n.RangeValue) -> bool:
    """A one-value range (`3..3`) is fine; bounds of two kinds are T003's."""
    low, high = value.low, value.high
    if isinstance(low, n.Int | n.Float) and isinstance(high, n.Int | n.Float):
        return high.value < low.value
    start, end = moment_of_value(low), moment_of_value(high)
    return start is not None and end is not None and end.seconds_after(start) < 0


def _duplicate_keys(block: n.Block) -> Iterator[Diagnostic]:
    for setting in block.body:
        if isinstance(setting, n.Setting) and isinstance(setting.value, n.Value):
            for mapping in _maps_in(setting.value):
                yield from _keys_given_twice(setting.keyword, mapping)


def _maps_in(value: n.Value) -> Iterator[n.MapValue]:
    """The maps of a value, nested ones included."""
    items: tuple[n.Value, ...] = ()
    if isinstance(value, n.MapValue):
        yield value
        items = tuple(pair.value for pair in value.pairs)
    elif isinstance(value, n.ListValue):
        items = value.items
    for item in items:
        yield from _maps_in(item)


def _keys_given_twice(keyword: str, mapping: n.MapValue) -> Iterator[Diagnostic]:
    """Keys compare decoded: `max_iter` and `"max_iter"` are one key."""
    seen: dict[str, n.Pair] = {}
    for pair in mapping.pairs:
        first = seen.setdefault(pair.key, pair)
        if first is not pair:
            yield error("P003", f"the key `{pair.key}` is given twice in `{keyword}` (first "
                        f"at {first.span})", _key_span(pair),
                        "keep one of them: the map would silently keep the last")


def _key_span(pair: n.Pair) -> n.Span:
    """A pair starts with its key, which is on one line (a string has no raw newline)."""
    start = pair.span
    return n.Span(start.file, start.line, start.col, start.line, start.col + len(pair.key_text))


def _share(value: n.Value | n.Ident, low: float, high: float, low_ok: bool,
           what: str) -> Iterator[Diagnostic]:
    share = _number(value)
    if share is None:
        return
    above_low = share >= low if low_ok else share > low
    if not (above_low and share <= high):
        bounds = f"{'from' if low_ok else 'above'} {low:g} up to {high:g} (0-100%)"
        assert isinstance(value, n.Value)
        yield _p001(value, f"{what} is {bounds}, not `{value.text}`",
                    "write a fraction such as `0.2` or a percentage such as `20%`")


def _split_shares(block: n.Block) -> Iterator[Diagnostic]:
    """`test` (and `valid`, if given) must leave rows to train on."""
    test, valid = block.setting("test"), block.setting("valid")
    if test is None:
        return
    given = [s.value for s in (test, valid) if s is not None]
    shares = [_number(v) for v in given]
    if None in shares or not all(0 < s <= 1 for s in shares):  # type: ignore[operator]
        return  # each is reported on its own
    if sum(shares) < 1:  # type: ignore[arg-type]
        return
    last = given[-1]
    assert isinstance(last, n.Value)
    if valid is None:
        yield _p001(last, f"a test share of `{last.text}` puts every row in the test set and "
                    "leaves none to train on", "write a share below 100%, e.g. `test 20%`")
    else:
        yield _p001(last, f"test `{_text(test.value)}` and valid `{last.text}` leave no rows "
                    "to train on", "make the two shares add up to less than 100%")


def _number(value: n.Value | n.Ident) -> float | None:
    if isinstance(value, n.Percent | n.Float | n.Int):
        return float(value.value)
    return None


def _text(value: n.Value | n.Ident) -> str:
    return value.text if isinstance(value, n.Value) else value.name


def _p001(value: n.Value, message: str, fix: str) -> Diagnostic:
    return error("P001", message, value.span, fix)
