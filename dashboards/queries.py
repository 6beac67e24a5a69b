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


# === Pages beyond the live page (issue 8) =====================================================================
#
# Each page reads one ``fetch_<page>(con, ...)`` on one short-lived connection, like the live page. Marts that
# other parts of the pipeline build later (reconciliation runs daily, dispatch only once it has planned) may
# be absent from a snapshot: each fetcher first asks which of its tables exist and returns ``missing`` instead
# of failing, so the page can say "no data yet".

LIST_LIMIT = 200  # rows in the long lists (exceptions, oversells, variance lines): bounded, newest or largest first

SNAPSHOT_TABLES = """
SELECT table_name
FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'main'
"""


def _present(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r["table_name"] for r in _rows(con, SNAPSHOT_TABLES)}


def _meta(con: duckdb.DuckDBPyConnection, present: set[str]) -> SnapshotMeta | None:
    if "snapshot_meta" not in present:
        return None
    rows = _rows(con, SNAPSHOT_META)
    return SnapshotMeta(**rows[0]) if rows else None


def _missing(present: set[str], required: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(table for table in required if table not in present)


# --- stock (inventory) ------------------------------------------------------------------------------------------

STOCK_TABLES = ("fct_stock_positions", "fct_oversell_events", "fct_channel_stock_feed")

STOCK_STORES = """
SELECT DISTINCT store_id FROM fct_stock_positions WHERE store_id IS NOT NULL ORDER BY store_id
"""

STOCK_TOTALS = f"""
SELECT
    count(*)::BIGINT                                            AS positions,
    count(*) FILTER (WHERE available_units <= 0)::BIGINT        AS out_of_stock_positions,
    count(*) FILTER (WHERE oversold_units > 0)::BIGINT          AS oversold_positions,
    coalesce(sum(oversold_units), 0)::BIGINT                    AS oversold_units,
    max(as_of) + {_TO_LOCAL}                                    AS as_of_local,
    (SELECT count(*) FROM fct_oversell_events
     WHERE resolved_at IS NULL AND ($store_id IS NULL OR store_id = $store_id))::BIGINT AS open_oversells
FROM fct_stock_positions
WHERE $store_id IS NULL OR store_id = $store_id
"""

# Per store: the whole picture on one line (all stores, whatever the filter: it is the overview).
STOCK_BY_STORE = """
WITH oversells AS (
    SELECT store_id, count(*) FILTER (WHERE resolved_at IS NULL) AS open_oversells
    FROM fct_oversell_events GROUP BY store_id
)
SELECT
    p.store_id,
    count(*)::BIGINT                                       AS positions,
    coalesce(sum(p.on_hand), 0)::BIGINT                    AS on_hand,
    coalesce(sum(p.reserved_units - p.released_units), 0)::BIGINT AS net_reserved,
    count(*) FILTER (WHERE p.available_units <= 0)::BIGINT AS out_of_stock_positions,
    count(*) FILTER (WHERE p.oversold_units > 0)::BIGINT   AS oversold_positions,
    coalesce(any_value(o.open_oversells), 0)::BIGINT       AS open_oversells
FROM fct_stock_positions AS p
LEFT JOIN oversells AS o USING (store_id)
GROUP BY p.store_id
ORDER BY p.store_id
"""

# Positions with nothing left to sell, most oversold first.
STOCK_SHORT_POSITIONS = f"""
SELECT store_id, sku_id, product_name, category, on_hand, reserved_units, released_units, available_units,
       oversold_units, last_movement_at + {_TO_LOCAL} AS last_movement_local
FROM fct_stock_positions
WHERE available_units <= 0 AND ($store_id IS NULL OR store_id = $store_id)
ORDER BY oversold_units DESC, available_units, store_id, sku_id
LIMIT $limit
"""

OVERSELL_EVENTS = f"""
SELECT ordered_at + {_TO_LOCAL} AS ordered_at_local, channel, store_id, sku_id, order_key, quantity,
       available_before, shortfall_units, resolved_at + {_TO_LOCAL} AS resolved_at_local
FROM fct_oversell_events
WHERE $store_id IS NULL OR store_id = $store_id
ORDER BY resolved_at IS NULL DESC, ordered_at DESC, oversell_id
LIMIT $limit
"""

# What each channel is told it may sell: listings, sold-out listings, units offered.
STOCK_FEED_BY_CHANNEL = """
WITH feed AS (
    SELECT * FROM fct_channel_stock_feed WHERE $store_id IS NULL OR store_id = $store_id
)
SELECT
    channel,
    any_value(allocation_mode)                           AS allocation_mode,
    max(allocation_share)                                AS allocation_share,
    count(*)::BIGINT                                     AS listings,
    count(*) FILTER (WHERE is_sold_out)::BIGINT          AS sold_out,
    coalesce(sum(channel_sellable_units), 0)::BIGINT     AS sellable_units
FROM feed
GROUP BY channel
ORDER BY list_position($known_channels::VARCHAR[], channel) NULLS LAST, channel
"""


@dataclass(frozen=True)
class StockData:
    """The stock page: totals (tiles), per-store overview, short positions, oversells, the channel feed."""

    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    stores: tuple[str, ...] = ()
    totals: Row | None = None
    by_store: tuple[Row, ...] = ()
    short_positions: tuple[Row, ...] = ()
    oversells: tuple[Row, ...] = ()
    feed: tuple[Row, ...] = ()


def fetch_stock(con: duckdb.DuckDBPyConnection, store_id: str | None = None) -> StockData:
    present = _present(con)
    meta, missing = _meta(con, present), _missing(present, STOCK_TABLES)
    if missing:
        return StockData(meta, missing)
    store = {"store_id": store_id}
    return StockData(
        meta=meta,
        missing=(),
        stores=tuple(r["store_id"] for r in _rows(con, STOCK_STORES)),
        totals=_rows(con, STOCK_TOTALS, store)[0],
        by_store=_rows(con, STOCK_BY_STORE),
        short_positions=_rows(con, STOCK_SHORT_POSITIONS, {**store, "limit": LIST_LIMIT}),
        oversells=_rows(con, OVERSELL_EVENTS, {**store, "limit": LIST_LIMIT}),
        feed=_rows(con, STOCK_FEED_BY_CHANNEL, {**store, "known_channels": list(KNOWN_CHANNELS)}),
    )


# --- parcels (merge savings) ----------------------------------------------------------------------------------

PARCEL_TABLES = ("fct_merge_savings_daily",)

_PARCEL_SUMS = """
    coalesce(sum(delivery_orders), 0)::BIGINT              AS delivery_orders,
    coalesce(sum(merged_orders), 0)::BIGINT                AS merged_orders,
    coalesce(sum(merge_groups_of_two_or_more), 0)::BIGINT  AS merge_groups_of_two_or_more,
    coalesce(sum(parcels_without_merge), 0)::BIGINT        AS parcels_without_merge,
    coalesce(sum(parcels_split_without_merge), 0)::BIGINT  AS parcels_split_without_merge,
    coalesce(sum(parcels_after_split), 0)::BIGINT          AS parcels_after_split,
    coalesce(sum(parcels_saved_by_merge), 0)::BIGINT       AS parcels_saved_by_merge,
    coalesce(sum(split_merge_groups), 0)::BIGINT           AS split_merge_groups,
    coalesce(sum(split_by_zone_merge_groups), 0)::BIGINT   AS split_by_zone_merge_groups,
    coalesce(sum(split_by_limits_merge_groups), 0)::BIGINT AS split_by_limits_merge_groups,
    coalesce(sum(oversize_parcels), 0)::BIGINT             AS oversize_parcels
"""

PARCEL_LATEST_DATE = "SELECT max(business_date) AS business_date FROM fct_merge_savings_daily"

PARCEL_DAY_TOTALS = f"SELECT {_PARCEL_SUMS} FROM fct_merge_savings_daily WHERE business_date = $business_date"

PARCEL_DAY_BY_STORE = f"""
SELECT store_id, {_PARCEL_SUMS}
FROM fct_merge_savings_daily
WHERE business_date = $business_date
GROUP BY store_id
ORDER BY store_id NULLS LAST
"""

PARCEL_TREND = f"""
SELECT business_date, {_PARCEL_SUMS}
FROM fct_merge_savings_daily
WHERE business_date > $business_date - to_days($days::INTEGER)
GROUP BY business_date
ORDER BY business_date
"""

TREND_DAYS = 14


@dataclass(frozen=True)
class ParcelData:
    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    business_date: date | None = None
    totals: Row | None = None
    by_store: tuple[Row, ...] = ()
    trend: tuple[Row, ...] = ()


def fetch_parcels(con: duckdb.DuckDBPyConnection) -> ParcelData:
    present = _present(con)
    meta, missing = _meta(con, present), _missing(present, PARCEL_TABLES)
    if missing:
        return ParcelData(meta, missing)
    business_date = _rows(con, PARCEL_LATEST_DATE)[0]["business_date"]
    if business_date is None:
        return ParcelData(meta, ())
    day = {"business_date": business_date}
    return ParcelData(
        meta=meta,
        missing=(),
        business_date=business_date,
        totals=_rows(con, PARCEL_DAY_TOTALS, day)[0],
        by_store=_rows(con, PARCEL_DAY_BY_STORE, day),
        trend=_rows(con, PARCEL_TREND, {**day, "days": TREND_DAYS}),
    )


# --- exceptions -------------------------------------------------------------------------------------------------

EXCEPTION_TABLES = ("fct_exceptions",)

# Open problems: the marts' open exceptions, plus the dispatch plan's (the latest plan's view of its day) when
# the snapshot has them. One query text per case: the dispatch table may be absent.
_OPEN_FROM_MARTS = f"""
SELECT exception_id, exception_type, severity, order_key, channel, store_id, raised_at + {_TO_LOCAL} AS raised_at_local,
       detail, action, 'orders' AS source
FROM fct_exceptions
WHERE resolved_at IS NULL
"""
_OPEN_FROM_DISPATCH = f"""
SELECT exception_id, exception_type, severity, order_key, channel, store_id, raised_at + {_TO_LOCAL} AS raised_at_local,
       detail, action, 'dispatch' AS source
FROM dispatch_exceptions
WHERE business_date = (SELECT max(business_date) FROM dispatch_exceptions)
"""


def _open_exceptions_sql(with_dispatch: bool) -> str:
    return _OPEN_FROM_MARTS + (f"UNION ALL {_OPEN_FROM_DISPATCH}" if with_dispatch else "")


def open_exception_counts_sql(with_dispatch: bool) -> str:
    return f"""
WITH open AS ({_open_exceptions_sql(with_dispatch)})
SELECT exception_type, action,
       count(*) FILTER (WHERE severity = 'high')::BIGINT   AS high,
       count(*) FILTER (WHERE severity = 'medium')::BIGINT AS medium,
       count(*) FILTER (WHERE severity NOT IN ('high', 'medium') OR severity IS NULL)::BIGINT AS other,
       count(*)::BIGINT AS open
FROM open
GROUP BY exception_type, action
ORDER BY open DESC, exception_type, action
"""


def open_exception_list_sql(with_dispatch: bool) -> str:
    return f"""
WITH open AS ({_open_exceptions_sql(with_dispatch)})
SELECT * FROM open
WHERE ($exception_type IS NULL OR exception_type = $exception_type)
  AND ($store_id IS NULL OR store_id = $store_id)
ORDER BY raised_at_local DESC NULLS LAST, exception_id
LIMIT $limit
"""


def open_exception_stores_sql(with_dispatch: bool) -> str:
    return f"""
WITH open AS ({_open_exceptions_sql(with_dispatch)})
SELECT DISTINCT store_id FROM open WHERE store_id IS NOT NULL ORDER BY store_id
"""


@dataclass(frozen=True)
class ExceptionData:
    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    counts: tuple[Row, ...] = ()
    rows: tuple[Row, ...] = ()
    stores: tuple[str, ...] = ()
    includes_dispatch: bool = False


def fetch_exceptions(
    con: duckdb.DuckDBPyConnection, exception_type: str | None = None, store_id: str | None = None
) -> ExceptionData:
    present = _present(con)
    meta, missing = _meta(con, present), _missing(present, EXCEPTION_TABLES)
    if missing:
        return ExceptionData(meta, missing)
    with_dispatch = "dispatch_exceptions" in present
    filters = {"exception_type": exception_type, "store_id": store_id, "limit": LIST_LIMIT}
    return ExceptionData(
        meta=meta,
        missing=(),
        counts=_rows(con, open_exception_counts_sql(with_dispatch)),
        rows=_rows(con, open_exception_list_sql(with_dispatch), filters),
        stores=tuple(r["store_id"] for r in _rows(con, open_exception_stores_sql(with_dispatch))),
        includes_dispatch=with_dispatch,
    )


# --- dispatch ---------------------------------------------------------------------------------------------------

DISPATCH_PAGE_TABLES = ("dispatch_routes", "dispatch_stops", "dispatch_unassigned")

DISPATCH_LATEST_DATE = """
SELECT max(business_date) AS business_date
FROM (SELECT business_date FROM dispatch_routes UNION ALL SELECT business_date FROM dispatch_unassigned)
"""

# Per solver for the day: what the plan achieves. The greedy plan is the baseline PyVRP is compared with.
DISPATCH_SOLVERS = """
WITH routes AS (
    SELECT solver, count(*) AS routes, sum(stops) AS stops, sum(distance_m) AS distance_m,
           sum(duration_s) AS duration_s
    FROM dispatch_routes WHERE business_date = $business_date GROUP BY solver
),
stops AS (
    SELECT solver, count(*) FILTER (WHERE on_time) AS on_time_stops, count(*) FILTER (WHERE NOT on_time) AS late_stops
    FROM dispatch_stops WHERE business_date = $business_date GROUP BY solver
),
unassigned AS (
    SELECT solver, count(*) AS unassigned FROM dispatch_unassigned WHERE business_date = $business_date GROUP BY solver
),
solvers AS (SELECT solver FROM routes UNION SELECT solver FROM unassigned)
SELECT
    s.solver,
    coalesce(r.routes, 0)::BIGINT        AS routes,
    coalesce(r.stops, 0)::BIGINT         AS stops,
    coalesce(r.distance_m, 0)::BIGINT    AS distance_m,
    coalesce(r.duration_s, 0)::BIGINT    AS duration_s,
    coalesce(st.on_time_stops, 0)::BIGINT AS on_time_stops,
    coalesce(st.late_stops, 0)::BIGINT   AS late_stops,
    coalesce(u.unassigned, 0)::BIGINT    AS unassigned
FROM solvers AS s
LEFT JOIN routes AS r USING (solver)
LEFT JOIN stops AS st USING (solver)
LEFT JOIN unassigned AS u USING (solver)
ORDER BY s.solver = 'pyvrp' DESC, s.solver
"""

DISPATCH_WAVES = f"""
SELECT DISTINCT wave_at + {_TO_LOCAL} AS wave_local
FROM dispatch_routes
WHERE business_date = $business_date AND solver = $solver
ORDER BY wave_local DESC
"""

DISPATCH_STORES = """
SELECT DISTINCT store_id FROM dispatch_routes WHERE business_date = $business_date AND store_id IS NOT NULL
UNION
SELECT DISTINCT store_id FROM dispatch_unassigned WHERE business_date = $business_date AND store_id IS NOT NULL
ORDER BY store_id
"""

_ROUTE_FILTER = f"""
    business_date = $business_date AND solver = $solver
    AND ($store_id IS NULL OR store_id = $store_id)
    AND ($wave_local IS NULL OR wave_at + {_TO_LOCAL} = $wave_local)
"""


def dispatch_routes_sql(with_riders: bool) -> str:
    rider = "rd.name AS rider_name, rd.vehicle AS vehicle" if with_riders else "NULL AS rider_name, NULL AS vehicle"
    join = (
        "LEFT JOIN (SELECT rider_id, any_value(name) AS name, any_value(vehicle) AS vehicle FROM riders "
        "GROUP BY rider_id) AS rd USING (rider_id)"
        if with_riders
        else ""
    )
    return f"""
WITH late AS (
    SELECT route_id, count(*) FILTER (WHERE NOT on_time) AS late_stops
    FROM dispatch_stops WHERE business_date = $business_date AND solver = $solver GROUP BY route_id
)
SELECT r.route_id, r.store_id, r.wave_at + {_TO_LOCAL} AS wave_local, r.rider_id, {rider},
       r.depart_at + {_TO_LOCAL} AS depart_local, r.return_at + {_TO_LOCAL} AS return_local, r.stops,
       r.distance_m, r.duration_s, r.load_g, r.cold_ml, coalesce(l.late_stops, 0)::BIGINT AS late_stops
FROM dispatch_routes AS r
LEFT JOIN late AS l USING (route_id)
{join}
WHERE r.business_date = $business_date AND r.solver = $solver
  AND ($store_id IS NULL OR r.store_id = $store_id)
  AND ($wave_local IS NULL OR r.wave_at + {_TO_LOCAL} = $wave_local)
ORDER BY r.wave_at DESC, r.store_id, r.route_id
"""


DISPATCH_STOPS = f"""
SELECT route_id, store_id, seq, parcel_id, lat, lng, arrival + {_TO_LOCAL} AS arrival_local,
       promised_to + {_TO_LOCAL} AS promised_local, on_time
FROM dispatch_stops
WHERE {_ROUTE_FILTER}
ORDER BY route_id, seq
"""

DISPATCH_UNASSIGNED = f"""
SELECT store_id, parcel_id, reason, ready_at + {_TO_LOCAL} AS ready_local, promised_to + {_TO_LOCAL} AS promised_local
FROM dispatch_unassigned
WHERE business_date = $business_date AND solver = $solver AND ($store_id IS NULL OR store_id = $store_id)
ORDER BY promised_to NULLS LAST, parcel_id
LIMIT $limit
"""

# Stores: one row per store (reference loads may repeat a store on every day they land).
STORE_LOCATIONS = """
SELECT store_id, any_value(name) AS name, avg(lat) AS lat, avg(lng) AS lng
FROM stores
WHERE lat IS NOT NULL AND lng IS NOT NULL
GROUP BY store_id
ORDER BY store_id
"""


@dataclass(frozen=True)
class DispatchData:
    """The dispatch page for one business day and solver (routes, their stops for the map, unassigned
    parcels), filtered to a store and a wave when asked. ``stores`` are the locations for the map."""

    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    business_date: date | None = None
    solvers: tuple[Row, ...] = ()
    waves: tuple[datetime, ...] = ()
    store_ids: tuple[str, ...] = ()
    routes: tuple[Row, ...] = ()
    stops: tuple[Row, ...] = ()
    unassigned: tuple[Row, ...] = ()
    stores: tuple[Row, ...] = ()


def fetch_dispatch(
    con: duckdb.DuckDBPyConnection,
    solver: str = "pyvrp",
    store_id: str | None = None,
    wave_local: datetime | None = None,
) -> DispatchData:
    present = _present(con)
    meta, missing = _meta(con, present), _missing(present, DISPATCH_PAGE_TABLES)
    if missing:
        return DispatchData(meta, missing)
    business_date = _rows(con, DISPATCH_LATEST_DATE)[0]["business_date"]
    if business_date is None:
        return DispatchData(meta, ())
    day = {"business_date": business_date}
    chosen = {**day, "solver": solver, "store_id": store_id, "wave_local": wave_local}
    return DispatchData(
        meta=meta,
        missing=(),
        business_date=business_date,
        solvers=_rows(con, DISPATCH_SOLVERS, day),
        waves=tuple(r["wave_local"] for r in _rows(con, DISPATCH_WAVES, {**day, "solver": solver})),
        store_ids=tuple(r["store_id"] for r in _rows(con, DISPATCH_STORES, day)),
        routes=_rows(con, dispatch_routes_sql("riders" in present), chosen),
        stops=_rows(con, DISPATCH_STOPS, chosen),
        unassigned=_rows(con, DISPATCH_UNASSIGNED, {**day, "solver": solver, "store_id": store_id,
                                                    "limit": LIST_LIMIT}),
        stores=_rows(con, STORE_LOCATIONS) if "stores" in present else (),
    )


# --- reconciliation (finance) -----------------------------------------------------------------------------------

RECON_TABLES = ("fct_reconciliation_daily", "fct_reconciliation_lines", "fct_settlement_t1")

SETTLEMENT_CHANNELS: tuple[str, ...] = ("meituan", "eleme", "wechatpay", "alipay", "pos", "groupbuy")

RECON_DATES = "SELECT DISTINCT recon_date FROM fct_reconciliation_daily ORDER BY recon_date DESC"

RECON_DAY = """
SELECT settlement_channel, day_status, statement_received, statement_files, statement_lines, items, matched,
       timing_differences, awaiting, variances, missing_settlements, unknown_orders, amount_mismatches,
       fee_mismatches, duplicate_settlements, unexpected_refunds, unexpected_settlements,
       tender_total_mismatches, unallocated_adjustments, settled_net, variance_amount, variance_abs_amount,
       cleared_amount, awaiting_amount
FROM fct_reconciliation_daily
WHERE recon_date = $recon_date
ORDER BY list_position($channels::VARCHAR[], settlement_channel) NULLS LAST, settlement_channel
"""

# The variances of the day, largest money at stake first (the serving snapshot keeps only variance lines).
RECON_VARIANCES = """
SELECT category, settlement_channel, sales_channel, order_key, channel_order_id, transaction_id, store_id,
       tender, account_id, business_date, statement_date, days_late, expected_net, net_amount, variance_amount,
       explanation, source_file, source_line
FROM fct_reconciliation_lines
WHERE recon_date = $recon_date AND recon_status = 'variance'
ORDER BY abs(variance_amount) DESC, settlement_channel, recon_line_id
LIMIT $limit
"""

SETTLEMENT_T1 = """
SELECT settlement_channel, payout_date, statement_files, payment_lines, refund_lines, other_lines, txn_count,
       gross_amount, refund_amount, fee_amount, net_amount, stated_net, totals_agree
FROM fct_settlement_t1
WHERE statement_date = $recon_date
ORDER BY list_position($channels::VARCHAR[], settlement_channel) NULLS LAST, settlement_channel
"""

RECON_TREND = """
SELECT recon_date, sum(variance_abs_amount)::DECIMAL(18, 2) AS variance_abs_amount, sum(variances)::BIGINT AS variances
FROM fct_reconciliation_daily
WHERE recon_date > $recon_date - to_days($days::INTEGER) AND recon_date <= $recon_date
GROUP BY recon_date
ORDER BY recon_date
"""


@dataclass(frozen=True)
class ReconData:
    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    dates: tuple[date, ...] = ()
    recon_date: date | None = None
    channels: tuple[Row, ...] = ()
    variances: tuple[Row, ...] = ()
    settlement: tuple[Row, ...] = ()
    trend: tuple[Row, ...] = ()


def fetch_reconciliation(con: duckdb.DuckDBPyConnection, recon_date: date | None = None) -> ReconData:
    present = _present(con)
    meta, missing = _meta(con, present), _missing(present, RECON_TABLES)
    if missing:
        return ReconData(meta, missing)
    dates = tuple(r["recon_date"] for r in _rows(con, RECON_DATES))
    if not dates:
        return ReconData(meta, ())
    day = recon_date if recon_date in dates else dates[0]
    params = {"recon_date": day, "channels": list(SETTLEMENT_CHANNELS)}
    return ReconData(
        meta=meta,
        missing=(),
        dates=dates,
        recon_date=day,
        channels=_rows(con, RECON_DAY, params),
        variances=_rows(con, RECON_VARIANCES, {"recon_date": day, "limit": LIST_LIMIT}),
        settlement=_rows(con, SETTLEMENT_T1, params),
        trend=_rows(con, RECON_TREND, {"recon_date": day, "days": TREND_DAYS}),
    )


# --- data quality -----------------------------------------------------------------------------------------------

QUALITY_TABLES = ("fct_ingest_accounting", "fct_quarantine_summary")

# Every batch ever loaded, per channel (reference-data loads included: their quality matters too).
QUALITY_BY_CHANNEL = """
SELECT
    channel,
    starts_with(channel, 'reference/')                            AS is_reference,
    count(*)::BIGINT                                              AS batches,
    coalesce(sum(landed), 0)::BIGINT                              AS landed,
    coalesce(sum(loaded), 0)::BIGINT                              AS loaded,
    coalesce(sum(quarantined), 0)::BIGINT                         AS quarantined,
    coalesce(sum(duplicate), 0)::BIGINT                           AS duplicate,
    count(*) FILTER (WHERE is_balanced IS NOT TRUE)::BIGINT       AS unbalanced_batches
FROM fct_ingest_accounting
GROUP BY channel
ORDER BY starts_with(channel, 'reference/'), list_position($known_channels::VARCHAR[], channel) NULLS LAST, channel
"""

QUALITY_RECENT_BATCHES = f"""
SELECT batch_id, channel, files, landed, loaded, quarantined, duplicate, is_balanced,
       started_at + {_TO_LOCAL} AS started_local,
       date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds
FROM fct_ingest_accounting
ORDER BY started_at DESC NULLS LAST, batch_id, channel
LIMIT $limit
"""

QUALITY_QUARANTINE = f"""
SELECT error_code, channel, records, first_at + {_TO_LOCAL} AS first_at_local, last_at + {_TO_LOCAL} AS last_at_local
FROM fct_quarantine_summary
ORDER BY records DESC, channel, error_code
"""


@dataclass(frozen=True)
class QualityData:
    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    by_channel: tuple[Row, ...] = ()
    recent_batches: tuple[Row, ...] = ()
    quarantine: tuple[Row, ...] = ()


def fetch_quality(con: duckdb.DuckDBPyConnection) -> QualityData:
    present = _present(con)
    meta, missing = _meta(con, present), _missing(present, QUALITY_TABLES)
    if missing:
        return QualityData(meta, missing)
    return QualityData(
        meta=meta,
        missing=(),
        by_channel=_rows(con, QUALITY_BY_CHANNEL, {"known_channels": list(KNOWN_CHANNELS)}),
        recent_batches=_rows(con, QUALITY_RECENT_BATCHES, {"limit": LIST_LIMIT}),
        quarantine=_rows(con, QUALITY_QUARANTINE),
    )


# --- running a page's fetcher -----------------------------------------------------------------------------------

PAGE_FETCHERS: dict[str, Any] = {
    "stock": fetch_stock,
    "parcels": fetch_parcels,
    "exceptions": fetch_exceptions,
    "dispatch": fetch_dispatch,
    "reconciliation": fetch_reconciliation,
    "quality": fetch_quality,
}


def read_page(path: Path, page: str, **params: Any) -> Any:
    """Open the snapshot at ``path`` read-only, run the page's fetcher with ``params``, close it."""
    fetch = PAGE_FETCHERS[page]
    with _READ_LOCK:
        con = duckdb.connect(str(path), read_only=True)
        try:
            return fetch(con, **params)
        finally:
            con.close()
