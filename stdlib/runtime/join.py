"""The implicit `join` stage: base rows + label + feature views → the examples table.

Every input is keyed by `__row_id` (the base row's position in the stored, sorted base
dataset), so the join is a plain equi-join and cannot duplicate or lose a base row.
Censored rows are dropped here, and counted, never labelled false.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from .db import ident


@dataclass(frozen=True, slots=True)
class JoinCounts:
    base_rows: int
    censored: int
    examples: int


def build_examples(
    con: duckdb.DuckDBPyConnection,
    spine: str,
    labels: str | None,
    label_name: str | None,
    feature_tables: list[str],
    out: str,
) -> JoinCounts:
    """Create table `out` (base columns, label, `VIEW__FEATURE`...) in base-row order."""
    base_cols = [c for c in con.table(spine).columns if c != "__row_id"]
    if labels and label_name in base_cols:
        # A `column` label may share its column's name: the label (censored) wins.
        base_cols.remove(label_name)
    select = [f"b.{ident(c)}" for c in base_cols]
    joins = ""
    if labels:
        select.append(f"l.label AS {ident(label_name or 'label')}")
        joins += f" LEFT JOIN {ident(labels)} l USING (__row_id)"
    for i, table in enumerate(feature_tables):
        feats = [c for c in con.table(table).columns if c != "__row_id"]
        select.extend(f"f{i}.{ident(c)}" for c in feats)
        joins += f" LEFT JOIN {ident(table)} f{i} USING (__row_id)"
    censored = "coalesce(l.censored, FALSE)" if labels else "FALSE"
    con.execute(
        f"CREATE OR REPLACE TABLE {ident(out)} AS SELECT {', '.join(select)} "
        f"FROM {ident(spine)} b{joins} WHERE NOT {censored} ORDER BY b.__row_id"
    )
    base_rows = con.execute(f"SELECT count(*) FROM {ident(spine)}").fetchall()[0][0]
    examples = con.execute(f"SELECT count(*) FROM {ident(out)}").fetchall()[0][0]
    return JoinCounts(base_rows, base_rows - examples, examples)
