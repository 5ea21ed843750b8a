"""QA of `pipec docs` and `pipec graph` as a demanding user runs them: defects found and
fixed, one test each."""

from __future__ import annotations

from pathlib import Path

import pytest
from docs.docsite_support import build, read_tree
from pipec.cli import main
from pipec.spelling import check_line as check

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CO_OWNED = 'evaluate__fraud_gbm["evaluate.fraud_gbm<br/>owners: ml_fraud, fraud_product, risk"]'


def _mermaid_of(page: str) -> str:
    return page.split("```mermaid\n", 1)[1].split("```", 1)[0]


def test_docs_mermaid_names_every_owner_of_a_co_owned_stage(tmp_path: Path) -> None:
    """The Markdown DAG showed only the first of an evaluate stage's `owners`, while
    `pipec graph` and the ownership table name all three."""
    assert main(["docs", str(EXAMPLES / "fraud" / "fraud.pipe"), "-o", str(tmp_path)]) == 0
    assert CO_OWNED in _mermaid_of((tmp_path / "fraud_detection.md").read_text("utf-8"))


def test_graph_draws_the_same_owner_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", str(EXAMPLES / "fraud" / "fraud.pipe")]) == 0
    assert CO_OWNED in capsys.readouterr().out


def test_one_gate_line_is_singular_in_markdown_as_in_html(tmp_path: Path) -> None:
    """The Markdown page said "1 gate lines" where the HTML page says "1 gate line"."""
    assert build(tmp_path / "site", "tests/docs/fixtures/hostile.pipe") == 0
    page = (tmp_path / "site" / "hostile_demo.md").read_text("utf-8")
    assert "1 gate line (see Gates)" in page and "1 gate lines" not in page


def test_a_one_column_schema_is_singular() -> None:
    assert check({"kind": "schema", "columns": [{"name": "id"}]}) == "schema: 1 typed column"
    assert check({"kind": "schema", "columns": [{}, {}]}) == "schema: 2 typed columns"


def test_a_team_without_stages_says_so_in_markdown_as_in_html(tmp_path: Path) -> None:
    """The Markdown organisation table left the Stages cell empty (HTML: "no stages")."""
    teams = tmp_path / "src" / "teams.pipe"
    teams.parent.mkdir()
    teams.write_text('team idle { contact "#idle"; role ml }\n', "utf-8")
    assert main(["docs", str(teams), "-o", str(tmp_path / "site")]) == 0
    index = (tmp_path / "site" / "index.md").read_text("utf-8")
    assert "teams.pipe` | no stages |" in index


def _same_name_projects(root: Path) -> list[str]:
    """Two projects, each with its own `pipeline churn` in `p.pipe`: both files are
    published as `p.pipe`. They differ in one seed."""
    source = (EXAMPLES / "fraud" / "fraud.pipe").read_text("utf-8")
    source = source.replace("pipeline fraud_detection", "pipeline churn")
    files = []
    for name, seed in (("one", "42"), ("two", "7")):
        project = root / name
        project.mkdir()
        (project / "pyproject.toml").write_text("[project]\nname = 'x'\n", "utf-8")
        (project / "teams.pipe").write_bytes((EXAMPLES / "fraud" / "teams.pipe").read_bytes())
        (project / "p.pipe").write_text(source.replace("seed 42", f"seed {seed}"), "utf-8")
        files.append(str(project / "p.pipe"))
    return files


def test_pages_do_not_depend_on_the_order_of_the_arguments(tmp_path: Path) -> None:
    """Two pipelines of one name in files published under one name (`p.pipe` of two
    projects) got `churn.md` and `churn-2.md` in the order they were named: swapping
    the arguments swapped the pages."""
    files = _same_name_projects(tmp_path)
    assert main(["docs", *files, "-o", str(tmp_path / "first")]) == 0
    assert main(["docs", *reversed(files), "-o", str(tmp_path / "second")]) == 0
    assert read_tree(tmp_path / "first") == read_tree(tmp_path / "second")


def _wide_pipeline(views: int) -> str:
    """A pipeline whose DAG has more edges than Mermaid draws by default (500)."""
    lines = ["team a { contact \"#a\"; role ml }", "pipeline wide {", "  owner a",
             "  on_failure block", "  predicts future", "  retrain manual",
             '  image "r.example/x@sha256:' + "4b1c" * 16 + '"', "  examples from base",
             "  source base {", '    from csv "b.csv"', "    snapshot 2026-01-01",
             "    entity id", "    time t", "    schema { id: string; t: timestamp; y: bool }",
             "  }", "  validate base { require id }", "  label y { column y }"]
    for i in range(views):
        lines += [f"  source s{i} {{", f'    from csv "s{i}.csv"', "    snapshot 2026-01-01",
                  "    entity id", "    time t",
                  "    schema { id: string; t: timestamp; v: float }", "  }",
                  f"  validate s{i} {{ require id }}",
                  f"  features f{i} version 1 {{", f"    from s{i}", "    entity id",
                  "    time t", "    point_in_time", f"    feature m{i} = mean(v) over 7d",
                  "  }"]
    lines += ["  split by time on t { train before 2025-10-01; gap 1d; test from 2025-10-02 }",
              '  train m { model "sklearn.linear_model.LogisticRegression"; seed 1 }',
              "  evaluate m { primary roc_auc >= 0.7; calibration ece <= 0.1 }", "}"]
    return "\n".join(lines) + "\n"


def test_a_dag_too_big_for_mermaid_points_at_the_html_drawing(tmp_path: Path) -> None:
    """Past Mermaid's default limits (500 edges, 50,000 characters) a viewer such as
    GitHub shows an error box where the DAG should be: the page says so instead."""
    pipe = tmp_path / "src" / "wide.pipe"
    pipe.parent.mkdir()
    pipe.write_text(_wide_pipeline(170), "utf-8")
    assert main(["docs", str(pipe), "-o", str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "wide.md").read_text("utf-8")
    assert "```mermaid" not in page
    assert "more than Mermaid draws with its default limits" in page
    assert "(index.html#pipeline-wide)" in page
    assert 'id="pipeline-wide"' in (tmp_path / "site" / "index.html").read_text("utf-8")


def test_a_small_dag_keeps_its_mermaid_block(tmp_path: Path) -> None:
    pipe = tmp_path / "src" / "narrow.pipe"
    pipe.parent.mkdir()
    pipe.write_text(_wide_pipeline(2).replace("pipeline wide", "pipeline narrow"), "utf-8")
    assert main(["docs", str(pipe), "-o", str(tmp_path / "site")]) == 0
    assert "```mermaid\nflowchart TD\n" in (tmp_path / "site" / "narrow.md").read_text("utf-8")


def test_line_breaks_in_free_text_are_kept_in_html(tmp_path: Path) -> None:
    """A description written with `\\n` escapes kept its lines in Markdown (`<br>`) but
    ran together in HTML, which collapses a newline into a space."""
    source = (EXAMPLES / "fraud" / "fraud.pipe").read_text("utf-8")
    source = source.replace("  risk high\n",
                            '  risk high\n  description "first line\\nsecond line"\n', 1)
    project = tmp_path / "src"
    project.mkdir()
    (project / "teams.pipe").write_bytes((EXAMPLES / "fraud" / "teams.pipe").read_bytes())
    (project / "fraud.pipe").write_text(source, "utf-8")
    assert main(["docs", str(project / "fraud.pipe"), "-o", str(tmp_path / "site")]) == 0
    html = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert '<p class="lead prose">first line\nsecond line</p>' in html
    assert ".prose { white-space: pre-line; }" in html
