"""QA of `pipec docs` as a demanding reader uses the pages: right-to-left text, an
output folder that holds someone else's `manifest.json`, two pipelines of one name, and
a team with no contact. Defects found and fixed, one test each."""

from __future__ import annotations

import json
from pathlib import Path

from pipec.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FSI, PDI = "\u2068", "\u2069"
HEBREW_ALERT = "\u05d4\u05ea\u05e8\u05d0\u05d4 \u05dc\u05e6\u05d5\u05d5\u05ea"  # "alert the team"
HEBREW_CONTACT = "\u05e2\u05e8\u05d5\u05e5 5"  # "channel 5"


def _fraud_in_hebrew(tmp_path: Path) -> Path:
    """The fraud example with a Hebrew contact for `ml_fraud` and a Hebrew alert on the
    train stage, which also retries twice with a timeout."""
    project = tmp_path / "fraud"
    project.mkdir()
    teams = (EXAMPLES / "fraud" / "teams.pipe").read_text("utf-8")
    (project / "teams.pipe").write_text(
        teams.replace('contact "#ml-fraud"', f'contact "{HEBREW_CONTACT}"'), "utf-8")
    source = (EXAMPLES / "fraud" / "fraud.pipe").read_text("utf-8")
    alert = f'    on_failure alert "{HEBREW_ALERT}"\n'
    source = source.replace("    retries 2\n", "    retries 2\n" + alert)
    (project / "fraud.pipe").write_text(source, "utf-8")
    return project / "fraud.pipe"


def test_right_to_left_text_does_not_pull_in_the_words_around_it(tmp_path: Path) -> None:
    """A Hebrew alert message took the page's own `, 2 retries` into its right-to-left
    run: a browser showed `alert "2 ,"<Hebrew> retries, timeout 2h`. Each right-to-left
    value is now a bidi isolate (first strong isolate ... pop directional isolate), in
    the HTML page and in the Markdown; left-to-right values are untouched, and
    manifest.json keeps the exact strings."""
    site = tmp_path / "site"
    assert main(["docs", str(_fraud_in_hebrew(tmp_path)), "-o", str(site)]) == 0
    html = (site / "index.html").read_text("utf-8")
    page = (site / "fraud_detection.md").read_text("utf-8")
    isolated = f'alert "{FSI}{HEBREW_ALERT}{PDI}", 2 retries, timeout 2h'
    assert isolated in html and isolated in page
    assert f"{FSI}{HEBREW_CONTACT}{PDI}" in html and f"{FSI}{HEBREW_CONTACT}{PDI}" in page
    assert f"{FSI}#risk" not in html and "fraud-product@example.com" in html
    manifest = (site / "manifest.json").read_text("utf-8")
    assert FSI not in manifest and HEBREW_ALERT in manifest


def test_each_line_of_a_right_to_left_description_is_isolated() -> None:
    """An isolate ends with its paragraph (a line break): each line is its own, so a
    second line is isolated too, and an English line between stays as written."""
    from pipec.docsite.render import displayed

    text = f"{HEBREW_ALERT}\nplain line\n{HEBREW_CONTACT}"
    assert displayed({"description": text}) == {
        "description": f"{FSI}{HEBREW_ALERT}{PDI}\nplain line\n{FSI}{HEBREW_CONTACT}{PDI}"}


def test_a_users_own_isolates_cannot_unbalance_pipecs() -> None:
    """The user's bidi controls are shown by code point before pipec adds its isolates,
    so a stray pop directional isolate in a value cannot end pipec's early."""
    from pipec.docsite.render import displayed

    assert displayed(f"{HEBREW_ALERT}{PDI}, 9") == f"{FSI}{HEBREW_ALERT}[U+2069], 9{PDI}"


def test_an_unreadable_foreign_manifest_in_the_folder_is_left_alone(tmp_path: Path,
                                                                   capsys) -> None:
    """A `manifest.json` nested too deeply to read (not pipec's) stopped `pipec docs`
    with "internal error: RecursionError" and wrote nothing. It is not a pipec manifest,
    so it names no stale pages: the site is written beside the user's files."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "manifest.json").write_text('{"generator": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (site / "notes.md").write_text("mine\n")
    assert main(["docs", str(EXAMPLES / "fraud" / "fraud.pipe"), "-o", str(site)]) == 0
    assert "internal error" not in capsys.readouterr().err
    assert (site / "notes.md").read_text() == "mine\n"
    assert json.loads((site / "manifest.json").read_text("utf-8"))["generator"]["name"] == "pipec"


def test_a_teams_stages_in_two_pipelines_of_one_name_say_which_is_which(tmp_path: Path) -> None:
    """A `prod/` and a `staging/` copy of one pipeline: the organisation table listed the
    team's stages as `fraud_detection: train.fraud_gbm` twice, links to two pages with
    nothing to tell them apart. A name two pipelines share now comes with its file."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", "utf-8")
    (tmp_path / "teams.pipe").write_bytes((EXAMPLES / "fraud" / "teams.pipe").read_bytes())
    source = (EXAMPLES / "fraud" / "fraud.pipe").read_text("utf-8")
    files = []
    for stage in ("prod", "staging"):
        (tmp_path / stage).mkdir()
        files.append(tmp_path / stage / "fraud.pipe")
        files[-1].write_text(source.replace('"teams.pipe"', '"../teams.pipe"'), "utf-8")
    site = tmp_path / "site"
    assert main(["docs", *map(str, files), "-o", str(site)]) == 0
    index = (site / "index.md").read_text("utf-8")
    html = (site / "index.html").read_text("utf-8")
    for stage, slug in (("prod", "fraud_detection"), ("staging", "fraud_detection-2")):
        anchor = f"{slug}.md#stage-{slug}--train.fraud_gbm"
        assert f"fraud\\_detection ({stage}/fraud.pipe): [`train.fraud_gbm`]({anchor})" in index
        assert (f'<a href="#stage-{slug}--train.fraud_gbm">fraud_detection ({stage}/fraud.pipe): '
                "<code>train.fraud_gbm</code></a>") in html
    # A name of one pipeline stays as it was.
    single = tmp_path / "single"
    assert main(["docs", str(files[0]), "-o", str(single)]) == 0
    assert "fraud\\_detection: [`train.fraud_gbm`]" in (single / "index.md").read_text("utf-8")


def test_a_team_without_contact_or_role_says_so_in_the_markdown_index(tmp_path: Path) -> None:
    """A team declared with neither `contact` nor `role` (the checker accepts it) had two
    empty cells in index.md's organisation table, where the HTML page and every pipeline
    page show a dash: a reader could not tell a missing contact from a broken table."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", "utf-8")
    (tmp_path / "teams.pipe").write_text(
        (EXAMPLES / "fraud" / "teams.pipe").read_text("utf-8").replace(
            'team ml_platform { contact "#ml-platform"; role platform }',
            'team ml_platform { description "the registry" }'), "utf-8")
    (tmp_path / "fraud.pipe").write_bytes((EXAMPLES / "fraud" / "fraud.pipe").read_bytes())
    site = tmp_path / "site"
    assert main(["docs", str(tmp_path / "fraud.pipe"), "-o", str(site)]) == 0
    index = (site / "index.md").read_text("utf-8")
    assert "| `ml_platform` | \u2013 | \u2013 | the registry | `teams.pipe` |" in index
    assert "| `risk` | risk | \\#risk | \u2013 | `teams.pipe` |" in index
