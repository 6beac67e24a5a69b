"""A batch loaded a chunk of files at a time, or committed a group of chunks at a time, lands exactly what
the same batch loaded whole in one transaction lands.

Chunks and commit groups only bound memory: rows, versions, duplicates (an order re-pushed in a later chunk
or group of the same batch), quarantine and counts must not depend on where they are cut, and a run killed
between two commit groups must leave what a rerun completes into the same warehouse.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingestion import addresses, warehouse
from ingestion.file_reads import commit_groups
from ingestion.landing import LandingFile
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
    # Summed per channel: a batch committed in groups has a row per group and channel.
    counts = con.sql(
        "SELECT channel, sum(files) AS files, sum(landed) AS landed, sum(loaded) AS loaded, "
        "sum(quarantined) AS quarantined, sum(duplicate) AS duplicate "
        "FROM raw.ingest_batches GROUP BY channel"
    ).pl()
    out["ingest_batches"] = counts.sort("channel")
    return out


def _load(landing, path, monkeypatch, chunk_mb: str, commit_mb: str = "100000") -> dict[str, pl.DataFrame]:
    monkeypatch.setenv("ORDERHUB_CHUNK_MB", chunk_mb)
    monkeypatch.setenv("ORDERHUB_COMMIT_MB", commit_mb)
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


def _unbalanced(con) -> list[tuple]:
    return con.execute(
        "SELECT batch_id, channel FROM raw.ingest_batches WHERE landed <> loaded + quarantined + duplicate"
    ).fetchall()


def test_commit_groups_land_what_one_commit_lands(simulated_day, tmp_path, monkeypatch):
    """Every chunk committed as a batch of its own: the same rows and counts, each group balanced."""
    landing, _ = simulated_day
    whole = _load(landing, tmp_path / "whole.duckdb", monkeypatch, "0.5")
    monkeypatch.setenv("ORDERHUB_CHUNK_MB", "0.5")
    monkeypatch.setenv("ORDERHUB_COMMIT_MB", "0.001")
    addresses.clear_caches()
    con = warehouse.connect(tmp_path / "grouped.duckdb")
    try:
        result = run_batch(con, landing)
        grouped = _snapshot(con)
        batch_ids = [r[0] for r in con.execute("SELECT DISTINCT batch_id FROM raw.ingest_batches").fetchall()]
        assert not _unbalanced(con)
    finally:
        con.close()
    assert len(result.batch_ids) > 2, "the day was not cut into several commit groups"
    assert sorted(batch_ids) == sorted(result.batch_ids) and result.batch_id == result.batch_ids[-1]
    assert result.landed == whole["ingest_batches"]["landed"].sum()
    for table, frame in whole.items():
        assert grouped[table].equals(frame), table


_KILLED_LOAD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from ingestion import warehouse
    from ingestion.loader import run_batch
    run_batch(warehouse.connect(Path(sys.argv[2])), Path(sys.argv[1]))
""")


def test_killed_between_commit_groups_then_rerun_lands_what_one_commit_lands(simulated_day, tmp_path, monkeypatch):
    """SIGKILL after the first group committed: its files are checkpointed and balanced, the others are not
    there at all, and the rerun loads exactly the others into the warehouse one transaction makes."""
    landing, _ = simulated_day
    whole = _load(landing, tmp_path / "whole.duckdb", monkeypatch, "0.5")
    db = tmp_path / "killed.duckdb"
    env = {
        **os.environ,
        "ORDERHUB_CHUNK_MB": "0.5",
        "ORDERHUB_COMMIT_MB": "1",
        "ORDERHUB_CRASH_AT": "ingest.between_commits",
    }
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_LOAD, str(landing), str(db)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
        env=env,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    con = duckdb.connect(str(db))
    try:
        done = con.execute("SELECT count(*), count(DISTINCT batch_id) FROM raw.ingest_files").fetchone()
        orphans = con.execute(
            "SELECT count(*) FROM raw.order_history WHERE batch_id NOT IN (SELECT batch_id FROM raw.ingest_files)"
        ).fetchone()[0]
        assert not _unbalanced(con)
    finally:
        con.close()
    assert done[0] > 0 and done[1] == 1, "the first group's files are checkpointed, in one batch"
    assert done[0] < whole["ingest_files"].height, "the kill came before the last group"
    assert orphans == 0

    rerun = _load(landing, db, monkeypatch, "0.5", "1")
    for table, frame in whole.items():
        assert rerun[table].equals(frame), table


def _file(name: str, size: int) -> LandingFile:
    return LandingFile(Path("/landing"), f"orders/app/2026-11-26/{name}", "orders", "app", "2026-11-26", size)


def test_a_chunk_over_the_commit_budget_is_a_group_of_its_own(monkeypatch):
    monkeypatch.setenv("ORDERHUB_COMMIT_MB", "1")
    mb = 1024 * 1024
    small, big, last = [_file("a", mb // 2)], [_file("b", 3 * mb)], [_file("c", mb // 4), _file("d", mb // 4)]
    assert commit_groups([small, big, last]) == [[small], [big], [last]]
    assert commit_groups([small, last]) == [[small, last]]
    assert commit_groups([]) == []


@pytest.mark.parametrize("caller_limit", [None, "3GiB"])
def test_the_load_memory_limit_is_set_back_to_the_callers(tmp_path, caller_limit):
    """The loader lowers DuckDB's memory limit only while it loads: the connection is the caller's."""
    con = warehouse.connect(tmp_path / "wh.duckdb")
    try:
        if caller_limit:
            con.execute(f"SET memory_limit = '{caller_limit}'")
        before = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        with warehouse.memory_limit(con, 256 * 1024 * 1024):
            assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "256.0 MiB"
        assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == before
    finally:
        con.close()
