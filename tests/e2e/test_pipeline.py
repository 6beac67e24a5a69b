"""The whole pipeline through Dagster (`orderhub run`) on a simulated day: it publishes a snapshot, and
a run killed in the middle of a batch, then rerun, ends with exactly the rows of a clean run."""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path

import duckdb
import pytest
from pipeline_days import orderhub_run

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

# Columns that legitimately differ between two runs of the same data: when, and in which batch.
RUN_DEPENDENT = {
    "batch_id",
    "received_at",
    "quarantined_at",
    "started_at",
    "finished_at",
    "done_at",
    "published_at",
    "run_id",
    "rebuilt_seq",  # which dbt invocation wrote the row (dbt_project/macros/rebuilt_seq.sql): a rerun is another
}
COMPARED_TABLES = (
    "raw.orders",
    "raw.order_lines",
    "raw.order_events",
    "raw.quarantine",
    "raw.order_versions",
    "raw.stores",
    "raw.products",
    "raw.settlement_lines",
    "raw.stock_snapshots",
    "raw.stock_movements",
    "marts.fct_orders",
    "marts.fct_channel_kpis_hourly",
    "marts.fct_exceptions",
    # Parcels, stock and what reconciliation reads (its input lines above; the finance marts are the daily job's).
    "marts.fct_parcels",
    "marts.fct_merge_savings_daily",
    "marts.fct_stock_positions",
    "marts.fct_oversell_events",
)
# The snapshot's tables copied whole from the marts; its own meta and status tables are per run.
SNAPSHOT_COMPARED = ("fct_exceptions", "fct_stock_positions", "fct_channel_kpis_hourly", "fct_merge_savings_daily")


def fingerprint(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for table in COMPARED_TABLES:
            columns = [r[0] for r in con.execute(f"describe {table}").fetchall() if r[0] not in RUN_DEPENDENT]
            select = ", ".join(f'"{c}"' for c in columns)
            out[table] = con.execute(f"select {select} from {table} order by all").fetchall()
        out["raw.ingest_batches"] = con.execute(
            "select channel, sum(files), sum(landed), sum(loaded), sum(quarantined), sum(duplicate) "
            "from raw.ingest_batches group by channel order by channel"
        ).fetchall()
        # The solver stops on a time limit, so routes may differ between two runs; what may not differ is which
        # parcels each solver was given, each planned exactly once (on a trip or reported unassigned).
        out["dispatch.parcels"] = con.execute(
            "select solver, parcel_id, count(*) from (select solver, parcel_id from dispatch.dispatch_stops "
            "union all select solver, parcel_id from dispatch.dispatch_unassigned) group by all order by all"
        ).fetchall()
    finally:
        con.close()
    snapshot = db.with_name("serving.duckdb")
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        for table in SNAPSHOT_COMPARED:
            columns = [r[0] for r in con.execute(f"describe {table}").fetchall() if r[0] not in RUN_DEPENDENT]
            select = ", ".join(f'"{c}"' for c in columns)
            out[f"snapshot.{table}"] = con.execute(f"select {select} from {table} order by all").fetchall()
    finally:
        con.close()
    return out


@pytest.fixture(scope="module")
def clean_run(clean_pipeline_run):
    """The session's clean run (tests/e2e/conftest.py): the same `orderhub run` over the same day, made once
    for every module that reads it on this worker."""
    return clean_pipeline_run


def test_clean_run_publishes_a_snapshot_and_prints_the_summary(clean_run):
    """`orderhub run` loads the day, builds the marts, publishes the serving snapshot and prints the summary."""
    warehouse, result, truth = clean_run
    assert "Orders per channel" in result.stdout and "Top exceptions" in result.stdout
    assert "all batches balance" in result.stdout
    snapshot = warehouse.with_name("serving.duckdb")
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        orders = con.execute("select sum(orders) from fct_daily_channel_summary").fetchone()[0]
        meta = con.execute("select count(*), max(latest_order_at) from snapshot_meta").fetchone()
    finally:
        con.close()
    assert orders == truth["orders"]
    assert meta[0] == 1 and meta[1] is not None


def test_clean_run_plans_dispatch_within_rider_limits(clean_run):
    """The pipeline's dispatch asset planned rider trips for the latest waves with PyVRP and the greedy
    baseline: every stop is on time, no parcel is on two PyVRP trips, no trip exceeds its rider's
    capacity, cold parcels ride only with cold-box riders, and nothing is both routed and unassigned."""
    warehouse, *_ = clean_run
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        trips = con.execute("select solver, count(*) from dispatch.dispatch_routes group by 1").fetchall()
        late = con.execute("select count(*) from dispatch.dispatch_stops where not on_time").fetchone()[0]
        twice = con.execute(
            "select count(*) from (select parcel_id from dispatch.dispatch_stops where solver = 'pyvrp' "
            "group by 1 having count(*) > 1)"
        ).fetchone()[0]
        over_capacity = con.execute(
            "select count(*) from dispatch.dispatch_routes r join raw.riders d using (rider_id) "
            "where r.load_g > d.capacity_kg * 1000"
        ).fetchone()[0]
        cold_without_box = con.execute(
            "select count(*) from dispatch.dispatch_routes r join raw.riders d using (rider_id) "
            "where r.cold_ml > 0 and not d.cold_box"
        ).fetchone()[0]
        both = con.execute(
            "select count(*) from dispatch.dispatch_stops s join dispatch.dispatch_unassigned u "
            "using (solver, parcel_id)"
        ).fetchone()[0]
    finally:
        con.close()
    assert dict(trips).get("pyvrp", 0) > 0 and dict(trips).get("greedy", 0) > 0, trips
    assert (late, twice, over_capacity, cold_without_box, both) == (0, 0, 0, 0, 0)


@pytest.fixture(scope="module")
def kills_day(tmp_path_factory) -> Path:
    """A smaller day than the session's for the kill tests: where a batch is killed and what its rerun makes of
    it do not depend on the day's size, and each kill costs two runs (on the 5,000-order day, 80 s a kill)."""
    from simulator import simulate_day

    landing = tmp_path_factory.mktemp("kills") / "landing"
    simulate_day(dt.date(2026, 11, 26), orders=600, seed=29, out=landing)
    return landing


@pytest.fixture(scope="module")
def kills_clean_run(kills_day, tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("kills_clean") / "orderhub.duckdb"
    result = orderhub_run(kills_day, warehouse)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return warehouse


@pytest.mark.parametrize("crash_at", ["ingest.after_read", "ingest.before_commit", "serving.before_replace"])
def test_killed_run_then_rerun_equals_clean_run(kills_clean_run, kills_day, tmp_path, crash_at):
    """SIGKILL at a point inside the batch, rerun: the warehouse holds exactly the clean run's rows,
    and the snapshot is either absent or whole (never a half-written file in its place)."""
    warehouse = tmp_path / "orderhub.duckdb"
    snapshot = warehouse.with_name("serving.duckdb")

    killed = orderhub_run(kills_day, warehouse, crash_at=crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not snapshot.exists(), "a killed first run must not leave a snapshot in place"

    rerun = orderhub_run(kills_day, warehouse)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert fingerprint(warehouse) == fingerprint(kills_clean_run)
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        assert con.execute("select count(*) from snapshot_meta").fetchone()[0] == 1
    finally:
        con.close()
