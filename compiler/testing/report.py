"""Counterexamples as small tables: plain text (assertion messages, pipes) and rich."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipec.testing.properties import SplitPropertyFailure
    from rich.console import Console

MAX_ROWS = 12


def cell(value: Any) -> str:
    """A value as every part of `pipec test`'s output spells it: the tables, the
    messages and the bounds they compare against."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return instant(value)
    return repr(value) if isinstance(value, str) else str(value)


def instant(value: datetime) -> str:
    """ISO 8601 in UTC, `2025-06-01T00:00:00Z`, as the language writes timestamps. A
    value in another zone is shown as the same instant in UTC, so that a row's time
    compares by eye with the split's bounds; a naive one (a column that holds UTC by
    convention) keeps no suffix, as it states no zone."""
    if value.tzinfo is None:
        return value.isoformat()
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def replay_command(path: str, *, max_examples: int, seed: int | None,
                   cross_process: bool) -> str:
    """The `pipec test` command that draws the same examples: they follow from the seed
    (a fixed one by default) and the number of examples per property."""
    command = ["pipec", "test", path, "--max-examples", str(max_examples)]
    if seed is not None:
        command += ["--seed", str(seed)]
    if not cross_process:
        command.append("--no-cross-process")
    return shlex.join(command)


def replay_line(how: str, seed: int | None) -> str:
    """`replay with the same examples (seed 7): <how>`, as `pipec test` ends a failure."""
    which = "the fixed default seed" if seed is None else f"seed {seed}"
    return f"replay with the same examples ({which}): {how}"


def plain_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    shown = rows[:MAX_ROWS]
    headers = list(shown[0])
    cells = [[cell(r.get(h)) for h in headers] for r in shown]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = lambda items: "  ".join(x.ljust(w) for x, w in zip(items, widths, strict=True))  # noqa: E731
    out = [line(headers), line(["-" * w for w in widths]), *(line(c) for c in cells)]
    if len(rows) > MAX_ROWS:
        out.append(f"... {len(rows) - MAX_ROWS} more row(s)")
    return "\n".join(x.rstrip() for x in out)


def plain_failure(failure: SplitPropertyFailure) -> str:
    parts = [f"split property `{failure.prop}` does not hold: {failure.message}",
             f"property: {failure.statement}"]
    table = plain_table(failure.rows)
    if table:
        parts.append("counterexample (shrunk):\n" + table)
    if failure.replay:
        parts.append(failure.replay)
    return "\n".join(parts)


def print_failure(console: Console, failure: SplitPropertyFailure) -> None:
    from rich.text import Text

    console.print(Text.assemble(("FAIL ", "bold red"), (failure.prop, "bold"),
                                f": {failure.message}"))
    console.print(Text(f"property: {failure.statement}", style="dim"))
    if failure.rows:
        _print_rows(console, failure.rows)
    if failure.replay:
        console.print(Text(failure.replay))


def _print_rows(console: Console, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="counterexample (shrunk)", title_justify="left")
    for header in rows[0]:
        table.add_column(header, overflow="fold")
    for row in rows[:MAX_ROWS]:
        # As Text: a drawn or declared value such as "[/b]" is data, not rich markup
        # (which raised MarkupError, or restyled the rest of the row).
        table.add_row(*(Text(cell(v)) for v in row.values()))
    console.print(table)
    if len(rows) > MAX_ROWS:
        console.print(f"... {len(rows) - MAX_ROWS} more row(s)")
