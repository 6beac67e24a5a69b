"""The run's clock for dbt: a row in `pipeline.dbt_clock` for the length of one dbt invocation.

dbt reads it through the `as_of()` macro (dbt_project/macros/as_of.sql). It is a row, not a `--vars` entry,
because dbt re-parses the whole project whenever its vars change, and the clock changes every run: measured,
9 of a micro-batch's seconds went to that parse.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import duckdb

TABLE = "pipeline.dbt_clock"
_DDL = ("CREATE SCHEMA IF NOT EXISTS pipeline", f"CREATE TABLE IF NOT EXISTS {TABLE} (as_of TIMESTAMP)")


@contextmanager
def clock_for_dbt(connect, as_of: datetime) -> Iterator[None]:
    """Sets the clock, yields while dbt runs, then clears it so a later manual `dbt build` uses the wall clock.
    `connect` opens a warehouse connection (closed again before dbt runs: DuckDB allows one writer process)."""
    _write(connect, as_of)
    try:
        yield
    finally:
        _write(connect, None)


def _write(connect, as_of: datetime | None) -> None:
    with connect() as con:
        con: duckdb.DuckDBPyConnection
        for statement in _DDL:
            con.execute(statement)
        con.execute(f"DELETE FROM {TABLE}")
        if as_of is not None:
            con.execute(f"INSERT INTO {TABLE} VALUES (?)", [as_of])
