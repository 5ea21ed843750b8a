"""Rule semantics beyond the fixtures: symbolic snapshot dates, DAG order, partial
programs, the build-phase functions and many files in one process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pipec.check import compile
from pipec.cli import main
from pipec.loader import Loader
from pipec.nodes import Span
from pipec.rules.budget001_target_size import budget001
from pipec.rules.repro005_dirty_tree import repro005
from pipec.rules.retrain004_schedule_freshness import smallest_interval

from .conftest import FIXTURES, REPO


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def by_code(text: str, code: str):
    return [d for d in compile(text).diagnostics if d.code == code]


def test_reference_program_is_clean() -> None:
    program = compile(REPO / "examples" / "fraud" / "fraud.pipe")
    assert program.diagnostics == []


def test_leak002_relative_to_snapshot_latest() -> None:
    text = fixture("LEAK002.ok.pipe").replace("snapshot 2026-06-01", "snapshot latest")
    text = text.replace("train before 2026-03-01", "train before snapshot - 100d")
    text = text.replace("test from 2026-03-31", "test from snapshot - 80d")
    (found,) = by_code(text, "LEAK002")
    assert found.message == (
        "train ends snapshot - 100d and labels mature after 30d, so the last training labels "
        "are seen on snapshot - 70d, after the test start snapshot - 80d: move `test from` to "
        "snapshot - 70d or later")


def test_leak002_mixed_frames_fire_only_when_the_train_end_moves() -> None:
    """Under `snapshot latest`, a relative `train before` beside a fixed `test from`
    overlaps for every snapshot after 2026-05-29 (every run on newer data); the reverse
    mix only for an early snapshot, which `pipec run` checks again on the resolved date."""
    text = fixture("LEAK002.pipe").replace("snapshot 2026-06-01", "snapshot latest")
    text = text.replace("gap 20d", "gap 30d")
    moving = text.replace("train before 2026-03-01", "train before snapshot - 100d")
    (found,) = by_code(moving, "LEAK002")
    assert "for every snapshot after 2026-05-29" in found.message
    fixed_train = text.replace("test from 2026-03-20", "test from snapshot - 70d")
    assert by_code(fixed_train, "LEAK002") == []


def test_leak002_resolves_snapshot_relative_dates_with_a_fixed_snapshot() -> None:
    text = fixture("LEAK002.ok.pipe").replace("test from 2026-03-31", "test from snapshot - 80d")
    (found,) = by_code(text, "LEAK002")
    assert "after the test start 2026-03-13" in found.message


def test_leak007_warns_about_a_late_until() -> None:
    text = fixture("LEAK007.ok.pipe").replace("until 2026-05-02", "until 2026-05-20")
    (found,) = by_code(text, "LEAK007")
    assert found.severity.value == "warning"
    assert "33 of its 50 days are usable" in found.message


def test_leak007_symbolic_error() -> None:
    text = fixture("LEAK007.pipe").replace("snapshot 2026-06-01", "snapshot latest")
    text = text.replace("train before 2026-04-01", "train before snapshot - 60d")
    text = text.replace("test from 2026-05-10", "test from snapshot - 20d")
    (found,) = by_code(text, "LEAK007")
    assert "only examples before snapshot - 29d have a label" in found.message


def test_order_rules_use_the_graph_not_the_statement_order() -> None:
    text = fixture("GATE003.ok.pipe")
    # Register and deploy written before train and evaluate: still upstream in the DAG.
    head, rest = text.split("\n  train m {", 1)
    train_eval, tail = rest.split("\n  register m {", 1)
    reg_dep = "\n  register m {" + tail.rsplit("}", 1)[0]
    reordered = head + reg_dep + "\n  train m {" + train_eval + "}\n"
    assert compile(reordered).diagnostics == []


PARTIAL = [
    "pipeline p {\n  train m {\n    features [x.y, z]\n  }\n  evaluate m {}\n}\n",
    "pipeline p {\n  split by time {\n    gap 3d\n  }\n  label l {\n    window 3d\n  }\n}\n",
    "pipeline p {\n  features f {\n    entity e\n    backfill 2026-01-01..2026-02-01\n  }\n}\n",
    "pipeline p {\n  retrain scheduled \"not a cron\"\n  source s {\n    freshness 1d\n  }\n}\n",
    "pipeline p {\n  register m {}\n  deploy m {}\n  deploy n {}\n  retrain continuous\n}\n",
    "pipeline p {\n  examples from nothing\n  label l { from nowhere; window 1d }\n"
    "  split by time on at { train before snapshot - 3d; test from 2026-01-01 until snapshot }"
    "\n}\n",
    "team t { role risk }\n",
    'import "nope.pipe"\npipeline p {\n  owner ghost\n  risk high\n'
    "  evaluate m { approval by ghost }\n}\n",
]


@pytest.mark.parametrize("text", PARTIAL)
def test_partial_programs_never_raise(text: str) -> None:
    compile(text)  # diagnostics, never an exception


def test_partial_program_still_gets_leakage_checks() -> None:
    text = fixture("LEAK004.pipe").replace("  owner ml\n", "  owner ghost\n", 1)
    text = text.replace("  validate events {", "  validate missing {")
    codes = {d.code for d in compile(text).diagnostics}
    assert {"OWN002", "T001", "LEAK004"} <= codes


def test_smallest_cron_interval() -> None:
    assert smallest_interval("0 3 * * *") == 86_400
    assert smallest_interval("*/15 9-17 * * 1-5") == 900
    assert smallest_interval("0 0,12 * * *") == 43_200
    assert smallest_interval("not cron") is None


def test_budget001() -> None:
    span = Span("p.pipe", 3, 1, 3, 10)
    found = budget001(span, "argo", 1_234_567, 1_000_000)
    assert (found.code, found.severity.value, found.span) == ("BUDGET001", "error", span)
    assert "1,234,567 bytes serialized, over the limit of 1,000,000" in found.message
    assert "argo_max_bytes" in (found.help or "")
    assert "5,001 tasks" in budget001(span, "airflow", 5_001, 5_000).message


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   cwd=cwd, check=True, capture_output=True)


def test_repro005(tmp_path: Path) -> None:
    text = "pipeline p {\n  code_commit auto\n}\n"
    program = compile(text)
    (found,) = repro005(program, tmp_path)
    assert found.code == "REPRO005" and "not a git checkout" in found.message
    assert found.span.line == 2
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.pipe").write_text(text)
    assert "1 uncommitted change" in repro005(program, tmp_path)[0].message
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "x")
    assert repro005(program, tmp_path) == []
    assert repro005(compile('pipeline p {\n  code_commit "abc1234"\n}\n'), tmp_path / "x") == []


def test_repro005_ignores_what_pipec_writes(tmp_path: Path) -> None:
    """A second `pipec run` warned about the first one's run store and registry, and a
    second build about the first one's output folder: none of them is code."""
    text = ('pipeline p {\n  code_commit auto\n  register m { registry local "models/" }\n'
            '  register n { }\n}\n')
    program = compile(text)
    project = tmp_path / "project"
    project.mkdir()
    _git(tmp_path, "init", "-q")
    (project / "a.pipe").write_text(text)
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "x")
    for written in (".pipec/index.sqlite", "models/m/1/model.skops", "registry/n/v.json",
                    "build/argo/p.yaml", "sub/.pipec/index.sqlite"):
        (project / written).parent.mkdir(parents=True, exist_ok=True)
        (project / written).write_text("x")
    assert repro005(program, project, [project / "build" / "argo"]) == []
    # Code is still code, wherever it is in the checkout.
    (tmp_path / "features.py").write_text("x = 1\n")
    (project / "a.pipe").write_text(text + "# edited\n")
    (found,) = repro005(program, project, [project / "build" / "argo"])
    assert "2 uncommitted changes" in found.message


def test_many_files_share_one_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "teams.pipe").write_text('team ml { contact "#ml"; role ml }\n')
    for name in ("a", "b", "c"):
        body = fixture("GATE005.ok.pipe").replace('team ml { contact "#ml"; role ml }',
                                                   'import "teams.pipe"')
        (tmp_path / f"{name}.pipe").write_text(body)
    parsed: list[Path] = []
    original = Loader._read

    def counting(self: Loader, path: Path, display: str):
        parsed.append(path)
        return original(self, path, display)

    monkeypatch.setattr(Loader, "_read", counting)
    assert main(["check", str(tmp_path)]) == 0
    assert sorted(p.name for p in parsed) == ["a.pipe", "b.pipe", "c.pipe", "teams.pipe"]
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("path", ["sklearn.linear_model.LogisticRegression",
                                  "sklearnx.Model", "xgboost.XGBClassifier", "Model",
                                  "lab.models.Net"])
def test_sec002_agrees_with_the_runtime(path: str) -> None:
    """`check` refuses exactly the models the train stage would (modeling.estimator_class)."""
    from pipec.rules.sec002_model_module import module_allowed
    from pipec.stdlib.runtime.modeling import ModelLoadError, estimator_class

    allowed = ("sklearn", "lab.models")
    try:
        estimator_class(path, allowed)
        refused = False
    except ModelLoadError as exc:
        refused = "not from an allowed module" in str(exc)
    assert module_allowed(path, allowed) is not refused


def test_sec002_reads_the_projects_allowed_modules(tmp_path: Path) -> None:
    from pipec.config import options_for

    program = tmp_path / "p.pipe"
    program.write_text(fixture("SEC002.pipe"))
    assert "SEC002" in [d.code for d in compile(program, options=options_for(program)).diagnostics]
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pipec]\nallowed_model_modules = ["sklearn", "xgboost"]\n')
    assert "SEC002" not in [d.code for d in compile(program,
                                                    options=options_for(program)).diagnostics]
