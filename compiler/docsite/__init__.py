"""`pipec docs`: ownership and lineage documentation, built from a versioned JSON
manifest (docs/manifest.schema.json) and rendered to Markdown and one self-contained
HTML page. The pages depend on the manifest only."""

from __future__ import annotations

from typing import Any

from pipec.docsite.manifest import SCHEMA_VERSION, build_docs_manifest, dump
from pipec.docsite.render import render_site

__all__ = ["SCHEMA_VERSION", "build_docs_manifest", "dump", "render_site", "site_files"]


def site_files(manifest: dict[str, Any]) -> dict[str, bytes]:
    """Every output file of the site (manifest included), as bytes."""
    files = {"manifest.json": dump(manifest)}
    files.update(render_site(manifest))
    return {name: text.encode("utf-8") for name, text in sorted(files.items())}
