"""Opening the DuckDB warehouse and making sure the raw schema exists."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from ingestion import contract


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    for statement in contract.raw_schema_ddl():
        con.execute(statement)
    _add_new_columns(con)
    return con


def _add_new_columns(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse made by an older version gets the contract's newer columns (null for old rows)."""
    for table, columns in contract.all_tables().items():
        for column, dtype in columns.items():
            con.execute(
                f'ALTER TABLE {contract.RAW_SCHEMA}.{table} ADD COLUMN IF NOT EXISTS "{column}" '
                f"{contract.duckdb_type(dtype)}"
            )


def insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, conflict: str | None) -> None:
    """Insert a polars frame into a raw table by column name (`conflict`: None, "ignore" or "replace")."""
    if frame.height == 0:
        return
    verb = {None: "INSERT", "ignore": "INSERT OR IGNORE", "replace": "INSERT OR REPLACE"}[conflict]
    con.register("_incoming", frame.to_arrow())
    try:
        con.execute(f"{verb} INTO {contract.RAW_SCHEMA}.{table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")
