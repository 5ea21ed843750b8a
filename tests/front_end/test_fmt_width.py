"""`pipec fmt` lays out a map or list one entry per line when its statement would be
wider than `MAX_WIDTH`, and joins a narrow one onto one line; what `pipec check`
reports stays the same either way."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pipec.check import compile
from pipec.fmt import MAX_WIDTH, format_module
from pipec.parser import parse_text


def fmt(text: str) -> str:
    result = parse_text(text, "x.pipe")
    assert result.module is not None, result.diagnostics
    return format_module(result.module, text)


def _train(features: str, params: str = "{ C: 1.0 }") -> str:
    return f"""\
pipeline p {{
  train m {{
    model "sklearn.linear_model.LogisticRegression"
    features {features}
    params {params}
  }}
}}
"""


def test_a_long_features_list_gets_a_line_per_name_and_stays_so() -> None:
    names = [f"feature_number_{i}" for i in range(12)]
    out = fmt(_train(f"[{', '.join(names)}]"))
    assert "    features [\n" + "".join(f"      {name}\n" for name in names) + "    ]\n" in out
    assert fmt(out) == out
    assert max(map(len, out.splitlines())) <= MAX_WIDTH


def test_a_narrow_list_written_over_lines_is_joined() -> None:
    out = fmt(_train("[\n      a,\n      b\n    ]"))
    assert "    features [a, b]\n" in out


def test_only_the_wide_inner_map_of_a_map_is_spread() -> None:
    """The outer map is too wide for one line; the narrow map inside it stays whole."""
    settings_ = ", ".join(f"long_setting_{i}: {i}" for i in range(6))
    out = fmt(_train("[a]", f"{{ C: 1.0, grid: {{ o0: 0, o1: 1 }}, {settings_} }}"))
    assert "    params {\n      C: 1.0\n      grid: { o0: 0, o1: 1 }\n" in out, out
    assert "      long_setting_5: 5\n    }\n" in out
    wide = ", ".join(f"option_{i}: {i}.5" for i in range(9))
    out = fmt(_train("[a]", f"{{ C: 1.0, grid: {{ {wide} }} }}"))
    assert "      grid: {\n        option_0: 0.5\n" in out, out
    assert fmt(out) == out


def test_a_line_exactly_as_wide_as_allowed_stays_whole() -> None:
    head = "    features ["
    # Names of one letter and `, ` between them: pad the first to hit the width exactly.
    rest = ", b]"
    first = "a" * (MAX_WIDTH - len(head) - len(rest))
    line = f"{head}{first}{rest}"
    assert len(line) == MAX_WIDTH
    assert line + "\n" in fmt(_train(f"[{first}, b]"))
    assert "      b\n" in fmt(_train(f"[{first}x, b]"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,14}", fullmatch=True), min_size=1,
                max_size=30))
def test_spreading_changes_neither_the_program_nor_the_report(names: list[str]) -> None:
    text = _train(f"[{', '.join(names)}]")
    out = fmt(text)
    assert fmt(out) == out
    before = [(d.code, d.message) for d in compile(text).diagnostics]
    after = [(d.code, d.message) for d in compile(out).diagnostics]
    assert before and before == after
