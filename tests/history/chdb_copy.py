"""A stand-in for the sink in the analytics tests: copies the DuckDB warehouse's tables into a chdb database.

Each table goes through a Parquet file into a ReplacingMergeTree keyed as the real sink keys it (so readers
need FINAL, as in production), with every row inserted twice to prove the queries see one row per key. The
orders' sequence is derived from the copied identity by the sink's own code.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from history import sequence
from history.identity import NAME, order_customers_sql

# What the sink stores besides the copied tables: each order's identity (history/identity.py), from its SQL.
ORDER_CUSTOMERS: dict[str, tuple[str, str]] = {NAME: (f"({order_customers_sql()})", "order_key")}
# ClickHouse table -> (DuckDB table or parenthesised query, key columns)
TABLES: dict[str, tuple[str, str]] = {
    "orders": ("raw.orders", "order_key"),
    "order_lines": ("raw.order_lines", "order_key, line_no"),
    "fct_orders": ("marts.fct_orders", "order_key"),
    "fct_parcels": ("marts.fct_parcels", "parcel_id"),
    "fct_exceptions": ("marts.fct_exceptions", "exception_id"),
    **ORDER_CUSTOMERS,
}


def copy_warehouse(
    duck: duckdb.DuckDBPyConnection,
    client,
    database: str,
    workdir: Path,
    tables: dict[str, tuple[str, str]] | None = None,
) -> dict[str, int]:
    """Copy `tables` (default TABLES) from DuckDB into a fresh ClickHouse `database`; rows per table."""
    client.command(f"DROP DATABASE IF EXISTS {database}")
    client.command(f"CREATE DATABASE {database}")
    counts = {}
    for table, (source, key) in (tables or TABLES).items():
        path = workdir / f"{database}.{table}.parquet"
        duck.execute(f"COPY (SELECT * FROM {source}) TO '{path}' (FORMAT parquet)")
        client.command(
            f"CREATE TABLE {database}.{table} ENGINE = ReplacingMergeTree ORDER BY ({key}) "
            f"SETTINGS allow_nullable_key = 1 AS SELECT * FROM file('{path}', Parquet)"
        )
        client.command(f"INSERT INTO {database}.{table} SELECT * FROM file('{path}', Parquet)")
        counts[table] = duck.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    if NAME in (tables or TABLES):
        # The sink derives each order's sequence from its identity inside ClickHouse (history/sequence.py).
        chosen, client.database = client.database, database
        try:
            sequence.refresh(client, version=1, since=0, whole=True)
        finally:
            client.database = chosen
    return counts
