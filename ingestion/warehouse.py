"""Opening the DuckDB warehouse and making sure the raw schema exists."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion import contract


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    for statement in contract.raw_schema_ddl():
        con.execute(statement)
    return con
