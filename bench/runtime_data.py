"""Synthetic data for the runtime benchmark, written once per size into bench/.data.

`events_N.parquet`: N rows of (account_id, at, amount), N/100 accounts, one year, time
order, 1% of amounts NULL. `balances_N.parquet`: N/10 rows of (account_id, at, balance).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from bench.common import DATA

YEAR_US = 365 * 86_400 * 1_000_000


def dataset(n: int) -> tuple[Path, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    events, balances = DATA / f"events_{n}.parquet", DATA / f"balances_{n}.parquet"
    if events.is_file() and balances.is_file():
        return events, balances
    accounts = max(1, n // 100)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""COPY (
        SELECT 'acct' || lpad(CAST((i * 7919) % {accounts} AS VARCHAR), 8, '0') AS account_id,
               TIMESTAMP '2025-01-01'
                   + to_microseconds(CAST(hash(i) % {YEAR_US} AS BIGINT)) AS "at",
               CASE WHEN i % 100 = 0 THEN NULL ELSE CAST(hash(i * 3) % 100000 AS DOUBLE) / 100
               END AS amount
        FROM range({n}) t(i) ORDER BY "at"
    ) TO '{events}' (FORMAT parquet)""")
    con.execute(f"""COPY (
        SELECT 'acct' || lpad(CAST((i * 104729) % {accounts} AS VARCHAR), 8, '0') AS account_id,
               TIMESTAMP '2025-01-01' + to_microseconds(CAST(hash(i + 17) % {YEAR_US} AS BIGINT))
                   AS "at",
               CAST(hash(i * 5) % 1000000 AS DOUBLE) / 100 AS balance
        FROM range({max(1, n // 10)}) t(i) ORDER BY "at"
    ) TO '{balances}' (FORMAT parquet)""")
    con.close()
    return events, balances
