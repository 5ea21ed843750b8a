"""P004: an import of a file that declares a pipeline, which the import ignores.

An import shares teams, check sets and gate sets (language.md); the loader reads the
whole file, but only the checked file's own pipeline is built (`analyze.build_program`),
so an imported file's pipeline is silently dropped. Each file answers for its own
imports: the warning is at the checked file's import statement, never at an import
inside an imported file. That file reports it when it is checked itself, so a shared
file imported by many pipelines (or named together with them, `--with-importers`)
says it once, at its own import.

The standard library's files hold no pipeline, so `import "std/..."` never fires this.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, warning
from pipec.loader import LoadedFile
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
Reports an `import` of a file that declares a `pipeline`.

## Why is this bad?
An import shares only the imported file's teams, check sets and gate sets. Its pipeline
is ignored: none of its stages, defaults or gates join the importing pipeline, and none
of its stages is checked or built from there. Whoever wrote the import likely expected
more, and the pipeline file is now also a library that other pipelines depend on.

## Example
`shared.pipe` declares a team and a pipeline of its own:
```pipe file=shared.pipe
team ml { contact "#ml"; role ml }

pipeline baseline {
  owner ml
  on_failure block
  source events {
    from csv "events.csv"
    schema { id: string }
  }
}
```
and the pipeline below imports it for the team:
```pipe
import "shared.pipe"

pipeline p {
  owner ml
  on_failure block
  source events {
    from csv "events.csv"
    schema { id: string }
  }
}
```

## Use instead
Move what both files share into a file without a pipeline, `teams.pipe`:
```pipe file=teams.pipe
team ml { contact "#ml"; role ml }
```
and import that one (from `shared.pipe` too):
```pipe
import "teams.pipe"

pipeline p {
  owner ml
  on_failure block
  source events {
    from csv "events.csv"
    schema { id: string }
  }
}
```
'''

SHARED = "an import shares only teams, check sets and gate sets"
HELP = ("move the teams and sets the importing files need into a file without a pipeline "
        "(as a `teams.pipe` is) and import that one, or remove this import")


@rule("P004", "warning", "an import of a file that declares a pipeline, which it ignores",
      DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    loaded = {f.path: f for f in program.files}
    main = loaded.get(program.path)
    if main is None:
        return
    for target, stmt in main.imports.items():
        pipelines = _pipelines(loaded.get(target))
        if pipelines and not _import_failed(program, stmt):
            yield warning("P004", f"`{stmt.path.value}` declares {_named(pipelines)}, which "
                          f"this import ignores: {SHARED}", stmt.span, HELP)


def _pipelines(imported: LoadedFile | None) -> list[str]:
    """The pipelines an imported file declares (none when it failed to load or parse)."""
    if imported is None or imported.module is None:
        return []
    return [block.name.name for block in imported.module.blocks("pipeline")]


def _import_failed(program: Program, stmt: n.Import) -> bool:
    """An import that is P002 (a cycle through the checked file) says so already."""
    return any(d.code == "P002" and d.span in (stmt.span, stmt.path.span)
               for d in program.diagnostics)


def _named(pipelines: list[str]) -> str:
    names = ", ".join(f"`{name}`" for name in pipelines)
    return f"pipeline {names}" if len(pipelines) == 1 else f"pipelines {names}"

