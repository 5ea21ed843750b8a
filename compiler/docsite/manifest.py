"""The docs manifest (`manifest.json`, docs/manifest.schema.json): the one input of
every page. Pages are rendered from this data only, so a manifest read back from disk
renders the same bytes as the one built in memory."""

from __future__ import annotations

import json
from typing import Any

from pipec import __version__
from pipec.docsite.collect import pipeline_entry, team_entries
from pipec.docsite.names import FileNames
from pipec.manifest import build_manifest
from pipec.model import Program

SCHEMA_VERSION = 1


def build_docs_manifest(programs: list[Program]) -> dict[str, Any]:
    """Everything `pipec docs` shows, for one or more checked files."""
    names = FileNames.of(p.display for p in programs)
    # Each pipeline's lineage manifest, built once: it orders the pages and fills them.
    lineages = [(p, build_manifest(p)) for p in programs if p.pipeline is not None]
    lineages.sort(key=lambda entry: _page_order(*entry, names))
    slugs = _slugs([p.name for p, _lineage in lineages])
    documented = [(p, pipeline_entry(p, lineage, slug, names))
                  for (p, lineage), slug in zip(lineages, slugs, strict=True)]
    pipelines = [entry for _program, entry in documented]
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "pipec", "version": __version__},
        "files": sorted(({"path": names(p.display),
                          "pipeline": p.name if p.pipeline is not None else None}
                         for p in programs), key=lambda f: (f["path"], f["pipeline"] or "")),
        "pipelines": pipelines,
        "organisation": organisation(programs, documented, names),
    }
    # The canonical JSON form: what a reader of the file on disk gets, key for key.
    return json.loads(dump(manifest))


def _page_order(program: Program, lineage: dict[str, Any],
                names: FileNames) -> tuple[str, str, str]:
    """Pages are ordered and numbered by pipeline name, then file; two files published
    under one name are told apart by content, so the site does not depend on the order
    the files were named in."""
    return (program.name, names(program.display), lineage["dag_hash"])


def dump(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# Page names the site itself uses: a pipeline called `index` must not overwrite the
# index page with its own `<slug>.md`, so it is numbered as a repeat would be.
RESERVED_SLUGS = ("index",)


def _slugs(names: list[str]) -> list[str]:
    """One anchor-safe, file-safe name per pipeline; a repeated name gets `-2`, `-3`."""
    seen: dict[str, int] = dict.fromkeys(RESERVED_SLUGS, 1)
    slugs = []
    for name in names:
        base = slugify(name)
        seen[base] = seen.get(base, 0) + 1
        slugs.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return slugs


def slugify(text: str) -> str:
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_-") else "-"
                      for ch in text.lower())
    return cleaned.strip("-") or "pipeline"


def organisation(programs: list[Program], pipelines: list[tuple[Program, dict[str, Any]]],
                 names: FileNames | None = None) -> dict[str, Any]:
    """Which team owns which stages in which pipelines, and the stages nobody declared.
    A team is one row per project: `ml` of two projects is two teams, each listing its
    own stages (its declarations name their files, qualified by project)."""
    names = FileNames() if names is None else names
    teams: dict[tuple[str, str], dict[str, Any]] = {}
    for program in programs:
        project = names.project(program.display) or ""
        for name, team in team_entries(program, names).items():
            entry = teams.setdefault((name, project),
                                     {"name": name, "declarations": [], "stages": []})
            _declare(entry["declarations"], team)
    undeclared = []
    for program, pipeline in pipelines:
        project = names.project(program.display) or ""
        for stage_id in pipeline["order"]:
            node = pipeline["nodes"][stage_id]
            undeclared.extend(_claim(teams, project, pipeline, node))
    for entry in teams.values():
        entry["declarations"].sort(key=lambda d: (d["files"], str(d["contact"]),
                                                  str(d["role"]), str(d["description"])))
    return {"teams": [teams[key] for key in sorted(teams)], "undeclared": undeclared}


def _declare(declarations: list[dict[str, Any]], team: dict[str, Any]) -> None:
    """Identical declarations in several files (each example's teams.pipe) are one row."""
    said = {key: team[key] for key in ("contact", "role", "description")}
    for declaration in declarations:
        if {key: declaration[key] for key in said} == said:
            if team["file"] not in declaration["files"]:
                declaration["files"] = sorted([*declaration["files"], team["file"]])
            return
    declarations.append({**said, "files": [team["file"]]})


def _claim(teams: dict[tuple[str, str], dict[str, Any]], project: str,
           pipeline: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    """Records the node under each of its owners (the teams of the pipeline's project);
    returns its ownership problems."""
    where = {"pipeline": pipeline["name"], "slug": pipeline["slug"], "stage": node["id"]}
    if not node["owners"]:
        return [{**where, "owner": None, "reason": "no owner"}]
    problems = []
    for index, owner in enumerate(node["owners"]):
        as_ = "owner" if index == 0 else "co-owner"
        if (owner, project) in teams and owner in pipeline["teams"]:
            teams[owner, project]["stages"].append({**where, "as": as_})
        else:
            problems.append({**where, "owner": owner, "reason": "not declared as a team"})
    return problems
