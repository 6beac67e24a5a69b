"""What each refreshable part of the warehouse is as of: one row per part (`marts`, `dispatch`), written by the
step that refreshed it, in the warehouse itself so the record survives across runs and Dagster instances
(`orderhub run` uses an ephemeral one). The serving snapshot compares it with the run it publishes for, to
mark the parts a failed step left behind as stale.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

SCHEMA = "pipeline"
TABLE = f"{SCHEMA}.part_refreshes"
# Every part the snapshot reports on, in the order a dashboard lists them.
PARTS = ("marts", "dispatch")

DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        part VARCHAR PRIMARY KEY, run_id VARCHAR, as_of TIMESTAMP, refreshed_at TIMESTAMP)""",
)


def record(con: duckdb.DuckDBPyConnection, part: str, run_id: str, as_of: datetime) -> None:
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; known: {', '.join(PARTS)}")
    for statement in DDL:
        con.execute(statement)
    con.execute(
        f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?)",
        [part, run_id, as_of, datetime.now(UTC).replace(tzinfo=None)],
    )
