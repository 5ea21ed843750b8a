"""`pipec build --resolve`: the date each `snapshot latest` resolves to, read from the
source's data as the runtime will read it (language.md: a rule whose arithmetic needs a
`latest` date it cannot know statically is checked again by `run` and `build --resolve`
with the resolved dates)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipec import nodes as n
from pipec.model import Program


class ResolveError(Exception):
    """A `snapshot latest` whose data cannot be read at build time."""


def latest_sources(program: Program) -> list[str]:
    """The sources whose snapshot is `latest`, in declaration order."""
    found = []
    for block in program.blocks("source"):
        setting = block.setting("snapshot")
        if setting is not None and not isinstance(setting.value, n.Date):
            found.append(block.name.name)
    return found


def resolve_snapshots(program: Program, base_dir: Path) -> dict[str, dt.date]:
    """Source name -> the UTC date of its newest `time` value (sources with no rows or
    no time are left out: the run resolves nothing for them either)."""
    from pipec.manifest import stage_entry
    from pipec.stdlib.runtime.db import connect
    from pipec.stdlib.runtime.errors import SourceError
    from pipec.stdlib.runtime.sources import newest_date

    resolved = {}
    for name in latest_sources(program):
        stage = program.stages.get(f"source.{name}")
        if stage is None:
            continue
        entry = stage_entry(program, stage)
        con = connect()
        try:
            newest = newest_date(con, entry, base_dir)
        except SourceError as exc:
            raise ResolveError(str(exc)) from exc
        finally:
            con.close()
        if newest is not None:
            resolved[name] = newest
    return resolved
