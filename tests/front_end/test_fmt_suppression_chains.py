"""`pipec fmt` keeps what a suppression covers when statements are linked through a
wrapped map or list: a suppression covers every line of the statement it is on or above
(`pipec.suppress`), so one on a later line of `params { x: 1` over `}` also covers a
statement sharing `params`' first line, and one above `features [ a` over `]; params {`
also covers the `params` starting on `features`' last line. fmt wrote the other statement
on a line of its own, and SEC001 (with SUP001 for the suppression) came back."""

from __future__ import annotations

import pytest
from support.fmt_meaning import (
    SUPPRESS,
    URL,
    assert_fmt_keeps_meaning,
    check,
    train,
    train_of,
)

# A credential in a string on the statement that shares a line with `params`: SEC001.
SECRET = f"description {URL}"



@pytest.mark.parametrize(("body", "layout"), [
    # On the closing bracket's line: it covers `params` from its first line, so also
    # `description` on that line.
    (f"    {SECRET}; params {{ x: 1\n    }}  {SUPPRESS}\n    seed 1\n",
     f"    {SECRET}; params {{ x: 1 }}  {SUPPRESS}\n"),
    # On a line of its own above the closing bracket: the same.
    (f"    {SECRET}; params {{ x: 1\n    {SUPPRESS}\n    }}\n    seed 1\n",
     f"    {SECRET}; params {{\n      x: 1\n      {SUPPRESS}\n    }}\n"),
    # Above a chain: it covers `features` whole, so also the line `params` starts on.
    (f"    {SUPPRESS}\n    features [ h.a7\n    ]; params {{ x: 1, dsn: {URL}\n    }}\n"
     "    seed 1\n",
     f"    {SUPPRESS}\n    features [h.a7]; params {{ x: 1, dsn: {URL} }}\n"),
    # At the end of the chain's first line: the same. It stays inside `features`, whose
    # list is spread so that it keeps its line; `params` follows the closing bracket.
    (f"    features [ h.a7  {SUPPRESS}\n    ]; params {{ dsn: {URL}, x: 1\n    }}\n"
     "    seed 1\n",
     f"    features [  {SUPPRESS}\n      h.a7\n    ]; params {{ dsn: {URL}, x: 1 }}\n"),
], ids=["on-the-closing-bracket", "above-the-closing-bracket", "above-a-chain",
        "on-a-chain's-first-line"])
def test_a_suppression_keeps_covering_statements_linked_by_a_wrapped_map(body: str,
                                                                         layout: str) -> None:
    text = train(body)
    assert [d.code for d in check(text)] == []
    formatted = assert_fmt_keeps_meaning(text)
    assert layout in train_of(formatted), train_of(formatted)
    assert [d.code for d in check(formatted)] == [], formatted


def test_a_wide_chain_is_still_spread_and_stays_covered() -> None:
    """The map of the statement the suppression is after may still be laid out one
    entry per line: the others stay on the line the suppression covers."""
    wide = ", ".join(f"option_{i}: {i}" for i in range(8))
    text = train(f"    {SECRET}; params {{ x: 1, {wide}\n    }}  {SUPPRESS}\n    seed 1\n")
    assert [d.code for d in check(text)] == []
    formatted = assert_fmt_keeps_meaning(text)
    assert f"    {SECRET}; params {{\n      x: 1\n" in formatted, train_of(formatted)


@pytest.mark.parametrize("body", [
    # No suppression: one statement per line, as ever.
    f"    {SECRET}; params {{ x: 1\n    }}\n    seed 1\n",
    # A suppression of another statement: it covers nothing of the chain.
    f"    {SECRET}; params {{ x: 1\n    }}\n    seed 1  {SUPPRESS}\n",
], ids=["none", "elsewhere"])
def test_statements_no_suppression_links_are_still_split(body: str) -> None:
    formatted = assert_fmt_keeps_meaning(train(body))
    assert f"    {SECRET}\n    params {{ x: 1 }}\n" in train_of(formatted), formatted


def test_a_suppression_above_the_block_does_not_join_the_statements_inside() -> None:
    """It stays above the block and covers all of it, however laid out."""
    text = train(f"    {SECRET}; params {{ x: 1\n    }}\n    seed 1\n").replace(
        "  train m {\n", f"  {SUPPRESS}\n  train m {{\n")
    assert [d.code for d in check(text)] == []
    formatted = assert_fmt_keeps_meaning(text)
    assert f"    {SECRET}\n    params {{ x: 1 }}\n" in formatted, formatted


def test_a_statement_covered_only_in_part_is_not_joined() -> None:
    """The suppression above `features [` covers `params` only on its first line: the
    credential on the next line is reported before fmt, and must be after it. Joined
    onto the suppression's line, `params` was covered whole and SEC001 went away."""
    text = train(f"    {SUPPRESS}\n    features [ h.a7\n    ]; params {{ x: 1,\n"
                  f"      dsn: {URL} }}\n    seed 1\n")
    assert "SEC001" in [d.code for d in check(text)]
    formatted = assert_fmt_keeps_meaning(text)
    assert "SEC001" in [d.code for d in check(formatted)], formatted


def test_a_wide_line_wrapping_after_several_statements_is_spread_at_the_wrap() -> None:
    """Statements before a wrapped map on its first line, one after its closing bracket
    and the suppression there: joined on one line it was too wide, and a second fmt
    spread the last map (the one `_spreadable` picks on one line), so fmt was not
    stable. The map that wraps is spread at once, the suppression staying on the line of
    its closing bracket, which covers the statements on its first line too."""
    nested = "params { e: { f: { g: 1 } }, h: 2, option_name: 3 }"
    text = train(f"    {SECRET}; {nested}; resources {{ cpu: 1\n    }}; features [h.a7]"
                 f"  {SUPPRESS}\n    seed 1\n")
    assert [d.code for d in check(text)] == []
    formatted = assert_fmt_keeps_meaning(text)
    assert (f"    {SECRET}; {nested}; resources {{\n      cpu: 1\n"
            f"    }}; features [h.a7]  {SUPPRESS}\n") in train_of(formatted), \
        train_of(formatted)
    assert [d.code for d in check(formatted)] == [], formatted
