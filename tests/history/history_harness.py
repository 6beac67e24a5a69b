"""Helpers for the ClickHouse history tests: a real chdb engine in a folder of the test's own, real DuckDB
warehouses filled by the real loader (the version cases write their pushes with tests/meituan_pushes.py). A
module with a unique name, imported by the tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from history.client import connect


@contextmanager
def clickhouse(folder: Path) -> Iterator:
    """A client on a real chdb engine in `folder`, closed after: chdb opens one folder per process at a time."""
    client = connect(f"chdb://{folder}")
    try:
        yield client
    finally:
        client.close()


def final_count(client, table: str) -> int:
    return client.query(f"SELECT count() FROM `{table}` FINAL").result_rows[0][0]


def stored_count(client, table: str) -> int:
    """Rows as stored, duplicates and retractions included (what FINAL or a merge collapses)."""
    return client.query(f"SELECT count() FROM `{table}`").result_rows[0][0]


def duck_count(duck: duckdb.DuckDBPyConnection, source: str) -> int:
    return duck.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
