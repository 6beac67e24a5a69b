"""When a run's checkpoints merge the warehouse's small row groups, and when they leave it for later.

Every micro-batch appends a few rows to tables of hundreds of thousands. DuckDB's checkpoint vacuum merges
such appends into the table's last, partly filled row group, rewriting that whole group (the raw JSON text
included): at 30 days of history that was 0.16–2.7 s per checkpoint, in a cascade, on the path from order to
big screen. Never merging is worse: each tiny append stays a row group of its own, and 1,500 of them doubled
a table's file size and made its scans 80% slower (bench/results/batch_cost.md). So micro-batches merge on a
cadence, by the wall clock (this is upkeep of the file, not business time): the first micro-batch after
`compact_every` since the last merging run merges, the ones between leave it. Every other run (the nightly
rebuild, the checks job, a run by hand) merges.

The decision is taken once per run, on the run's first warehouse connection, and kept in
`pipeline.compaction` so dbt's connections follow it (dbt_project/macros/batch_scope.sql).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

TABLE = "pipeline.compaction"


def defer_this_run(con: duckdb.DuckDBPyConnection, *, micro_batch: bool, every: timedelta, now: datetime) -> bool:
    """True when this run's checkpoints leave merging to a later run; a merging run is recorded as the last."""
    con.execute("CREATE SCHEMA IF NOT EXISTS pipeline")
    con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (merged_at TIMESTAMP, deferred BOOLEAN)")
    last = con.execute(f"SELECT max(merged_at) FROM {TABLE}").fetchone()[0]
    # A clock set back (a restored file, a moved machine) counts as due rather than deferring for ever.
    deferred = micro_batch and last is not None and timedelta(0) <= now - last < every
    con.execute("BEGIN TRANSACTION")
    con.execute(f"DELETE FROM {TABLE}")
    con.execute(f"INSERT INTO {TABLE} VALUES (?, ?)", [last if deferred else now, deferred])
    con.execute("COMMIT")
    return deferred
