"""QA of `pipec fmt` as a demanding user meets it: comments in every place the grammar
lets a line end (after an opening bracket, between entries, before a closing one, after
a `;`), blank lines, CRLF, and several files at once."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, REPO, example_files
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pipec import nodes as n
from pipec.fmt import format_module
from pipec.parser import parse_text

SOURCES = example_files() + sorted((REPO / "tests" / "fixtures" / "rules").glob("*.pipe"))

# A comment or line break as text put right after a `{`, `[`, `,` or `;` (or right
# before a `}` or `]`): the places a user breaks a line inside a statement or block.
BREAKS = [" # after\n", "\n# alone\n", "\n\n", "\n  # indented\n\n", "\n", "; ", " ;# semi\n"]


def fmt(text: str) -> str:
    parsed = parse_text(text, "x.pipe")
    assert parsed.module is not None, parsed.diagnostics
    return format_module(parsed.module, text)


def _break_points(text: str) -> list[tuple[int, str]]:
    """Offsets of the brackets, commas and semicolons outside strings and comments."""
    found, in_string, escaped, in_comment = [], False, False, False
    for offset, char in enumerate(text):
        if in_comment:
            in_comment = char != "\n"
        elif in_string:
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            in_string = True
        elif char == "#":
            in_comment = True
        elif char in "{[,;}]":
            found.append((offset, char))
    return found


@st.composite
def broken_programs(draw: st.DrawFn) -> str:
    """An example or rule fixture with comments and line breaks put at random break
    points, sometimes with CRLF line ends and without a last newline."""
    text = SOURCES[draw(st.integers(0, len(SOURCES) - 1))].read_text("utf-8")
    for _ in range(draw(st.integers(1, 6))):
        points = _break_points(text)
        offset, char = points[draw(st.integers(0, len(points) - 1))]
        insert = draw(st.sampled_from(BREAKS))
        at = offset if char in "}]" else offset + 1
        text = text[:at] + insert + text[at:]
    if draw(st.booleans()):
        text = text.rstrip("\n")
    return text.replace("\n", "\r\n") if draw(st.booleans()) else text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_programs())
def test_fmt_of_comments_at_any_break_point_is_stable_and_keeps_them(text: str) -> None:
    before = parse_text(text, "x.pipe").module
    assume(before is not None)  # a `;` or line break where the grammar allows none
    once = fmt(text)
    after = parse_text(once, "x.pipe").module
    assert after is not None, once
    assert after.items == before.items, once
    assert [c.text.rstrip() for c in after.comments] == [
        c.text.rstrip() for c in before.comments], once
    assert fmt(once) == once
    assert "\r" not in once and once.endswith("\n")


COMMENTED = """\
# the header

import "teams.pipe" # after an import
# between imports
import "more.pipe"
team risk { # after an opening brace
  contact "#risk" # a hash in a string
  # before a closing brace
}
pipeline p { # after the pipeline's brace
  owner risk
  train m {
    params {  # after a map's brace
      a: 1,  # after an entry
      # between entries
      b: [1, # inside a list
          2
          # before a list's bracket
         ],
      c: "q\\"uote\\\\ \\u00e9 é 🎉" # after a string with escapes
      # before a map's brace
    }
    features [a, # after the first name
      b]
  }
  # after the last stage
}
# the end, without a newline"""


def test_comments_in_every_odd_place_are_kept_where_they_were() -> None:
    once = fmt(COMMENTED)
    assert once == """\
# the header

import "teams.pipe"  # after an import
# between imports
import "more.pipe"

team risk {  # after an opening brace
  contact "#risk"  # a hash in a string
  # before a closing brace
}

pipeline p {  # after the pipeline's brace
  owner risk

  train m {
    params {  # after a map's brace
      a: 1  # after an entry
      # between entries
      b: [  # inside a list
        1
        2
        # before a list's bracket
      ]
      c: "q\\"uote\\\\ \\u00e9 é 🎉"  # after a string with escapes
      # before a map's brace
    }
    features [  # after the first name
      a
      b
    ]
  }
  # after the last stage
}
# the end, without a newline
"""
    assert fmt(once) == once


def _fmt_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", "fmt", *args],
                          capture_output=True, text=True)


def test_check_of_several_files_names_each_one_that_would_change(tmp_path: Path) -> None:
    canonical = (EXAMPLES / "fraud" / "teams.pipe").read_bytes()
    files = {"canonical.pipe": canonical,
             "crlf.pipe": canonical.replace(b"\n", b"\r\n"),
             "broken.pipe": b"pipeline p {\n  owner\n}\n",
             "squashed.pipe": b"pipeline p { owner a; risk high }\n"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    result = _fmt_cli("--check", *sorted(str(tmp_path / name) for name in files))
    assert result.returncode == 1
    would = sorted(line.rsplit("/", 1)[-1] for line in result.stderr.splitlines()
                   if line.startswith("would reformat"))
    assert would == ["crlf.pipe", "squashed.pipe"]
    assert "broken.pipe:2:" in result.stdout and "P001" in result.stdout
    for name, data in files.items():
        assert (tmp_path / name).read_bytes() == data, name
    # Written, then canonical: a second --check passes but for the broken file.
    assert _fmt_cli(*(str(tmp_path / name) for name in files)).returncode == 1
    assert (tmp_path / "crlf.pipe").read_bytes() == canonical
    assert (tmp_path / "broken.pipe").read_bytes() == files["broken.pipe"]
    again = _fmt_cli("--check", str(tmp_path / "crlf.pipe"), str(tmp_path / "squashed.pipe"))
    assert again.returncode == 0 and again.stderr == ""


def test_aligned_comments_of_entries_written_with_commas_stay_aligned() -> None:
    """An aligned comment keeps its column when its line keeps its code: the `,` after a
    map entry that fmt drops counted as a change of code, so the comments of a map
    written one entry per line lost their alignment. A comment in no column with
    another keeps two spaces (not three) after the entry."""
    text = ("pipeline p {\n  train m {\n    params {\n"
            "      C: 0.5,          # tuned on the 2025 data\n"
            '      solver: "lbfgs", # the default\n'
            "      depth: 3         # of each tree\n"
            "    }\n"
            "    resources {\n      cpu: 2,  # a comment of its own\n      memory: 4\n    }\n"
            "  }\n}\n")
    once = fmt(text)
    assert ("      C: 0.5           # tuned on the 2025 data\n"
            '      solver: "lbfgs"  # the default\n'
            "      depth: 3         # of each tree\n") in once
    assert "      cpu: 2  # a comment of its own\n" in once
    assert fmt(once) == once


def test_a_closing_note_of_a_map_or_list_keeps_the_blank_line_above_it() -> None:
    """As after the last statement of a block: the blank line between the last entry
    of a map or list and the comments after it was dropped, gluing the note to the
    entry."""
    text = ("pipeline p {\n  train m {\n    params {\n      C: 0.5\n\n"
            "      # more to come after the sweep\n    }\n"
            "    features [\n      a,\n      b\n\n      # c waits for its backfill\n    ]\n"
            "  }\n}\n")
    once = fmt(text)
    assert "      C: 0.5\n\n      # more to come after the sweep\n    }\n" in once
    assert "      b\n\n      # c waits for its backfill\n    ]\n" in once
    assert fmt(once) == once


class _CountedBody(tuple):
    """A block body that counts how often a statement is looked up in it."""

    lookups = 0

    def __getitem__(self, key):  # type: ignore[no-untyped-def]  # tuple's overloads
        _CountedBody.lookups += 1
        return super().__getitem__(key)


def test_fmt_of_many_statements_on_one_line_is_not_quadratic() -> None:
    """Grouping the statements of a line (to keep a suppression covering them all)
    scanned the rest of the line for each statement: 10,000 statements on one line took
    6 s. Counted as lookups in the block body, not timed."""
    count = 2_000
    text = "pipeline p { " + "retries 1; " * count + "}\n"
    module = parse_text(text, "x.pipe").module
    assert module is not None
    pipeline = module.items[0]
    assert isinstance(pipeline, n.Block)
    counted = dataclasses.replace(pipeline, body=_CountedBody(pipeline.body))
    _CountedBody.lookups = 0
    once = format_module(dataclasses.replace(module, items=(counted,)), text)
    assert once.count("retries 1\n") == count
    assert _CountedBody.lookups < 10 * count
