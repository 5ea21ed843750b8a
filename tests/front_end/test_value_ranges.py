"""Numbers the grammar accepts but no run could use are P001 at the value."""

from __future__ import annotations

import pytest
from pipec import compile


def _p001(text: str) -> list[str]:
    program = compile(text)
    return [f"{d.span.line}:{d.span.col} {d.message}" for d in program.diagnostics
            if d.code == "P001"]


@pytest.mark.parametrize("body, found", [
    ("retries -1", "2:11 retries cannot be negative"),
    ("retries 3000000000", "2:11 retries are at most 2,147,483,647"),
    ("register m { rollback 0 }", "2:25 registry versions count from 1"),
    ("register m { rollback \"v3\" }", "2:25 a rollback version is a registry version"),
    # A branch or tag moves; a quoted "auto" was read as `auto` by the runtime.
    ("code_commit \"main\"", "2:15 \"main\" is not a commit id (7 to 64 hex digits)"),
    ("code_commit \"auto\"", "2:15 `\"auto\"` in quotes names a commit called auto"),
    ("timeout 0s", "2:11 a timeout of no time"),
    ("split by random {\n    test 120%\n    seed 1\n  }", "3:10 the test share is above 0 up"),
    ("split by random {\n    test 0%\n    seed 1\n  }", "3:10 the test share is above 0"),
    ("split by random {\n    test 20%\n    seed -5\n  }", "4:10 a seed is a whole number"),
    ("split by random {\n    test 60%\n    valid 50%\n    seed 1\n  }",
     "4:11 test `60%` and valid `50%` leave no rows to train on"),
    ("evaluate m {\n    threshold 1.5\n  }", "3:15 a probability threshold is from 0 up to 1"),
    ("deploy m {\n    canary 0% for 1h\n  }", "3:12 a canary share is above 0"),
    ("deploy m {\n    canary 5% for 0m\n  }", "3:19 a canary of no time watches nothing"),
    ("validate s {\n    freshness at within 0d\n  }", "3:25 freshness within no time"),
    ("source s {\n    freshness 0s\n  }", "3:15 a source's freshness is how often"),
    ("validate s {\n    completeness x >= 150%\n  }", "3:23 a completeness share is from 0"),
    ("features f {\n    feature n = count() over 0s\n  }", "3:30 a window of no time"),
    ("label l {\n    window 0d\n  }", "3:12 a label window of no time"),
    ("validate s {\n    drift mean(x) within 0.5x of baseline\n  }", "3:26 a drift factor"),
    ("train m {\n    resources { cpu: 2, memory: 16 }\n  }", "3:33 `memory: 16` is 16 bytes"),
    ("train m {\n    resources { \"ephemeral-storage\": 0.5 }\n  }",
     "3:38 `ephemeral-storage: 0.5` is 0.5 bytes"),
    ("validate s {\n    range x in 5..1\n  }", "3:16 the range `5..1` ends (1) before it"),
    ("validate s {\n    range x in 2.5..-1\n  }", "3:16 the range `2.5..-1` ends (-1)"),
    ("validate s {\n    range at in 2026-01-02..2026-01-01T12:00:00Z\n  }",
     "3:17 the range `2026-01-02..2026-01-01T12:00:00Z` ends"),
    ("source s {\n    schema { p: float in 1..0 }\n  }", "3:26 the range `1..0` ends (0)"),
    ("features f version -3 {\n    entity e\n  }", "2:22 a feature view's version is a whole"),
    ("evaluate m {\n    slice c min -5: roc_auc >= 0.8\n  }", "3:17 a slice's `min` is a number"),
])
def test_out_of_range_values_are_p001_at_the_value(body: str, found: str) -> None:
    messages = _p001(f"pipeline p {{\n  {body}\n}}\n")
    assert any(m.startswith(found) for m in messages), messages


@pytest.mark.parametrize("body", [
    "retries 0", "timeout 1s", "register m { rollback 1 }", "code_commit \"0123abc\"",
    "code_commit auto",
    "split by random {\n    test 20%\n    valid 0.1\n    seed 0\n  }",
    "evaluate m {\n    threshold 0\n  }", "evaluate m {\n    threshold 100%\n  }",
    "deploy m {\n    canary 100% for 1h\n  }", "validate s {\n    completeness x >= 0%\n  }",
    "split by random {\n    test 0.2\n    seed 4294967295\n  }",
    "features f {\n    entity e\n    feature n = count() over 1s\n  }",
    "label l {\n    window 1d\n  }",
    "validate s {\n    drift mean(x) within 1x of baseline\n  }",
    "train m {\n    resources { cpu: 2, memory: 16GiB }\n  }",
    'train m {\n    resources { memory: "16Gi", gpu: 1 }\n  }',
    "validate s {\n    range x in 3..3\n    range y in -1..2.5\n  }",
    "validate s {\n    range at in 2026-01-01..2026-01-01T00:00:00Z\n  }",
    "source s {\n    schema { p: float in 0..1, d: date in 2020-01-01..2030-01-01 }\n  }",
    "features f version 0 {\n    entity e\n  }",
    "evaluate m {\n    slice c min 0: roc_auc >= 0.8\n  }",
])
def test_values_in_range_are_not(body: str) -> None:
    assert _p001(f"pipeline p {{\n  {body}\n}}\n") == []
