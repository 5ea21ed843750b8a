"""Small helpers shared by the renderers: anchors, team colours, Markdown escaping."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

# Light fills that keep dark text readable; a team keeps its colour across pipelines
# because the index comes from the sorted list of every declared team.
PALETTE = ("#cfe8ff", "#ffe1b3", "#d4f5d0", "#f8d0e6", "#e3d9ff", "#fff3b0",
           "#c9f1ef", "#ffd6cc", "#e0ecc4", "#dde3ea", "#f3d9b1", "#d9f0ff")
UNDECLARED = "#eeeeee"

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")
# `$` too: GitHub reads `$5 to $` of "costs $5 to $10" as maths; `\$` is the literal
# dollar of CommonMark and of the dollar-maths extensions (pandoc's, comrak's).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>|#!~$])")
# What opens a block when a value starts a line (a description is its own paragraph):
# a list item (`- `, `+ `, `1. `, `1) `), a rule or setext underline (`---`, `===`).
# It matches just before the character that needs a backslash.
_BLOCK_MARKER = re.compile(r"^(?:\d{1,9}(?=[.)](?:[ \t\n]|$))|(?=[-+](?:[ \t\n]|$))"
                           r"|(?=[-=][-= \t]*(?:\n|$)))")


def stage_anchor(slug: str, stage_id: str) -> str:
    return f"stage-{_UNSAFE_ID.sub('-', slug)}--{_UNSAFE_ID.sub('-', stage_id)}"


def pipeline_anchor(slug: str) -> str:
    return f"pipeline-{_UNSAFE_ID.sub('-', slug)}"


def team_anchor(team: str) -> str:
    return f"team-{_UNSAFE_ID.sub('-', team)}"


def team_colours(manifest: dict[str, Any]) -> dict[str, str]:
    # A name of several projects (one row each) is one colour: the chips show the name.
    teams = {team["name"] for team in manifest["organisation"]["teams"]}
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(teams))}


def pipeline_labels(manifest: dict[str, Any]) -> dict[str, str]:
    """How the organisation tables name each pipeline, by slug: its name, and its file
    where another documented pipeline has the same name (a `prod/` and a `staging/`
    copy), so a team's two `train.m` rows say which is which."""
    pipelines = manifest["pipelines"]
    shared = Counter(p["name"] for p in pipelines)
    return {p["slug"]: p["name"] if shared[p["name"]] == 1 else f"{p['name']} ({p['file']})"
            for p in pipelines}


# How many names a page title lists before it says "and N more": a browser tab or a
# bookmark shows the first few words only.
TITLE_NAMES = 3


def page_title(manifest: dict[str, Any]) -> str:
    """What the HTML page documents, for its `<title>`: the pipelines by name, or, for a
    site of team files only, the teams. Plain text: the template escapes it."""
    pipelines = list(dict.fromkeys(p["name"] for p in manifest["pipelines"]))
    if pipelines:
        return f"{_listed(pipelines)} \u2013 pipeline documentation"
    teams = list(dict.fromkeys(t["name"] for t in manifest["organisation"]["teams"]))
    if teams:
        return f"Teams {_listed(teams)} \u2013 pipeline documentation"
    return "Pipeline documentation"


def _listed(names: list[str]) -> str:
    if len(names) <= TITLE_NAMES:
        return ", ".join(names)
    return f"{', '.join(names[:TITLE_NAMES])} and {len(names) - TITLE_NAMES} more"


class TeamRows:
    """The anchor of each organisation row, and which row a pipeline's team is. Teams
    of one name from several projects are several rows (`team-ml`, `team-ml--2`: a
    team name has no `-`); a pipeline's team is the row declared in its team's file."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.anchors: list[str] = []
        self._by_file: dict[tuple[str, str], str] = {}
        seen: dict[str, int] = {}
        for row in manifest["organisation"]["teams"]:
            name = row["name"]
            seen[name] = seen.get(name, 0) + 1
            anchor = team_anchor(name) + ("" if seen[name] == 1 else f"--{seen[name]}")
            self.anchors.append(anchor)
            for declaration in row["declarations"]:
                for file in declaration["files"]:
                    self._by_file[name, file] = anchor

    def href(self, pipeline: dict[str, Any], name: str) -> str:
        """The anchor of the row of `name` as `pipeline` sees it."""
        team = pipeline["teams"].get(name)
        key = (name, team["file"] if team else "")
        return self._by_file.get(key, team_anchor(name))


class Raw(str):
    """Markdown that is already escaped; the Markdown environment's finalize keeps it."""

    __slots__ = ()


def md_text(value: Any) -> Raw:
    """Plain text in Markdown (also safe in a table cell): special characters are
    backslash-escaped, `&` and newlines cannot start an entity or end a table row."""
    if isinstance(value, Raw):
        return value
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("\r\n", "\n").replace("\r", "\n")
    text = _block_safe(_MD_SPECIAL.sub(r"\\\1", text))
    return Raw(text.replace("\n", "<br>"))


def _block_safe(text: str) -> str:
    """`text` as inline content even at the start of a line: leading blanks become
    entities (four spaces would start a code block) and a block marker is escaped."""
    body = text.lstrip(" \t")
    lead = "".join("&#9;" if ch == "\t" else "&#32;" for ch in text[: len(text) - len(body)])
    body = _BLOCK_MARKER.sub(lambda m: m.group(0) + "\\", body, count=1)
    return lead + body


def md_code(value: Any, in_table: bool = True) -> Raw:
    """An inline code span that survives any backticks, pipes or newlines inside. In a
    table cell a `|` is escaped (GFM reads `\\|` there as the character); elsewhere a
    backslash in a code span is literal, so it is left alone (`md_inline_code`)."""
    text = "" if value is None else str(value)
    text = " ".join(text.splitlines())
    if in_table:
        text = text.replace("|", "\\|")
    if text == "":
        return Raw("")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Raw(f"{fence}{pad}{text}{pad}{fence}")


def md_inline_code(value: Any) -> Raw:
    """`md_code` outside a table: a list item, a heading, a paragraph."""
    return md_code(value, in_table=False)


def mermaid_label(text: str) -> str:
    """Mermaid's quoted labels take entity codes; `<`, `>` and quotes never pass raw."""
    return "".join(_MERMAID.get(ch, ch) for ch in text)


_MERMAID = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;",
            "\n": " ", "\r": " ", "|": "#124;"}
