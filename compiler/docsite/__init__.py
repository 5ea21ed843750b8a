"""`pipec docs`: ownership and lineage documentation, built from a versioned JSON
manifest (docs/manifest.schema.json) and rendered to Markdown and one self-contained
HTML page. The pages depend on the manifest only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipec.docsite.manifest import SCHEMA_VERSION, build_docs_manifest, dump
from pipec.docsite.render import render_site

__all__ = ["SCHEMA_VERSION", "build_docs_manifest", "dump", "previous_pages", "render_site",
           "site_files"]


def site_files(manifest: dict[str, Any]) -> dict[str, bytes]:
    """Every output file of the site (manifest included), as bytes."""
    files = {"manifest.json": dump(manifest)}
    files.update(render_site(manifest))
    return {name: text.encode("utf-8") for name, text in sorted(files.items())}


def previous_pages(folder: Path) -> set[str]:
    """The pipeline pages an earlier `pipec docs` wrote into `folder`, as its manifest
    lists them: a page of a pipeline since renamed or removed is stale, and goes. Files
    the manifest does not name are the user's and stay; no readable pipec manifest,
    nothing goes."""
    if not (folder / "manifest.json").is_file():  # a FIFO there would block the read
        return set()
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        if manifest["generator"]["name"] != "pipec":
            return set()
        slugs = [p["slug"] for p in manifest["pipelines"]]
    # RecursionError: JSON nested deeper than the parser goes is no pipec manifest either.
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return set()
    return {f"{slug}.md" for slug in slugs if isinstance(slug, str) and "/" not in slug}
