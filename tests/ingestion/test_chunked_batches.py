"""A batch loaded a chunk of files at a time lands exactly what the same batch loaded whole lands.

Chunks only bound memory: rows, versions, duplicates (an order re-pushed in a later chunk of the same
batch), quarantine and counts must not depend on where the chunks are cut.
"""

from __future__ import annotations

import polars as pl
import pytest

from ingestion import addresses, warehouse
from ingestion.loader import run_batch

# What differs between two loads of the same files by design: the batch's id and clock.
VOLATILE = {"batch_id", "received_at", "quarantined_at", "started_at", "finished_at", "done_at", "source"}
TABLES = (
    "orders",
    "order_lines",
    "order_events",
    "order_versions",
    "order_history",
    "order_line_history",
    "quarantine",
    "settlement_lines",
    "ingest_files",
)


def _snapshot(con) -> dict[str, pl.DataFrame]:
    out = {}
    for table in TABLES:
        frame = con.sql(f"SELECT * FROM raw.{table}").pl()
        frame = frame.drop([c for c in frame.columns if c in VOLATILE])
        out[table] = frame.sort(frame.columns, nulls_last=True)
    counts = con.sql("SELECT channel, files, landed, loaded, quarantined, duplicate FROM raw.ingest_batches").pl()
    out["ingest_batches"] = counts.sort("channel")
    return out


def _load(landing, path, monkeypatch, chunk_mb: str) -> dict[str, pl.DataFrame]:
    monkeypatch.setenv("ORDERHUB_CHUNK_MB", chunk_mb)
    addresses.clear_caches()  # the second load must not lean on what the first one parsed
    con = warehouse.connect(path)
    try:
        result = run_batch(con, landing)
        assert result.files > 0
        return _snapshot(con)
    finally:
        con.close()


def test_file_sized_chunks_land_what_one_chunk_lands(simulated_day, tmp_path, monkeypatch):
    landing, truth = simulated_day
    whole = _load(landing, tmp_path / "whole.duckdb", monkeypatch, "100000")
    # A few KB: every order file is a chunk of its own, the finest cut there is.
    chunked = _load(landing, tmp_path / "chunked.duckdb", monkeypatch, "0.001")
    duplicates = whole["ingest_batches"].filter(~pl.col("channel").str.contains("/"))["duplicate"].sum()
    if duplicates == 0:
        pytest.fail("the simulated day has no re-pushed order, so chunk-crossing dedupe is not exercised")
    for table, frame in whole.items():
        assert frame.height > 0 or table == "settlement_lines", table
        assert chunked[table].equals(frame), table
