"""QA of the HTML page's tables in headless Chromium: a wide column (a team's long
description) squeezed the others until their headers and team chips broke mid-word
("Ro|le", "ml_f|ligh|ts"); and the fix must not make the page wider than the window.
Skipped, with the reason, when no Chromium is installed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from docs.docsite_support import BROWSER, CHROMIUM_FLAGS, NEEDS_CHROMIUM, REPO, build

pytestmark = NEEDS_CHROMIUM
FLAGS = CHROMIUM_FLAGS

ABOUT = ("The platform team runs the shared warehouse, the feature store and the nightly "
         "snapshot jobs that every pipeline reads. ") * 4
LONG_TEAM = "data_platform_with_an_exceptionally_long_team_name_for_the_shared_warehouse"
# The test's own probe (the page has no script). Each word of a header or a chip is
# one range; a word broken across lines has boxes on more than one line. The page's
# width is measured against the window's.
PROBE = """<script>
var broken = [];
document.querySelectorAll("th, .chip").forEach(function (el) {
  var walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (var node = walker.nextNode(); node; node = walker.nextNode()) {
    var word = /\\S+/g, m;
    while ((m = word.exec(node.data))) {
      var range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      var lines = new Set(Array.from(range.getClientRects(), function (r) {
        return Math.round(r.top); }));
      if (lines.size > 1) broken.push(m[0]);
    }
  }
});
document.title = "width " + document.documentElement.scrollWidth + " of "
  + document.documentElement.clientWidth + " broken [" + broken.join(" ") + "]";
</script></body>"""


def _probe(tmp_path: Path, site: Path, window: str) -> tuple[int, int, list[str]]:
    """The page's width, the window's, and the header and chip words broken in two."""
    page = tmp_path / f"probe-{window}.html"
    html = (site / "index.html").read_text("utf-8")
    page.write_text(html.replace("</body>", PROBE), "utf-8")
    command = [str(BROWSER), *FLAGS, f"--user-data-dir={tmp_path / ('profile-' + window)}",
               "--dump-dom", f"--window-size={window}", page.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    match = re.search(r"<title>width (\d+) of (\d+) broken \[([^\]]*)\]</title>", dom.stdout)
    assert match, dom.stderr[-2000:]
    return int(match.group(1)), int(match.group(2)), match.group(3).split()


def _flights_site(tmp_path: Path, team: str = "data_platform") -> Path:
    """The flights example with a long description of `data_platform`, named `team`."""
    project = tmp_path / "flights"
    project.mkdir()
    teams = (REPO / "examples" / "flights" / "teams.pipe").read_text("utf-8")
    declared = 'team data_platform { contact "#data-platform"; role data }'
    assert declared in teams
    teams = teams.replace(declared, declared.replace(" }", f'; description "{ABOUT}" }}'))
    source = (REPO / "examples" / "flights" / "flights.pipe").read_text("utf-8")
    (project / "teams.pipe").write_text(teams.replace("data_platform", team), "utf-8")
    (project / "flights.pipe").write_text(source.replace("data_platform", team), "utf-8")
    assert build(tmp_path / "site", str(project / "flights.pipe")) == 0
    return tmp_path / "site"


def test_headers_and_chips_keep_their_words_beside_a_wide_column(tmp_path: Path) -> None:
    """In a 1000-pixel window 25 header and chip words broke (`Role`, `Contact`, every
    team chip of the organisation table, `Freshness`, `Seed`...)."""
    width, window, broken = _probe(tmp_path, _flights_site(tmp_path), "1000,900")
    assert broken == []
    assert width <= window


def test_a_narrow_window_or_a_long_team_name_does_not_widen_the_page(tmp_path: Path) -> None:
    """Whole header words need more room than a phone's window: a table that does not
    fit scrolls on its own, and a team name longer than a chip's room wraps inside it,
    rather than the whole page scrolling sideways."""
    width, window, broken = _probe(tmp_path, _flights_site(tmp_path, LONG_TEAM), "600,900")
    assert width <= window
    assert set(broken) == {LONG_TEAM}
