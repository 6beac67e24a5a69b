"""What each refreshable part of the warehouse is as of: one row per part (`marts`, `dispatch`), written by the
step that refreshed it, in the warehouse itself so the record survives across runs and Dagster instances
(`orderhub run` uses an ephemeral one). The serving snapshot compares it with the run it publishes for, to
mark the parts a failed step left behind as stale.

A step may also judge its part current without redoing it (dispatch re-plans on its own cadence, not every
micro-batch): it then `confirm`s the part for its run, and the row keeps the as_of of the refresh it relies on.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from ingestion.warehouse import has_table

SCHEMA = "pipeline"
TABLE = f"{SCHEMA}.part_refreshes"
# Every part the snapshot reports on, in the order a dashboard lists them.
PARTS = ("marts", "dispatch")

DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        part VARCHAR PRIMARY KEY, run_id VARCHAR, as_of TIMESTAMP, refreshed_at TIMESTAMP)""",
    # Added after the first release; warehouses created before it get the column here.
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS confirmed_run_id VARCHAR",
)


def _ensure(con: duckdb.DuckDBPyConnection, part: str) -> None:
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; known: {', '.join(PARTS)}")
    for statement in DDL:
        con.execute(statement)


def record(con: duckdb.DuckDBPyConnection, part: str, run_id: str, as_of: datetime) -> None:
    """`run_id` refreshed `part` at clock `as_of`."""
    _ensure(con, part)
    con.execute(
        f"INSERT OR REPLACE INTO {TABLE} (part, run_id, as_of, refreshed_at, confirmed_run_id) VALUES (?, ?, ?, ?, ?)",
        [part, run_id, as_of, datetime.now(UTC).replace(tzinfo=None), run_id],
    )


def confirm(con: duckdb.DuckDBPyConnection, part: str, run_id: str) -> None:
    """`run_id` judged `part` current as last refreshed, without refreshing it."""
    _ensure(con, part)
    con.execute(f"UPDATE {TABLE} SET confirmed_run_id = ? WHERE part = ?", [run_id, part])


def as_of_by_part(con: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """The clock each part was last refreshed at (parts never refreshed are absent). Reads only, so a
    read-only connection will do."""
    if not has_table(con, TABLE):
        return {}
    return dict(con.execute(f"SELECT part, as_of FROM {TABLE} WHERE as_of IS NOT NULL").fetchall())
