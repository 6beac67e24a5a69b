"""Crash safety across a whole micro-batch, beyond the three kill points of test_pipeline.py: one warehouse
is killed (SIGKILL, through the named crash points) while reading landing files, while writing the raw
tables, during dbt (the dbt subprocess killed with it) and while publishing a snapshot over an existing one,
and rerun after each kill. After every kill the dashboard's snapshot is absent or the previous whole one,
never half-written; at the end the warehouse equals a clean run's, data-quality results included, and the
day's reconciliation built on either is the same."""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path

import duckdb
import pytest
from pipeline_days import orderhub_run
from test_pipeline import fingerprint  # the snapshot comparison of tests/e2e/test_pipeline.py
from typer.testing import CliRunner

from orchestration.cli import app
from simulator import simulate_day

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

DAY = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def small_day(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("faults") / "landing"
    simulate_day(DAY, orders=300, seed=23, out=landing)
    return landing


def committed_files(warehouse: Path) -> int:
    if not warehouse.exists():
        return 0
    con = duckdb.connect(str(warehouse), read_only=True)  # also proves no killed process still holds the lock
    try:
        present = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'ingest_files'"
        ).fetchone()[0]
        return con.execute("SELECT count(*) FROM raw.ingest_files").fetchone()[0] if present else 0
    finally:
        con.close()


def snapshot_state(snapshot: Path) -> tuple[str, int] | None:
    """(run_id, number of tables) of a readable snapshot; None when there is none."""
    if not snapshot.exists():
        return None
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        run_id = con.execute("SELECT run_id FROM snapshot_meta").fetchone()[0]
        tables = con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0]
        return run_id, tables
    finally:
        con.close()


def quality(warehouse: Path) -> list[tuple]:
    """What was validated (suite, scope, channel, rows, failures), independent of when and in which run."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT suite, scope, channel, sum(rows), sum(failed) FROM dq.dq_validations "
            "WHERE scope = 'batch' GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


def reconciliation(landing: Path, warehouse: Path) -> list[tuple]:
    """The day's reconciliation lines built by `orderhub recon run` on a warehouse (what finance would get).
    The command runs in this process (typer's runner, outside any Dagster home as `orderhub` in a subprocess
    is): nothing is killed here, and a subprocess would only add its start-up (imports, Dagster's definitions)."""
    args = ["recon", "run", "--date", DAY.isoformat(), "--landing", str(landing), "--warehouse", str(warehouse)]
    result = CliRunner().invoke(app, args, env={"DAGSTER_HOME": None})
    assert result.exit_code == 0, result.output[-3000:] + repr(result.exception)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "SELECT settlement_channel, recon_status, count(*), sum(abs(variance_amount)) "
            "FROM marts.fct_reconciliation_lines GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    assert rows, "the simulated day's statements were reconciled"
    return rows


def test_kills_anywhere_in_a_micro_batch_then_rerun_equal_a_clean_run(small_day, tmp_path):
    """The kill sequence of the module docstring; each kill is a real SIGKILL at a named point."""
    clean = tmp_path / "clean" / "orderhub.duckdb"
    result = orderhub_run(small_day, clean)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    warehouse = tmp_path / "faulted" / "orderhub.duckdb"
    snapshot = warehouse.with_name("serving.duckdb")
    files = committed_files(clean)
    for point, committed_after in (("ingest.during_read", 0), ("ingest.during_write", 0), ("dbt.during", files)):
        killed = orderhub_run(small_day, warehouse, crash_at=point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
        assert committed_files(warehouse) == committed_after, point
        assert not snapshot.exists(), f"{point}: a killed first run must not leave a snapshot in place"

    rerun = orderhub_run(small_day, warehouse)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    published = snapshot_state(snapshot)
    assert published is not None

    # Killed while writing the next snapshot: the one in place is still the previous, whole and readable.
    # Forced: with nothing new and the snapshot current, `orderhub run` would start no run at all.
    killed = orderhub_run(small_day, warehouse, "serving.during_write", "--force")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert snapshot_state(snapshot) == published

    assert fingerprint(warehouse) == fingerprint(clean)
    assert quality(warehouse) == quality(clean)
    assert reconciliation(small_day, warehouse) == reconciliation(small_day, clean)
    assert quality(clean), "the clean run stored no data-quality validation"
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        dq_tables = {
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'dq_%'").fetchall()
        }
        failed_critical = con.execute(
            "SELECT count(*) FROM dq_results_summary WHERE severity = 'critical' AND NOT last_success"
        ).fetchone()[0]
    finally:
        con.close()
    assert {"dq_results_summary", "dq_validations_recent", "dq_quarantine_status"} <= dq_tables
    assert failed_critical == 0
