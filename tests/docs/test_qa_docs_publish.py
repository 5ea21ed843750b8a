"""QA of `pipec docs` as a team lead publishes it: defects found and fixed, one test each."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from docs.docsite_support import read_tree
from pipec.cli import main

TEAMS = 'team ml {{ contact "#{project}-ml"; role ml }}\n'
PIPELINE = """import "teams.pipe"
pipeline churn {
  owner ml
  on_failure block
  examples from events
  source events {
    owner ml
    from parquet "events.parquet"
    snapshot 2026-01-01
    time at
    schema { at: timestamp, amount: float }
  }
}
"""


def _project(root: Path, name: str) -> Path:
    """A project of its own (a `pyproject.toml` marks its root) with `teams.pipe`
    declaring `ml` and `pipelines/p.pipe` importing it: the same layout in each."""
    project = root / name
    (project / "pipelines").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n", "utf-8")
    (project / "teams.pipe").write_text(TEAMS.format(project=name), "utf-8")
    (project / "pipelines" / "p.pipe").write_text(
        PIPELINE.replace('import "teams.pipe"', 'import "../teams.pipe"'), "utf-8")
    return project / "pipelines" / "p.pipe"


def _two_projects(tmp_path: Path) -> dict:
    files = [str(_project(tmp_path / "src", name)) for name in ("alpha", "beta")]
    assert main(["docs", *files, "-o", str(tmp_path / "site")]) == 0
    return json.loads((tmp_path / "site" / "manifest.json").read_text("utf-8"))


def test_files_of_two_projects_are_named_by_project(tmp_path: Path) -> None:
    """Each project's files were named from its own root: both pipelines showed as
    `pipelines/p.pipe` and both team files as `teams.pipe`."""
    manifest = _two_projects(tmp_path)
    assert [f["path"] for f in manifest["files"]] == ["alpha/pipelines/p.pipe",
                                                      "beta/pipelines/p.pipe"]
    files = {p["file"]: p["teams"]["ml"]["file"] for p in manifest["pipelines"]}
    assert files == {"alpha/pipelines/p.pipe": "alpha/teams.pipe",
                     "beta/pipelines/p.pipe": "beta/teams.pipe"}
    diagnostics = {d["file"] for p in manifest["pipelines"] for d in p["diagnostics"]}
    assert diagnostics == {"alpha/pipelines/p.pipe", "beta/pipelines/p.pipe"}
    index = (tmp_path / "site" / "index.md").read_text("utf-8")
    assert "`alpha/pipelines/p.pipe`" in index and "`beta/teams.pipe`" in index


def test_same_named_teams_of_two_projects_are_two_rows(tmp_path: Path) -> None:
    """`ml` of project alpha and `ml` of project beta were merged into one row listing
    both contacts and every stage of both, with no way to tell whose is whose."""
    manifest = _two_projects(tmp_path)
    rows = manifest["organisation"]["teams"]
    assert [(r["name"], r["declarations"][0]["contact"]) for r in rows] == \
        [("ml", "#alpha-ml"), ("ml", "#beta-ml")]
    slugs = {p["file"]: p["slug"] for p in manifest["pipelines"]}
    for row, project in zip(rows, ("alpha", "beta"), strict=True):
        assert [d["files"] for d in row["declarations"]] == [[f"{project}/teams.pipe"]]
        assert {s["slug"] for s in row["stages"]} == {slugs[f"{project}/pipelines/p.pipe"]}


class _Links(HTMLParser):
    """Element ids, and each pipeline section's team links."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.chips: dict[str, set[str]] = {}
        self.section = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(found["id"] or "")
        if tag == "section" and found.get("class") == "pipeline":
            self.section = found["id"] or ""
        if tag == "a" and found.get("class") == "chip" and self.section:
            self.chips.setdefault(self.section, set()).add(found["href"] or "")


def test_each_pipelines_team_links_to_its_own_projects_row(tmp_path: Path) -> None:
    """In the HTML page the two rows would share the id `team-ml`; each pipeline's
    team chip must lead to the row of its own project, with its contact."""
    manifest = _two_projects(tmp_path)
    html = (tmp_path / "site" / "index.html").read_text("utf-8")
    parser = _Links()
    parser.feed(html)
    assert len(parser.ids) == len(set(parser.ids)), "duplicate ids"
    rows = dict(re.findall(r'<tr id="(team-[^"]+)">.*?<td class="prose">([^<]*)</td>', html,
                           re.DOTALL))
    for pipeline in manifest["pipelines"]:
        (href,) = parser.chips[f"pipeline-{pipeline['slug']}"]
        project = pipeline["file"].split("/", 1)[0]
        assert rows[href.removeprefix("#")] == f"#{project}-ml"


def test_one_project_keeps_plain_names(tmp_path: Path) -> None:
    """Qualifying is for several projects only: one project's names stay as they were."""
    pipe = _project(tmp_path / "src", "alpha")
    assert main(["docs", str(pipe), "-o", str(tmp_path / "site")]) == 0
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text("utf-8"))
    assert [f["path"] for f in manifest["files"]] == ["pipelines/p.pipe"]
    assert manifest["pipelines"][0]["teams"]["ml"]["file"] == "teams.pipe"
    assert 'id="team-ml"' in (tmp_path / "site" / "index.html").read_text("utf-8")


def test_two_checkouts_of_one_folder_name_are_told_apart(tmp_path: Path) -> None:
    """Projects in folders of the same name are qualified by as much of their path as
    tells them apart (`one/repo`, `two/repo`), never by an absolute path."""
    files = [str(_project(tmp_path / "src" / parent, "repo")) for parent in ("one", "two")]
    assert main(["docs", *files, "-o", str(tmp_path / "site")]) == 0
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text("utf-8"))
    assert [f["path"] for f in manifest["files"]] == ["one/repo/pipelines/p.pipe",
                                                      "two/repo/pipelines/p.pipe"]
    for data in read_tree(tmp_path / "site").values():
        assert str(tmp_path) not in data.decode("utf-8")


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _fraud_site(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """The docs site of the fraud example with each (old, new) text replaced once."""
    text = (EXAMPLES / "fraud" / "fraud.pipe").read_text("utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    source = tmp_path / "src" / "fraud.pipe"
    source.parent.mkdir()
    source.write_text(text, "utf-8")
    (tmp_path / "src" / "teams.pipe").write_bytes((EXAMPLES / "fraud" / "teams.pipe").read_bytes())
    assert main(["docs", str(source), "-o", str(tmp_path / "site")]) == 0
    return tmp_path / "site"


def _fraud_with_markers(tmp_path: Path) -> Path:
    """The fraud example with a backfilled feature view and `pii`/`after_event` columns."""
    return _fraud_site(
        tmp_path,
        ("      merchant_id: string\n", "      merchant_id: string\n"
         "      email: string pii\n      settled: float after_event\n"),
        ("    feature amount_mean_30d = mean(amount) over 30d\n",
         "    feature amount_mean_30d = mean(amount) over 30d\n"
         "    backfill 2025-01-01..2025-02-01 validated\n"))


def test_a_backfilled_feature_view_says_so(tmp_path: Path) -> None:
    """`backfill 2025-01-01..2025-02-01 validated` was in manifest.json but on no page:
    the reproducibility contract hid that the view's rows were recomputed."""
    site = _fraud_with_markers(tmp_path)
    page = (site / "fraud_detection.md").read_text("utf-8")
    assert "| yes | 2025-01-01..2025-02-01, validated | txn\\_count\\_7d," in page
    html = (site / "index.html").read_text("utf-8")
    assert "<th>Point in time</th><th>Backfill</th>" in html
    assert "<td>2025-01-01..2025-02-01, validated</td>" in html


def test_pii_and_after_event_columns_are_shown(tmp_path: Path) -> None:
    """Columns marked `pii` or `after_event` were on no page: a reviewer of the data
    snapshots could not see which sources hold personal data."""
    site = _fraud_with_markers(tmp_path)
    page = (site / "fraud_detection.md").read_text("utf-8")
    row = next(line for line in page.splitlines()
               if line.startswith("| [`source.transactions`]") and "| parquet |" in line)
    assert row.endswith("| pii: email; after\\_event: settled |")
    html = (site / "index.html").read_text("utf-8")
    assert "<td>pii: email; after_event: settled</td>" in html


def test_a_gates_heading_is_its_own_block(site: Path) -> None:
    """The `(threshold ...)` heading of an evaluate stage ran straight into its gate
    table (the line end was trimmed after `endif`): renderers that want a blank line
    before a table (Python-Markdown, many wikis) showed the table as text."""
    page = (site / "fraud_detection.md").read_text("utf-8")
    heading = "### [`evaluate.fraud_gbm`](#stage-fraud_detection--evaluate.fraud_gbm)" \
        " (threshold 0.5)\n"
    assert heading + "\n| Gate | Kind | Effect | From |\n" in page


def test_an_index_without_pipelines_says_so(tmp_path: Path) -> None:
    """Documenting only a teams file printed the header of an empty pipelines table."""
    assert main(["docs", str(EXAMPLES / "fraud" / "teams.pipe"), "-o", str(tmp_path)]) == 0
    index = (tmp_path / "index.md").read_text("utf-8")
    assert "| Pipeline | File |" not in index
    assert "## Pipelines\n\nNo pipelines: " in index


def test_the_training_table_shows_features_and_distributed_training(tmp_path: Path) -> None:
    """The train stage's `features [...]` and `distributed {...}` were in manifest.json
    but on no page, and the Markdown feature versions had no Entity column (the HTML
    table had one): a reviewer could not see what the model reads or how it trains."""
    site = _fraud_site(tmp_path, ("    seed 42\n", "    seed 42\n    distributed { workers: 4 }\n"))
    page = (site / "fraud_detection.md").read_text("utf-8")
    assert "| Stage | Model | Task | Features | Parameters | Seed | Resources | Distributed |" \
        in page
    assert "| amount, country, merchant\\_id |" in page.replace(
        "account\\_risk\\_\\_amount\\_mean\\_30d, account\\_risk\\_\\_txn\\_count\\_7d, ", "")
    assert '| `{"workers": 4}` |' in page
    assert "| Source | Entity | Point in time |" in page
    html = (site / "index.html").read_text("utf-8")
    assert "<th>Features</th><th>Parameters</th>" in html
    assert '<code class="wrap">{&#34;workers&#34;: 4}</code>' in html \
        or '<code class="wrap">{&quot;workers&quot;: 4}</code>' in html


def test_a_check_from_a_check_set_says_which_set(tmp_path: Path) -> None:
    """Checks a validate stage takes with `use SET` were listed like its own lines, so
    `unique account_id, decision_at` and the same line `(warn)` stood side by side
    unexplained; gates already said which set each came from."""
    site = _fraud_site(
        tmp_path,
        ("pipeline fraud_detection {", "checks txn_basics {\n"
         "  unique account_id, decision_at warn\n}\n\npipeline fraud_detection {"),
        ("  validate transactions {\n    owner data_platform\n",
         "  validate transactions {\n    owner data_platform\n    use txn_basics\n"))
    page = (site / "fraud_detection.md").read_text("utf-8")
    assert "- `unique account_id, decision_at`\n" in page
    assert "- `unique account_id, decision_at` (warn), from check set `txn_basics`\n" in page
    manifest = json.loads((site / "manifest.json").read_text("utf-8"))
    [stage] = [v for p in manifest["pipelines"] for v in p["validation"]
               if v["stage"] == "validate.transactions"]
    assert [c["from"] for c in stage["checks"]][-2:] == [None, "txn_basics"]
    html = (site / "index.html").read_text("utf-8")
    assert "from check set <code>txn_basics</code>" in html


def test_a_team_description_is_shown(tmp_path: Path) -> None:
    """`team x { ...; description "..." }` parsed and checked, but no page showed it."""
    teams = (EXAMPLES / "fraud" / "teams.pipe").read_text("utf-8")
    first = teams.index("team ")
    end = teams.index("}", first)
    teams = teams[:end] + '; description "Owns the <raw> & settled | data"' + teams[end:]
    (tmp_path / "teams.pipe").write_text(teams, "utf-8")
    assert main(["docs", str(tmp_path / "teams.pipe"), "-o", str(tmp_path / "site")]) == 0
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text("utf-8"))
    described = [d["description"] for t in manifest["organisation"]["teams"]
                 for d in t["declarations"] if d["description"]]
    assert described == ["Owns the <raw> & settled | data"]
    index = (tmp_path / "site" / "index.md").read_text("utf-8")
    assert "| Team | Role | Contact | About | Declared in | Stages |" in index
    assert "| Owns the \\<raw\\> &amp; settled \\| data |" in index
    html = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert "Owns the &lt;raw&gt; &amp; settled | data" in html
