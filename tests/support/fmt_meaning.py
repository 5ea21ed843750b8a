"""What the fmt tests share: formatting a text, a small pipeline with a train stage of
chosen lines, and the check that fmt changed neither the program nor its report."""

from __future__ import annotations

import re

from conftest import REPO
from pipec.check import compile
from pipec.diagnostics import Diagnostic
from pipec.fmt import format_module
from pipec.loader import Loader
from pipec.parser import parse_text
from support.programs import SMALL_PIPELINE, edited

TRAIN = '  train m { model "sklearn.linear_model.LogisticRegression"; seed 1 }\n'
URL = '"postgresql://bob:hunter2@db/x"'  # a credential in a string: SEC001
SUPPRESS = "# pipec: ignore[SEC001] a throwaway test database"


def fmt(text: str) -> str:
    parsed = parse_text(text, "x.pipe")
    assert parsed.module is not None, parsed.diagnostics
    return format_module(parsed.module, text)


def check(text: str) -> list[Diagnostic]:
    loader = Loader()
    path = REPO / "x.pipe"
    loader.load_source(text, path.name, path)
    return compile(path, loader=loader).diagnostics


def train(body: str) -> str:
    """The small pipeline with a train stage of these statement lines."""
    return edited(SMALL_PIPELINE, (TRAIN, '  train m {\n    model '
                                          '"sklearn.linear_model.LogisticRegression"\n'
                                          f'{body}  }}\n'))


def train_of(formatted: str) -> str:
    return formatted[formatted.index("  train m {\n"):formatted.index("  evaluate m")]


def report(text: str) -> list[tuple[str, str, str]]:
    """What `pipec check` reports, line numbers aside."""
    def message(d: Diagnostic) -> str:
        return re.sub(r"\d+", "N", re.sub(r"\blines? \d+(-\d+)?", "line N", d.message))
    return sorted((d.code, str(d.severity), message(d)) for d in check(text))


def assert_fmt_keeps_meaning(text: str) -> str:
    """fmt(text), after checking it is stable, parses to the same program with the same
    comments, and `pipec check` reports the same (line numbers aside)."""
    formatted = fmt(text)
    assert fmt(formatted) == formatted
    before, after = parse_text(text, "x.pipe").module, parse_text(formatted, "x.pipe").module
    assert before is not None and after is not None
    assert after.items == before.items
    assert [c.text.rstrip() for c in after.comments] == [
        c.text.rstrip() for c in before.comments]
    assert report(formatted) == report(text), formatted
    return formatted
