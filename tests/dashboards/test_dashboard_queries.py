"""dashboards.queries against a snapshot with known rows (no Streamlit involved)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
from dashboard_snapshots import DAY, Snapshot, publish, write_snapshot

from dashboards import queries
from dashboards.queries.live import DayTotals
from dashboards.queries.reader import KNOWN_CHANNELS


def test_day_totals(serving: Path):
    """The tiles' numbers are the latest business day only, money exact, and the exception count uses the
    Shanghai day (E2 at 16:30 UTC the day before counts, E1 at 15:30 UTC does not)."""
    data = queries.read_live(serving)
    assert data.business_date == date(2026, 11, 26)
    assert data.totals == DayTotals(
        orders=500,
        cancelled_orders=12,
        paid_amount=Decimal("1242346.14"),
        exceptions=3,
        landed=509,
        loaded=500,
        quarantined=5,
        duplicate=4,
        unbalanced_batches=0,
    )


def test_channel_rows_list_every_channel_in_fixed_order(serving: Path):
    """All six channels appear in a fixed order (rows do not jump between refreshes), silent ones with
    zeros, and a channel not in the known list still shows, after them."""
    snap = Snapshot()
    snap.daily.append((DAY, "douyin", 5, 0, "50.00", 5, 0, 0))
    publish(serving, snap)
    rows = queries.read_live(serving).channels
    assert [r["channel"] for r in rows] == [*KNOWN_CHANNELS, "douyin"]
    eleme = rows[3]
    assert eleme == {
        "channel": "eleme",
        "orders": 0,
        "paid_amount": Decimal("0.00"),
        "cancelled_orders": 0,
        "delivery_orders": 0,
        "self_pickup_orders": 0,
        "in_store_orders": 0,
    }
    assert rows[0]["self_pickup_orders"] == 20 and rows[4]["in_store_orders"] == 300


def test_ingest_rows_per_channel_and_unbalanced_batches(serving: Path):
    """Loaded/quarantined per order channel come from batches started since the business day began; an
    unbalanced batch (or one whose flag is unknown) is counted, in reference data too."""
    snap = Snapshot()
    snap.ingest.append(("b-bad", "eleme", 1, 10, 7, 1, 0, "2026-11-26 04:00:00", None, False))
    snap.ingest.append(("b-null", "eleme", 1, 1, 1, 0, 0, "2026-11-26 04:10:00", None, None))
    snap.ingest.append(("b-ref2", "reference/stores", 1, 5, 4, 0, 0, "2026-11-26 04:20:00", None, False))
    publish(serving, snap)
    data = queries.read_live(serving)
    by_channel = {r["channel"]: r for r in data.ingest_by_channel}
    assert by_channel["app"]["landed"] == 125 and by_channel["app"]["loaded"] == 120  # b-prev excluded
    assert by_channel["eleme"]["batches"] == 2 and by_channel["eleme"]["unbalanced_batches"] == 2
    assert data.totals.unbalanced_batches == 3


def test_reference_batches_are_kept_apart_from_order_channels(serving: Path):
    """Reference-data loads (channel 'reference/...') are neither a row of the per-channel table nor part
    of the loaded/quarantined tiles; they are summed separately."""
    data = queries.read_live(serving)
    assert [r["channel"] for r in data.ingest_by_channel] == list(KNOWN_CHANNELS)
    assert (data.totals.landed, data.totals.loaded, data.totals.quarantined) == (509, 500, 5)
    assert data.reference_ingest == {
        "batches": 1,
        "landed": 300,
        "loaded": 299,
        "quarantined": 1,
        "duplicate": 0,
        "unbalanced_batches": 0,
    }


def test_replayed_day_counts_batches_loaded_after_it(serving: Path):
    """A business day replayed later (batches started after the day) still shows its ingest counts."""
    snap = Snapshot()
    snap.ingest.append(("b-replay", "pos", 1, 40, 39, 1, 0, "2026-11-29 08:00:00", None, True))
    publish(serving, snap)
    totals = queries.read_live(serving).totals
    assert (totals.landed, totals.loaded, totals.quarantined) == (549, 539, 6)


def test_lists_are_newest_or_largest_first_in_shanghai_time(serving: Path):
    """Exceptions come newest first and quarantine reasons largest first, with UTC shown as Shanghai time."""
    data = queries.read_live(serving)
    assert [r["exception_id"] for r in data.newest_exceptions] == ["E4", "E3", "E2", "E1"]
    assert data.newest_exceptions[0]["raised_at_local"] == datetime(2026, 11, 26, 11, 15)
    top = data.top_quarantine[0]
    assert (top["error_code"], top["channel"], top["records"]) == ("bad_amount", "pos", 12)
    assert top["last_at_local"] == datetime(2026, 11, 26, 10, 0)


def test_hourly_and_recent_minutes(serving: Path):
    """Hourly rows are the business day's; the recent series keeps the last 60 minutes of data only."""
    snap = Snapshot()
    snap.minutely += [(DAY, f"{DAY} 09:59:00", "pos", 9), (DAY, f"{DAY} 10:00:00", "pos", 8)]
    publish(serving, snap)
    data = queries.read_live(serving)
    assert len(data.hourly) == 4 and data.hourly[0]["hour_start_local"] == datetime(2026, 11, 26, 9)
    minutes = {(r["minute_local"].strftime("%H:%M"), r["channel"]) for r in data.recent_minutely}
    assert ("10:00", "pos") in minutes and ("09:59", "pos") not in minutes
    assert ("10:59", "meituan") in minutes


def test_meta(serving: Path):
    """snapshot_meta's single row is returned as is (UTC)."""
    meta = queries.read_live(serving).meta
    assert meta.run_id == "run-001" and meta.latest_order_at == datetime(2026, 11, 26, 2, 59, 30)


def test_snapshot_without_orders(tmp_path: Path):
    """A freshly built, still empty snapshot reads without error and reports no business day."""
    path = tmp_path / "empty.duckdb"
    write_snapshot(path, replace(Snapshot(), daily=[], hourly=[], minutely=[], ingest=[], exceptions=[]))
    data = queries.read_live(path)
    assert data.business_date is None and data.totals is None and data.channels == ()
    assert len(data.top_quarantine) == 3  # still shown: it is not per day


def test_read_started_during_another_read_sees_the_new_publish(serving: Path, monkeypatch):
    """Reads are serialised, so a read that starts while another session's read still has the old file
    open gets the newly published snapshot (DuckDB would otherwise hand it the old, still-open database)."""
    inside, release = threading.Event(), threading.Event()
    real_fetch = queries.fetch_live
    calls = 0

    def first_call_waits(con: duckdb.DuckDBPyConnection) -> queries.LiveData:
        nonlocal calls
        calls += 1
        if calls == 1:
            inside.set()
            release.wait(5)
        return real_fetch(con)

    monkeypatch.setattr(queries, "fetch_live", first_call_waits)
    results: dict[str, queries.LiveData] = {}
    reader_a = threading.Thread(target=lambda: results.__setitem__("a", queries.read_live(serving)))
    reader_a.start()
    assert inside.wait(5)
    publish(serving, Snapshot(run_id="run-002"))
    reader_b = threading.Thread(target=lambda: results.__setitem__("b", queries.read_live(serving)))
    reader_b.start()
    reader_b.join(0.5)  # an unserialised reader finishes here, on the old database
    release.set()
    reader_a.join(5)
    reader_b.join(5)
    assert results["a"].meta.run_id == "run-001"
    assert results["b"].meta.run_id == "run-002"


def test_exceptions_without_a_dispatch_plan(serving: Path):
    """Before dispatch has planned, the exceptions page reads the marts' open exceptions alone."""
    publish(serving, Snapshot(omit=("dispatch_exceptions",)))
    data = queries.read_page(serving, "exceptions")
    assert not data.includes_dispatch
    assert [r["exception_id"] for r in data.rows] == ["E4", "E3", "E2"]
    assert sum(r["open"] for r in data.counts) == 3


def test_dispatch_reads_one_day_one_solver(serving: Path):
    """The dispatch data is the latest planned day's: the stops of the chosen solver only, in route and stop
    order; a store filter also narrows the parcels not dispatched."""
    data = queries.read_page(serving, "dispatch", solver="greedy", store_id="SH001")
    assert data.business_date == date(2026, 11, 26)
    assert [(s["route_id"], s["seq"]) for s in data.stops] == [
        ("greedy/SH001/1000/R1", 1),
        ("greedy/SH001/1000/R1", 2),
        ("greedy/SH001/1030/R2", 1),
    ]
    assert [u["parcel_id"] for u in data.unassigned] == ["P8"]
    assert data.waves == (datetime(2026, 11, 26, 10, 30), datetime(2026, 11, 26, 10, 0))


def test_meta_carries_what_failed_in_a_run_that_refreshed_everything(tmp_path: Path):
    """A run that failed an ERROR check after its marts were built publishes with its failure in run_problems,
    nothing stale: the pages read it to say the run failed and why."""
    path = tmp_path / "serving.duckdb"
    write_snapshot(path, Snapshot())
    con = duckdb.connect(str(path))
    try:
        con.execute("ALTER TABLE snapshot_meta ADD COLUMN run_problems VARCHAR")
        con.execute("UPDATE snapshot_meta SET run_problems = 'check orders_batch_quality on raw/orders failed: …'")
    finally:
        con.close()
    meta = queries.read_live(path).meta
    assert meta.stale_parts == () and meta.run_problems.startswith("check orders_batch_quality")
