"""Counterexamples as small tables: plain text (assertion messages, pipes) and rich."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipec.testing.properties import SplitPropertyFailure
    from rich.console import Console

MAX_ROWS = 12


def cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return repr(value) if isinstance(value, str) else str(value)


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
    return "\n".join(parts)


def print_failure(console: Console, failure: SplitPropertyFailure) -> None:
    from rich.table import Table
    from rich.text import Text

    console.print(Text.assemble(("FAIL ", "bold red"), (failure.prop, "bold"),
                                f": {failure.message}"))
    console.print(Text(f"property: {failure.statement}", style="dim"))
    if not failure.rows:
        return
    table = Table(title="counterexample (shrunk)", title_justify="left")
    for header in failure.rows[0]:
        table.add_column(header, overflow="fold")
    for row in failure.rows[:MAX_ROWS]:
        # As Text: a drawn or declared value such as "[/b]" is data, not rich markup
        # (which raised MarkupError, or restyled the rest of the row).
        table.add_row(*(Text(cell(v)) for v in row.values()))
    console.print(table)
    if len(failure.rows) > MAX_ROWS:
        console.print(f"... {len(failure.rows) - MAX_ROWS} more row(s)")
