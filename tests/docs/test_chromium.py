"""The HTML page in real headless Chromium (Debian's `chromium`; .ci/setup installs it):
no console errors, a screenshot that is not blank, every team and stage in the text.
Skipped, with the reason, when no Chromium is installed."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

from docs.docsite_support import BROWSER, CHROMIUM_FLAGS, NEEDS_CHROMIUM, REPO, build, png_pixels

pytestmark = NEEDS_CHROMIUM
FLAGS = [*CHROMIUM_FLAGS, "--enable-logging=stderr", "--v=0"]


def _chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [str(BROWSER), *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def _console_errors(stderr: str) -> list[str]:
    # Console messages (script errors, failed loads) are logged as `...:CONSOLE...] "..."`.
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def test_console_catches_errors(tmp_path: Path) -> None:
    """The console scan is real: a page with a script error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<p>x</p><script>missingFunction()</script>", "utf-8")
    result = _chromium(tmp_path, bad, "--dump-dom")
    assert _console_errors(result.stderr), result.stderr[-2000:]


def test_page_renders_with_every_name_and_no_errors(site: Path, tmp_path: Path) -> None:
    page = site / "index.html"
    dom = _chromium(tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console_errors(dom.stderr) == []
    parser = _Text()
    parser.feed(dom.stdout)
    text = " ".join(parser.parts)
    manifest = json.loads((site / "manifest.json").read_text("utf-8"))
    names = [team["name"] for team in manifest["organisation"]["teams"]]
    names += [sid for p in manifest["pipelines"] for sid in p["order"]]
    assert len(names) > 20
    assert [name for name in names if name not in text] == []


def test_screenshot_is_not_blank(site: Path, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    result = _chromium(tmp_path, site / "index.html", f"--screenshot={shot}",
                       "--window-size=1400,2000")
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    assert _console_errors(result.stderr) == []
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (1400, 2000)
    distinct_rows = set(rows)
    assert len(distinct_rows) > 50, "the screenshot is (nearly) one colour"


# A storage path as a team writes it in a description: no space or hyphen to break at.
LONG_PATH = ("s3://analytics_bucket/warehouse_prod/fraud_feature_store_snapshot_tables_"
             "partitioned_by_decision_day_and_country_code_v12/transactions_2026_01_01.parquet")
# The test's own probe (the page has no script): the page's width against the window's.
WIDTH_PROBE = ("<script>document.title = 'width ' + document.documentElement.scrollWidth"
               " + ' of ' + document.documentElement.clientWidth;</script></body>")


def test_a_long_path_in_a_description_does_not_widen_the_page(tmp_path: Path) -> None:
    """A pipeline or stage description holding a long storage path made the page wider
    than a 1000-pixel window (1401 pixels): every section scrolled sideways. Free text
    now wraps where it must."""
    source = (REPO / "examples" / "fraud" / "fraud.pipe").read_text("utf-8")
    source = source.replace("  risk high\n", f'  risk high\n  description "Reads {LONG_PATH}"\n')
    source = source.replace("    owner ml_fraud\n    model",
                            f'    owner ml_fraud\n    description "{LONG_PATH}"\n    model')
    project = tmp_path / "fraud"
    project.mkdir()
    (project / "teams.pipe").write_bytes((REPO / "examples" / "fraud" / "teams.pipe").read_bytes())
    (project / "fraud.pipe").write_text(source, "utf-8")
    assert build(tmp_path / "site", str(project / "fraud.pipe")) == 0
    probe = tmp_path / "probe.html"
    html = (tmp_path / "site" / "index.html").read_text("utf-8")
    probe.write_text(html.replace("</body>", WIDTH_PROBE), "utf-8")
    dom = _chromium(tmp_path, probe, "--dump-dom", "--window-size=1000,900")
    match = re.search(r"<title>width (\d+) of (\d+)</title>", dom.stdout)
    assert match, dom.stderr[-2000:]
    assert int(match.group(1)) <= int(match.group(2)), match.group(0)
