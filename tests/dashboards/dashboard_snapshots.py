"""Builds small serving snapshots with known rows and publishes them the way the pipeline does.

Business day 2026-11-26 (Asia/Shanghai). The default Snapshot's numbers, which the tests check:

- orders 500 (app 120, meituan 80, pos 300), cancelled 12 -> 2.4%, paid ¥1,242,346.14
  (4,567.80 + 3,210.45 + 1,234,567.89). The previous day (app, 999 orders) must not be counted.
- exceptions on the business day: 3. E1 at 2026-11-25 15:30 UTC is 23:30 the day before in Shanghai (not
  counted); E2 at 2026-11-25 16:30 UTC is 00:30 on the business day (counted), then E3, E4.
- ingest since the business day began, order channels: landed 509, loaded 500, quarantined 5, duplicate 4
  (batch b-prev, started the day before in Shanghai, is not counted; reference-data batch b-ref, 300 landed,
  299 loaded, 1 quarantined, is kept apart).
- top quarantine reason: bad_amount (pos, 12 records).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

SCHEMA = """
CREATE TABLE fct_channel_kpis_hourly(business_date DATE, hour_start_local TIMESTAMP, channel VARCHAR,
    orders BIGINT, cancelled_orders BIGINT, delivery_orders BIGINT, goods_amount DECIMAL(18,2),
    paid_amount DECIMAL(18,2), avg_order_value DECIMAL(18,2));
CREATE TABLE fct_channel_orders_minutely(business_date DATE, minute_local TIMESTAMP, channel VARCHAR,
    orders BIGINT);
CREATE TABLE fct_daily_channel_summary(business_date DATE, channel VARCHAR, orders BIGINT,
    cancelled_orders BIGINT, paid_amount DECIMAL(18,2), delivery_orders BIGINT, self_pickup_orders BIGINT,
    in_store_orders BIGINT);
CREATE TABLE fct_ingest_accounting(batch_id VARCHAR, channel VARCHAR, files INTEGER, landed BIGINT,
    loaded BIGINT, quarantined BIGINT, duplicate BIGINT, started_at TIMESTAMP, finished_at TIMESTAMP,
    is_balanced BOOLEAN);
CREATE TABLE fct_quarantine_summary(channel VARCHAR, error_code VARCHAR, records BIGINT,
    first_at TIMESTAMP, last_at TIMESTAMP);
CREATE TABLE fct_exceptions(exception_id VARCHAR, exception_type VARCHAR, severity VARCHAR,
    order_key VARCHAR, channel VARCHAR, store_id VARCHAR, raised_at TIMESTAMP, detail VARCHAR,
    action VARCHAR);
CREATE TABLE snapshot_meta(published_at TIMESTAMP, latest_order_at TIMESTAMP, run_id VARCHAR);
"""

DAY = "2026-11-26"
PREV_DAY = "2026-11-25"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Snapshot:
    """The rows of one snapshot; tests tweak a copy and publish it."""

    daily: list[tuple] = field(
        default_factory=lambda: [
            (DAY, "app", 120, 6, "4567.80", 100, 20, 0),
            (DAY, "meituan", 80, 4, "3210.45", 80, 0, 0),
            (DAY, "pos", 300, 2, "1234567.89", 0, 0, 300),
            (PREV_DAY, "app", 999, 99, "99999.99", 999, 0, 0),
        ]
    )
    hourly: list[tuple] = field(
        default_factory=lambda: [
            (DAY, f"{DAY} 09:00:00", "app", 50, 2, 40, "2000.00", "1900.00", "38.00"),
            (DAY, f"{DAY} 10:00:00", "app", 70, 4, 60, "2800.00", "2667.80", "38.11"),
            (DAY, f"{DAY} 10:00:00", "meituan", 80, 4, 80, "3300.00", "3210.45", "40.13"),
            (DAY, f"{DAY} 10:00:00", "pos", 300, 2, 0, "1234567.89", "1234567.89", "4115.23"),
        ]
    )
    minutely: list[tuple] = field(
        default_factory=lambda: [
            (DAY, f"{DAY} 10:58:00", "app", 3),
            (DAY, f"{DAY} 10:59:00", "app", 4),
            (DAY, f"{DAY} 10:59:00", "meituan", 2),
        ]
    )
    ingest: list[tuple] = field(
        default_factory=lambda: [
            ("b-app", "app", 2, 125, 120, 3, 2, "2026-11-26 01:00:00", "2026-11-26 01:00:05", True),
            ("b-mt", "meituan", 1, 84, 80, 2, 2, "2026-11-26 01:01:00", "2026-11-26 01:01:03", True),
            ("b-pos", "pos", 1, 300, 300, 0, 0, "2026-11-26 02:00:00", "2026-11-26 02:00:09", True),
            ("b-prev", "app", 9, 1000, 990, 10, 0, "2026-11-25 10:00:00", "2026-11-25 10:00:30", True),
            ("b-ref", "reference/products", 1, 300, 299, 1, 0, "2026-11-26 00:30:00", "2026-11-26 00:30:01",
             True),
        ]
    )
    quarantine: list[tuple] = field(
        default_factory=lambda: [
            ("meituan", "bad_json", 7, "2026-11-26 01:01:00", "2026-11-26 02:10:00"),
            ("app", "missing_field", 3, "2026-11-26 01:00:00", "2026-11-26 01:00:00"),
            ("pos", "bad_amount", 12, "2026-11-25 10:00:00", "2026-11-26 02:00:00"),
        ]
    )
    exceptions: list[tuple] = field(
        default_factory=lambda: [
            ("E1", "late_risk", "high", "meituan:9001", "meituan", "SH001", "2026-11-25 15:30:00",
             "promised 23:45", "expedite_dispatch"),
            ("E2", "bad_address", "medium", "app:APP2026112600007", "app", "SH002", "2026-11-25 16:30:00",
             "address not geocoded", "contact_customer"),
            ("E3", "payment_missing", "high", "eleme:5001", "eleme", "SH001", "2026-11-26 02:00:00",
             "no payment after 15 min", "manual_review"),
            ("E4", "late_risk", "low", "app:APP2026112600042", "app", "SH003", "2026-11-26 03:15:00",
             "rider shortage", "expedite_dispatch"),
        ]
    )
    published_at: datetime | None = None  # None: a few seconds before the snapshot is written
    latest_order_at: datetime = datetime(2026, 11, 26, 2, 59, 30)
    run_id: str = "run-001"


def write_snapshot(path: Path, snap: Snapshot) -> None:
    """Write ``snap`` as a DuckDB file at ``path`` (replacing nothing: ``path`` must not exist)."""
    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA)
        tables = {
            "fct_daily_channel_summary": snap.daily,
            "fct_channel_kpis_hourly": snap.hourly,
            "fct_channel_orders_minutely": snap.minutely,
            "fct_ingest_accounting": snap.ingest,
            "fct_quarantine_summary": snap.quarantine,
            "fct_exceptions": snap.exceptions,
        }
        for table, rows in tables.items():
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        published_at = snap.published_at or utc_now() - timedelta(seconds=3)
        con.execute(
            "INSERT INTO snapshot_meta VALUES (?, ?, ?)", [published_at, snap.latest_order_at, snap.run_id]
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()


def publish(path: Path, snap: Snapshot) -> None:
    """Publish like the pipeline: write a temporary file beside ``path``, then ``os.replace`` it in."""
    tmp = path.with_name(f".{path.name}.tmp")
    if tmp.exists():
        tmp.unlink()
    write_snapshot(tmp, snap)
    os.replace(tmp, path)


