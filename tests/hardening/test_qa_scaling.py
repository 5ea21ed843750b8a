"""Scaling regressions, checked by counting work and comparing outputs, never by timing
(the machines are shared): each test names the loop that once made a command grow with
the square of the program's size."""

from __future__ import annotations

import gc
import importlib.util
import re
from pathlib import Path

import pipec
from hypothesis import given, settings
from hypothesis import strategies as st
from pipec import fmt, parser, suppress
from pipec.parser import parse_text
from pipec.rules import run_rules

REPO = Path(__file__).resolve().parents[2]


def _generated(stages: int) -> str:
    spec = importlib.util.spec_from_file_location("gen_program", REPO / "tools" / "gen_program.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.program(stages)


def _without_default_owner(text: str) -> str:
    """Every stage then reports OWN001: thousands of diagnostics to suppress."""
    return re.sub(r"(pipeline generated_\d+ \{\n)  owner ml\n", r"\1", text, count=1)


def _scan(table: dict[str, list[suppress.Suppression]],
          diagnostics: list) -> list[suppress.Suppression | None]:
    """The suppression each diagnostic matches, as pipec first found it: the first one
    of its file, in file order, naming its code and covering its line."""
    found = []
    for diagnostic in diagnostics:
        match = None
        if diagnostic.code not in suppress.UNSUPPRESSIBLE and diagnostic.code != "SUP001":
            match = next((s for s in table.get(diagnostic.span.file, ())
                          if diagnostic.code in s.codes and s.covers(diagnostic.span.line)),
                         None)
        found.append(match)
    return found


def _overlapping(stages: int) -> str:
    """Suppressions that overlap: one above the pipeline (every line), one per view on
    its header (the view), some on a statement inside a view, some naming two codes and
    some naming a code that is never reported."""
    text = _without_default_owner(_generated(stages))
    text = text.replace("pipeline generated", "# pipec: ignore[OWN001, VAL002] whole file\n"
                        "pipeline generated", 1)

    def view(match: re.Match[str]) -> str:
        i = int(match.group(1))
        codes = ["OWN001", "REPRO004", "LEAK002"][i % 3]
        return f"{match.group(0)}  # pipec: ignore[{codes}] view {i}"

    text = re.sub(r"features view_(\d+) version 1 \{", view, text)
    return re.sub(r"(    point_in_time)\n(    feature amount_sum_(\d*7) )",
                  r"\1\n    # pipec: ignore[OWN001] inner\n\2", text)


def test_suppressions_match_as_the_scan_did(tmp_path):
    path = tmp_path / "big.pipe"
    path.write_text(_overlapping(600), "utf-8")
    program = pipec.compile(path)
    raw = [*program.diagnostics, *run_rules(program)]  # before suppression, and after
    expected = _scan(suppress.collect(program), raw)
    got = suppress._matches(suppress.collect(program), raw)
    # `collect` builds new Suppression objects each time: compare which one, by comment.
    assert [m and m.comment.span for m in got] == [m and m.comment.span for m in expected]
    assert sum(m is not None for m in got) > 500


def test_matching_suppressions_does_not_scan_them_per_diagnostic(tmp_path, monkeypatch):
    stages = 2_000
    text = re.sub(r"(features view_\d+ version 1 \{)", r"\1  # pipec: ignore[OWN001] generated",
                  _without_default_owner(_generated(stages)))
    path = tmp_path / "big.pipe"
    path.write_text(text, "utf-8")
    calls = 0
    covers = suppress.Suppression.covers

    def counted(self, line: int) -> bool:
        nonlocal calls
        calls += 1
        return covers(self, line)

    monkeypatch.setattr(suppress.Suppression, "covers", counted)
    program = pipec.compile(path)
    # The skeleton's few stages stay unsuppressed; every view's OWN001 is suppressed.
    assert [d.code for d in program.diagnostics] == ["OWN001"] * 5
    assert calls < 10 * stages  # the scan asked ~stages**2 / 2 times


def _commented_features(names: int) -> str:
    refs = "".join(f"      view_{i}.amount_sum_{i},  # feature {i}\n" for i in range(names))
    return _generated(names + 10).replace(
        "    seed 7\n  }\n\n  evaluate",
        f"    seed 7\n    features [\n{refs}    ]\n  }}\n\n  evaluate", 1)


def test_fmt_lists_the_entries_of_a_long_list_once(monkeypatch):
    """`_entries` rebuilt the list of its entries for each entry (quadratic in a
    `features [` list with a comment in it)."""
    text = _commented_features(1_500)
    module = parse_text(text, "big.pipe").module
    lists: list[list] = []  # kept alive, so that two lists never share an id
    next_line = fmt._next_line

    def recorded(siblings, index, closing_line):
        if isinstance(siblings, list) and not any(seen is siblings for seen in lists):
            lists.append(siblings)
        return next_line(siblings, index, closing_line)

    monkeypatch.setattr(fmt, "_next_line", recorded)
    once = fmt.format_module(module, text)
    assert len(lists) < 10  # one per spread list, not one per entry
    assert once.count("  # feature ") == 1_500
    assert fmt.format_module(parse_text(once, "big.pipe").module, once) == once


def test_parsing_pauses_the_collector_and_restores_it(monkeypatch):
    """fmt parses without compiling: the pause must hold there too (collections walking
    the growing tree made parsing superlinear), and end with the parse."""
    enabled_while_parsing = []
    grammar = parser.grammar

    def watched():
        enabled_while_parsing.append(gc.isenabled())
        return grammar()

    monkeypatch.setattr(parser, "grammar", watched)
    assert gc.isenabled()
    assert parser.parse_text(_generated(30), "big.pipe").module is not None
    assert enabled_while_parsing and not any(enabled_while_parsing)
    assert gc.isenabled()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 30), max_size=60))
def test_crossings_are_counted_as_every_pair_was_compared(ends: list[int]) -> None:
    """`pipec docs` compared every pair of edges between two layers to count crossings
    (82 s at 10,000 stages); the count is now of inversions, which must be the same."""
    from pipec.docsite.layout import _inversions

    pairs = sum(1 for a in range(len(ends)) for b in range(a + 1, len(ends)) if ends[a] > ends[b])
    assert _inversions(ends, 31) == pairs


def test_a_stages_edges_are_looked_up_not_filtered_from_all(monkeypatch) -> None:
    """Each stage's incoming and outgoing edges were filtered from every edge of the
    pipeline (stages x edges); they are grouped once."""
    from pipec.docsite import collect

    seen: list[int] = []
    grouped = collect._edges_by
    monkeypatch.setattr(collect, "_edges_by",
                        lambda edges, end: seen.append(len(edges)) or grouped(edges, end))
    program = pipec.compile(_generated(200))
    from pipec.docsite.manifest import build_docs_manifest

    build_docs_manifest([program])
    assert len(seen) == 2  # by target and by source, once for the pipeline
