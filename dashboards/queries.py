"""Every SQL statement the dashboards run, and the functions that run them against the serving snapshot.

The serving snapshot is a DuckDB file that the pipeline publishes atomically (temporary file, then
``os.replace``). We open it read-only, run the page's queries on that one short-lived connection (so every
tile and table on a page comes from the same published snapshot) and close it again. No Streamlit here:
caching lives in :mod:`dashboards.snapshot`.

Times in the snapshot are naive. Columns named ``*_local`` are Asia/Shanghai wall time; all others are UTC.
Asia/Shanghai has been UTC+8 all year round since 1991, so a fixed offset converts exactly, without needing
DuckDB's ICU time-zone extension.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

# The six sales channels, in the order the dashboards list them. Channels found in the data but not listed
# here are shown after these.
KNOWN_CHANNELS: tuple[str, ...] = ("app", "miniprogram", "meituan", "eleme", "pos", "groupbuy")

# UTC -> Asia/Shanghai wall time (see the module docstring).
_TO_LOCAL = "INTERVAL 8 HOUR"

NEWEST_EXCEPTIONS_LIMIT = 20
TOP_QUARANTINE_LIMIT = 10
RECENT_MINUTES = 60

Row = dict[str, Any]

SNAPSHOT_META = """
SELECT published_at, latest_order_at, run_id
FROM snapshot_meta
ORDER BY published_at DESC NULLS LAST
LIMIT 1
"""

LATEST_BUSINESS_DATE = """
SELECT max(business_date) AS business_date
FROM (
    SELECT business_date FROM fct_daily_channel_summary
    UNION ALL
    SELECT business_date FROM fct_channel_kpis_hourly
)
"""

# One row per channel: every known channel (zeros when it has no orders: a silent channel is news to
# operations), then any other channel that has rows that day.
CHANNEL_DAY_SUMMARY = """
WITH day AS (
    SELECT * FROM fct_daily_channel_summary WHERE business_date = $business_date
),
channels AS (
    SELECT unnest($known_channels::VARCHAR[]) AS channel
    UNION
    SELECT channel FROM day
)
SELECT
    c.channel,
    coalesce(sum(d.orders), 0)::BIGINT              AS orders,
    coalesce(sum(d.paid_amount), 0)::DECIMAL(38, 2) AS paid_amount,
    coalesce(sum(d.cancelled_orders), 0)::BIGINT    AS cancelled_orders,
    coalesce(sum(d.delivery_orders), 0)::BIGINT     AS delivery_orders,
    coalesce(sum(d.self_pickup_orders), 0)::BIGINT  AS self_pickup_orders,
    coalesce(sum(d.in_store_orders), 0)::BIGINT     AS in_store_orders
FROM channels AS c
LEFT JOIN day AS d USING (channel)
GROUP BY c.channel
ORDER BY list_position($known_channels::VARCHAR[], c.channel) NULLS LAST, c.channel
"""

HOURLY_ORDERS = """
SELECT hour_start_local, channel, sum(orders)::BIGINT AS orders
FROM fct_channel_kpis_hourly
WHERE business_date = $business_date
GROUP BY hour_start_local, channel
ORDER BY hour_start_local, channel
"""

# The last N minutes that have data on the business day (anchored on the newest minute in the snapshot, not
# on the wall clock, so a replayed or delayed day still shows its tail).
RECENT_MINUTELY_ORDERS = """
WITH day AS (
    SELECT * FROM fct_channel_orders_minutely WHERE business_date = $business_date
)
SELECT minute_local, channel, sum(orders)::BIGINT AS orders
FROM day
WHERE minute_local > (SELECT max(minute_local) FROM day) - to_minutes($minutes::BIGINT)
GROUP BY minute_local, channel
ORDER BY minute_local, channel
"""

# Exceptions raised since the business day began (raised_at is UTC; the business day is Asia/Shanghai).
DAY_EXCEPTION_COUNT = f"""
SELECT count(*) AS exceptions
FROM fct_exceptions
WHERE raised_at + {_TO_LOCAL} >= $business_date::TIMESTAMP
"""

# Ingest batches started since the business day began (started_at is UTC, the wall-clock time of the load;
# "since" rather than "on", so a day replayed later still shows its batches). The pipeline also books
# reference-data loads here, as channel 'reference/<table>': they are flagged, so the page can keep them
# apart from the order channels. A batch counts as unbalanced unless the pipeline marked it balanced
# (landed = loaded + quarantined + duplicate); an unknown (NULL) flag is not taken as balanced.
INGEST_BY_CHANNEL = f"""
WITH day AS (
    SELECT * FROM fct_ingest_accounting
    WHERE started_at + {_TO_LOCAL} >= $business_date::TIMESTAMP
),
channels AS (
    SELECT unnest($known_channels::VARCHAR[]) AS channel
    UNION
    SELECT channel FROM day
)
SELECT
    c.channel,
    starts_with(c.channel, 'reference/')                            AS is_reference,
    count(d.batch_id)::BIGINT                                       AS batches,
    coalesce(sum(d.files), 0)::BIGINT                               AS files,
    coalesce(sum(d.landed), 0)::BIGINT                              AS landed,
    coalesce(sum(d.loaded), 0)::BIGINT                              AS loaded,
    coalesce(sum(d.quarantined), 0)::BIGINT                         AS quarantined,
    coalesce(sum(d.duplicate), 0)::BIGINT                           AS duplicate,
    count(d.batch_id) FILTER (WHERE d.is_balanced IS NOT TRUE)::BIGINT AS unbalanced_batches
FROM channels AS c
LEFT JOIN day AS d USING (channel)
GROUP BY c.channel
ORDER BY list_position($known_channels::VARCHAR[], c.channel) NULLS LAST, c.channel
"""

TOP_QUARANTINE_REASONS = f"""
SELECT
    error_code,
    channel,
    records,
    first_at + {_TO_LOCAL} AS first_at_local,
    last_at + {_TO_LOCAL}  AS last_at_local
FROM fct_quarantine_summary
ORDER BY records DESC, last_at DESC NULLS LAST, channel, error_code
LIMIT $limit
"""

NEWEST_EXCEPTIONS = f"""
SELECT
    raised_at + {_TO_LOCAL} AS raised_at_local,
    exception_type,
    severity,
    channel,
    store_id,
    order_key,
    action,
    detail,
    exception_id
FROM fct_exceptions
ORDER BY raised_at DESC NULLS LAST, exception_id
LIMIT $limit
"""


@dataclass(frozen=True)
class SnapshotMeta:
    """The snapshot's own row in ``snapshot_meta`` (times are UTC)."""

    published_at: datetime | None
    latest_order_at: datetime | None
    run_id: str | None


@dataclass(frozen=True)
class DayTotals:
    """The business day's headline numbers (the metric tiles).

    The ingest counts cover the order channels; ``unbalanced_batches`` counts reference-data batches too.
    """

    orders: int
    cancelled_orders: int
    paid_amount: Decimal
    exceptions: int
    landed: int
    loaded: int
    quarantined: int
    duplicate: int
    unbalanced_batches: int


@dataclass(frozen=True)
class LiveData:
    """Everything the live operations page shows, read from one snapshot on one connection.

    ``business_date`` is None (and the day-level fields are empty) when the snapshot holds no orders yet.
    Rows are dicts keyed by the SQL column names; money is ``Decimal``, ``*_local`` times are Shanghai time.
    ``ingest_by_channel`` and the ingest totals cover the order channels; ``reference_ingest`` sums the
    reference-data batches (None when there were none).
    """

    meta: SnapshotMeta | None
    business_date: date | None
    totals: DayTotals | None
    channels: tuple[Row, ...]
    hourly: tuple[Row, ...]
    recent_minutely: tuple[Row, ...]
    ingest_by_channel: tuple[Row, ...]
    reference_ingest: Row | None
    top_quarantine: tuple[Row, ...]
    newest_exceptions: tuple[Row, ...]


# DuckDB keeps one database instance per file path per process and hands it to every new connection while
# any connection to that path is still open. A reader that connects while another session's read is in
# flight would therefore see the *previous* snapshot even after os.replace published a new one (and cache it
# under the new file's key). Serialising the short reads makes every connection open the file that is
# published at that moment.
_READ_LOCK = threading.Lock()


def read_live(path: Path) -> LiveData:
    """Open the snapshot at ``path`` read-only, read the live page's data, close it."""
    with _READ_LOCK:
        con = duckdb.connect(str(path), read_only=True)
        try:
            return fetch_live(con)
        finally:
            con.close()


def fetch_live(con: duckdb.DuckDBPyConnection) -> LiveData:
    """Run the live page's queries on an open connection to a serving snapshot."""
    meta_rows = _rows(con, SNAPSHOT_META)
    meta = SnapshotMeta(**meta_rows[0]) if meta_rows else None

    business_date = _rows(con, LATEST_BUSINESS_DATE)[0]["business_date"]
    newest_exceptions = _rows(con, NEWEST_EXCEPTIONS, {"limit": NEWEST_EXCEPTIONS_LIMIT})
    top_quarantine = _rows(con, TOP_QUARANTINE_REASONS, {"limit": TOP_QUARANTINE_LIMIT})
    if business_date is None:
        return LiveData(meta, None, None, (), (), (), (), None, top_quarantine, newest_exceptions)

    day = {"business_date": business_date}
    with_channels = {**day, "known_channels": list(KNOWN_CHANNELS)}
    channels = _rows(con, CHANNEL_DAY_SUMMARY, with_channels)
    ingest_rows = _rows(con, INGEST_BY_CHANNEL, with_channels)
    ingest = tuple(r for r in ingest_rows if not r["is_reference"])
    reference = tuple(r for r in ingest_rows if r["is_reference"])
    exceptions = _rows(con, DAY_EXCEPTION_COUNT, day)[0]["exceptions"]
    totals = DayTotals(
        orders=sum(r["orders"] for r in channels),
        cancelled_orders=sum(r["cancelled_orders"] for r in channels),
        paid_amount=sum((r["paid_amount"] for r in channels), Decimal("0.00")),
        exceptions=exceptions,
        landed=sum(r["landed"] for r in ingest),
        loaded=sum(r["loaded"] for r in ingest),
        quarantined=sum(r["quarantined"] for r in ingest),
        duplicate=sum(r["duplicate"] for r in ingest),
        unbalanced_batches=sum(r["unbalanced_batches"] for r in ingest_rows),
    )
    return LiveData(
        meta=meta,
        business_date=business_date,
        totals=totals,
        channels=channels,
        hourly=_rows(con, HOURLY_ORDERS, day),
        recent_minutely=_rows(con, RECENT_MINUTELY_ORDERS, {**day, "minutes": RECENT_MINUTES}),
        ingest_by_channel=ingest,
        reference_ingest=_sum_ingest(reference),
        top_quarantine=top_quarantine,
        newest_exceptions=newest_exceptions,
    )


def _sum_ingest(rows: tuple[Row, ...]) -> Row | None:
    """Landed/loaded/quarantined/duplicate/batches summed over ``rows``; None when no batch ran."""
    if not any(r["batches"] for r in rows):
        return None
    keys = ("batches", "landed", "loaded", "quarantined", "duplicate", "unbalanced_batches")
    return {key: sum(r[key] for r in rows) for key in keys}


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None
) -> tuple[Row, ...]:
    cursor = con.execute(sql, dict(params) if params else None)
    names = [column[0] for column in cursor.description]
    return tuple(dict(zip(names, values, strict=True)) for values in cursor.fetchall())
