"""Renderers turn diagnostics into text for people and formats for tools. They never
decide what fails (that is the policy in `pipec.check`)."""

from __future__ import annotations

from collections.abc import Callable

from pipec.diagnostics import Diagnostic

Sources = dict[str, str]  # display path -> file text, for quoting source lines
Renderer = Callable[[list[Diagnostic], Sources], str]


def renderer(name: str) -> Renderer:
    if name == "json":
        from pipec.render.json_format import render
    elif name == "sarif":
        from pipec.render.sarif import render
    elif name == "github":
        from pipec.render.github import render
    else:
        from pipec.render.text import render_plain as render
    return render


FORMATS = ("text", "json", "sarif", "github")
