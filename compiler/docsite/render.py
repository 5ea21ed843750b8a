"""Renders the docs manifest into pages: `index.html` (one self-contained page),
`index.md` and one `<pipeline>.md` per pipeline. Reads the manifest only.

Two Jinja environments, both with StrictUndefined: HTML autoescapes every value;
Markdown escapes every value through `finalize`, so a template can only emit raw
Markdown on purpose (values already wrapped in `Raw`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from pipec import spelling
from pipec.docsite import describe
from pipec.docsite.svg import render_svg
from pipec.docsite.text import (
    Raw,
    TeamRows,
    md_code,
    md_inline_code,
    md_text,
    mermaid_label,
    page_title,
    pipeline_anchor,
    pipeline_labels,
    stage_anchor,
    team_anchor,
    team_colours,
)
from pipec.render.text import BIDI_CONTROLS, PICTURES

# Characters a page must not carry as they are: C0 controls other than tab and newline
# (HTML forbids them; they show as their pictures, as in diagnostics), DEL and C1, and
# the bidirectional controls, which reorder what a reader sees ("Trojan Source": a
# contact shown reversed), named by their code point instead.
_SHOWN = PICTURES | {c: f"[U+{c:04X}]" for c in BIDI_CONTROLS}
# Bidi isolates (FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE): pipec's own, added
# after the user's controls were made visible, so they always pair up.
_FSI, _PDI = "\u2068", "\u2069"
# Where a bidi paragraph ends, and an isolate with it (a `\n` is `<br>` in Markdown).
_PARAGRAPHS = re.compile(r"([\n\u2029])")


def displayed(value: Any) -> Any:
    """`value` (a docs manifest, or any part of it) with every string made safe to show,
    and each right-to-left line of it a bidi isolate."""
    if isinstance(value, str):
        return _isolated(value.translate(_SHOWN))
    if isinstance(value, dict):
        return {displayed(k): displayed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [displayed(v) for v in value]
    return value


def _isolated(text: str) -> str:
    """Each line of `text` that holds right-to-left letters, as a bidi isolate: Hebrew or
    Arabic text otherwise pulls the page's own neighbouring words and numbers into its
    run (`alert "<Hebrew>", 2 retries` showed the 2 inside the quotes). Left-to-right
    text, the usual case, stays as it is."""
    if not _right_to_left(text):
        return text
    return "".join(f"{_FSI}{line}{_PDI}" if _right_to_left(line) else line
                   for line in _PARAGRAPHS.split(text))


def _right_to_left(line: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in line)


def render_site(manifest: dict[str, Any]) -> dict[str, str]:
    """Relative file name -> text of every page. The pages show `displayed` strings; the
    published manifest.json keeps them exact."""
    manifest = displayed(manifest)
    context = {"m": manifest, "colours": team_colours(manifest), "teams": TeamRows(manifest),
               "labels": pipeline_labels(manifest), "title": page_title(manifest)}
    pages = {"index.html": _env("html").get_template("index.html.j2").render(context),
             "index.md": _env("md").get_template("index.md.j2").render(context)}
    pipeline_page = _env("md").get_template("pipeline.md.j2")
    for pipeline in manifest["pipelines"]:
        pages[f"{pipeline['slug']}.md"] = pipeline_page.render(context, p=pipeline)
    return {name: _tidy(text) for name, text in pages.items()}


def _tidy(text: str) -> str:
    """One trailing newline, no trailing spaces: stable bytes whatever the template does.

    Splits on `\\n` only and strips only spaces and tabs: `splitlines` and `rstrip` also
    act on characters a user string may hold (U+2028, U+0085, form feed), which would
    end a Markdown table row or a Mermaid label in the middle of a value."""
    lines = text.strip("\n").split("\n")
    return "\n".join(line.rstrip(" \t") for line in lines) + "\n"


@cache
def _env(kind: str) -> jinja2.Environment:
    html = kind == "html"
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pipec.docsite", "templates"),
        autoescape=html, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True,
        finalize=None if html else md_text)
    env.filters.update(duration=spelling.duration, value=spelling.value,
                       share=spelling.share, backfill=describe.backfill,
                       marked=describe.marked_columns, jsonc=_json)
    env.globals.update(stage_anchor=stage_anchor, pipeline_anchor=pipeline_anchor,
                       team_anchor=team_anchor, svg=render_svg, mermaid=mermaid,
                       css=_css, Raw=Raw)
    if not html:
        env.filters.update(code=md_code, icode=md_inline_code, md=md_text)
        env.globals.update(link=md_link, slink=md_stage_link, owners=md_owners, cell=md_cell,
                           mermaid_fits=mermaid_fits, MERMAID_MAX_EDGES=MERMAID_MAX_EDGES,
                           MERMAID_MAX_TEXT=MERMAID_MAX_TEXT)
    return env


def _json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


@cache
def _css() -> str:
    return resources.files("pipec.docsite").joinpath("templates/style.css").read_text("utf-8")


def md_link(text: Any, target: str, code: bool = True) -> Raw:
    """A Markdown link whose label is escaped; targets are built from anchors and slugs,
    which only ever hold `[A-Za-z0-9_.-]`."""
    label = md_code(text) if code else md_text(text)
    return Raw(f"[{label}]({target})")


def md_stage_link(pipeline: dict[str, Any], stage_id: str) -> Raw:
    return md_link(stage_id, "#" + stage_anchor(pipeline["slug"], stage_id))


def md_owners(pipeline: dict[str, Any], node: dict[str, Any]) -> Raw:
    names = [md_code(o) + ("" if o in pipeline["teams"] else " (undeclared)")
             for o in node["owners"]]
    return Raw(", ".join(names) or "no owner")


def md_cell(value: Any) -> Raw:
    """A table cell or list value; a dash when there is nothing to show."""
    return md_text(value) if value not in (None, "") else Raw("\u2013")


def mermaid(pipeline: dict[str, Any], colours: dict[str, str]) -> Raw:
    """The DAG as a Mermaid flowchart, with `pipec graph --format mermaid`'s node ids."""
    lines = ["flowchart TD"]
    for sid in pipeline["order"]:
        owners = _mermaid_owners(pipeline["nodes"][sid]["owners"])
        lines.append(f'  {_mermaid_id(sid)}["{mermaid_label(sid)}<br/>{owners}"]')
    for edge in pipeline["edges"]:
        lines.append(f"  {_mermaid_id(edge['source'])} -->|{mermaid_label(edge['artifact'])}| "
                     f"{_mermaid_id(edge['target'])}")
    lines.extend(_mermaid_classes(pipeline, colours))
    return Raw("\n".join(lines))


# Mermaid's defaults (`maxEdges`, `maxTextSize`), which GitHub and most Markdown viewers
# keep: past either, the reader sees "Too many edges" or "Maximum text size in diagram
# exceeded" instead of a diagram.
MERMAID_MAX_EDGES = 500
MERMAID_MAX_TEXT = 50_000


def mermaid_fits(pipeline: dict[str, Any], chart: str) -> bool:
    """Whether a viewer with Mermaid's default limits draws `chart`."""
    return len(pipeline["edges"]) <= MERMAID_MAX_EDGES and len(chart) <= MERMAID_MAX_TEXT


def _mermaid_owners(owners: list[str]) -> str:
    """Every owner of the node, as `pipec graph` lists them: an evaluate stage's
    co-owners share its gates, so naming only the first would hide who signs off."""
    if not owners:
        return "no owner"
    label = "owners" if len(owners) > 1 else "owner"
    return f"{label}: {mermaid_label(', '.join(owners))}"


def _mermaid_classes(pipeline: dict[str, Any], colours: dict[str, str]) -> list[str]:
    lines = []
    owned: dict[str, list[str]] = {}
    for sid in pipeline["order"]:
        owner = pipeline["nodes"][sid]["owner"]
        if owner in colours and owner in pipeline["teams"]:
            owned.setdefault(owner, []).append(_mermaid_id(sid))
    for index, team in enumerate(sorted(owned)):
        lines.append(f"  classDef team{index} fill:{colours[team]},stroke:#555,color:#111")
        lines.append(f"  class {','.join(owned[team])} team{index}")
    return lines


def _mermaid_id(stage_id: str) -> str:
    # The same ids as pipec.graph_export: dots become `__`; anything else unsafe, `_`.
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_"
                   for ch in stage_id.replace(".", "__"))
