"""Hypothesis strategies for `.pipe` programs with random (but valid) layout: random
indentation, `;` or newlines between statements, comments, one-line blocks."""

from __future__ import annotations

from hypothesis import strategies as st

NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s not in {"true", "false"})
STRINGS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
DURATIONS = st.builds(lambda n, u: f"{n}{u}", st.integers(1, 999), st.sampled_from(
    ["d", "h", "m", "s", "ms"]))
SHARES = st.one_of(st.builds(lambda n: f"{n}%", st.integers(0, 100)),
                   st.builds(lambda n: f"0.{n}", st.integers(0, 99)))
NUMBERS = st.one_of(st.integers(-1000, 1000).map(str),
                    st.floats(-1e3, 1e3, allow_nan=False).map(lambda f: f"{f:.3f}"))
DATES = st.dates().filter(lambda d: d.year >= 1000).map(lambda d: d.isoformat())
CMP = st.sampled_from([">=", "<=", ">", "<", "==", "!="])


def quoted(s: str) -> str:
    import json

    return json.dumps(s, ensure_ascii=False)


@st.composite
def values(draw: st.DrawFn, depth: int = 0) -> str:
    leaves = [NUMBERS, DURATIONS, SHARES, DATES, STRINGS.map(quoted),
              st.sampled_from(["true", "false"]), NAMES]
    if depth < 2:
        leaves.append(st.lists(values(depth + 1), max_size=3).map(
            lambda v: "[" + ", ".join(v) + "]"))
        leaves.append(st.lists(st.tuples(NAMES, values(depth + 1)), max_size=3).map(
            lambda kv: "{ " + ", ".join(f"{k}: {v}" for k, v in kv) + " }"))
    return draw(st.one_of(leaves))


def _source_statements() -> list[st.SearchStrategy[str]]:
    return [
        NAMES.map(lambda n: f"owner {n}"),
        STRINGS.map(lambda s: f"from parquet {quoted(s)}"),
        st.one_of(DATES, st.just("latest")).map(lambda d: f"snapshot {d}"),
        NAMES.map(lambda n: f"entity {n}"),
        DURATIONS.map(lambda d: f"lag {d}"),
    ]


def _train_statements() -> list[st.SearchStrategy[str]]:
    return [
        STRINGS.map(lambda s: f"model {quoted(s)}"),
        st.integers(0, 10**6).map(lambda n: f"seed {n}"),
        values().filter(lambda v: v.startswith("{")).map(lambda v: f"params {v}"),
        st.lists(NAMES, min_size=1, max_size=3).map(lambda n: "features [" + ", ".join(n) + "]"),
        st.sampled_from(["block", "warn", "retry"]).map(lambda p: f"on_failure {p}"),
    ]


def _evaluate_statements() -> list[st.SearchStrategy[str]]:
    return [
        st.tuples(NAMES, CMP, NUMBERS).map(lambda t: f"primary {t[0]} {t[1]} {t[2]}"),
        st.tuples(NAMES, st.integers(1, 999), NAMES, CMP, NUMBERS).map(
            lambda t: f"slice {t[0]} min {t[1]}: {t[2]} {t[3]} {t[4]}"),
        st.tuples(CMP, DURATIONS).map(lambda t: f"latency p99 {t[0]} {t[1]}"),
        st.just("features compatible warn"),
        NAMES.map(lambda n: f"approval by {n}"),
    ]


@st.composite
def block(draw: st.DrawFn, header: str, pool: list[st.SearchStrategy[str]],
          indent: str) -> str:
    statements = draw(st.lists(st.one_of(pool), min_size=0, max_size=5))
    if draw(st.booleans()) and statements:
        return f"{indent}{header} {{ " + "; ".join(statements) + " }"
    inner = draw(st.sampled_from(["  ", "    ", "\t", " "]))
    lines = [f"{indent}{header} {{" + draw(_comment())]
    for statement in statements:
        lines.append(f"{indent}{inner}{statement}" + draw(_comment()))
    lines.append(f"{indent}}}")
    return "\n".join(lines)


@st.composite
def _comment(draw: st.DrawFn) -> str:
    if not draw(st.booleans()):
        return ""
    text = draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                        max_size=10))
    return " " * draw(st.integers(1, 4)) + "# " + text


@st.composite
def programs(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 2))):
        parts.append(draw(st.builds(lambda n, c: f'team {n} {{ contact {quoted(c)}; role ml }}',
                                    NAMES, STRINGS)))
    indent = draw(st.sampled_from(["", "  ", "      "]))
    body = [draw(block(f"source {draw(NAMES)}", _source_statements(), indent)),
            draw(block(f"train {draw(NAMES)}", _train_statements(), indent)),
            draw(block(f"evaluate {draw(NAMES)}", _evaluate_statements(), indent))]
    settings = draw(st.lists(st.sampled_from(["risk high", "predicts future", "retries 2",
                                              "retrain manual", 'retrain scheduled "0 3 * * *"']),
                             max_size=3))
    name = draw(NAMES)
    lines = [f"pipeline {name} {{"] + [indent + s for s in settings] + body + ["}"]
    separator = draw(st.sampled_from(["\n", "\n\n"]))
    return separator.join(parts + ["\n".join(lines)]) + "\n"
