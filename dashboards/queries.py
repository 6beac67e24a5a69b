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
from datetime import date, datetime, timedelta
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

# SELECT *: snapshots published before issue 11 have no as_of / pipeline columns (read as None).
SNAPSHOT_META = """
SELECT *
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
# reference-data loads here, as channel 'reference/<table>', and settlement statements as
# 'settlement/<provider>': they are flagged, so the page can keep them apart from the order channels.
# A batch counts as unbalanced unless the pipeline marked it balanced
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
    starts_with(c.channel, 'settlement/')                           AS is_settlement,
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


STALE_PARTS = """
SELECT part, as_of, run_id, problem FROM serving_status WHERE is_stale ORDER BY part
"""


@dataclass(frozen=True)
class StalePart:
    """A part of the snapshot (marts, dispatch) the run it was published for did not refresh (times UTC)."""

    part: str
    as_of: datetime | None
    run_id: str | None
    problem: str | None


@dataclass(frozen=True)
class SnapshotMeta:
    """The snapshot's own row in ``snapshot_meta`` (times are UTC); ``as_of`` is the run's clock, the "now" its
    late risk and dispatch were judged at; ``stale_parts`` what a failed step left as of an earlier run."""

    published_at: datetime | None
    latest_order_at: datetime | None
    run_id: str | None
    as_of: datetime | None = None
    stale_parts: tuple[StalePart, ...] = ()
    run_problems: str | None = None  # what failed in the run it was published for, even with nothing stale

    @property
    def now(self) -> datetime | None:
        return self.as_of or self.latest_order_at


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
class Headline:
    """The big-screen tiles beyond the day's totals (issue 8), for the business day.

    Parcel figures are None when the snapshot has no ``fct_merge_savings_daily`` row for the day; fulfilment
    figures None when it has no ``fulfilment_daily`` table (snapshots published before issue 8).
    ``due_orders``: delivery orders with a promised time, not cancelled, whose promise has passed by the data's
    now or that were delivered already; ``on_time_orders`` of those delivered by their promise.
    ``exception_orders``: distinct orders with an exception raised since the business day began.
    """

    parcels: int | None
    parcels_without_merge: int | None
    parcels_saved_by_merge: int | None
    due_orders: int | None
    on_time_orders: int | None
    late_delivered_orders: int | None
    overdue_orders: int | None
    exception_orders: int
    open_exception_orders: int


@dataclass(frozen=True)
class LiveMap:
    """The live page's map: the PyVRP plan's routes that are out or still to leave at the data's now (else
    the latest wave's), their stops, every store, and ``now_local`` (Shanghai time) for the riders' planned
    positions."""

    business_date: date | None
    now_local: datetime | None
    routes: tuple[Row, ...] = ()
    stops: tuple[Row, ...] = ()
    stores: tuple[Row, ...] = ()


@dataclass(frozen=True)
class LiveData:
    """Everything the live operations page shows, read from one snapshot on one connection.

    ``business_date`` is None (and the day-level fields are empty) when the snapshot holds no orders yet.
    Rows are dicts keyed by the SQL column names; money is ``Decimal``, ``*_local`` times are Shanghai time.
    ``ingest_by_channel`` and the ingest totals cover the order channels; ``reference_ingest`` sums the
    reference-data batches and ``settlement_ingest`` the settlement statements' (None when there were none).
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
    headline: Headline | None = None
    live_map: LiveMap | None = None
    settlement_ingest: Row | None = None


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
    meta = _meta(con, _present(con))

    business_date = _rows(con, LATEST_BUSINESS_DATE)[0]["business_date"]
    newest_exceptions = _rows(con, NEWEST_EXCEPTIONS, {"limit": NEWEST_EXCEPTIONS_LIMIT})
    top_quarantine = _rows(con, TOP_QUARANTINE_REASONS, {"limit": TOP_QUARANTINE_LIMIT})
    if business_date is None:
        return LiveData(meta, None, None, (), (), (), (), None, top_quarantine, newest_exceptions)

    day = {"business_date": business_date}
    with_channels = {**day, "known_channels": list(KNOWN_CHANNELS)}
    channels = _rows(con, CHANNEL_DAY_SUMMARY, with_channels)
    ingest_rows = _rows(con, INGEST_BY_CHANNEL, with_channels)
    ingest = tuple(r for r in ingest_rows if not r["is_reference"] and not r["is_settlement"])
    reference = tuple(r for r in ingest_rows if r["is_reference"])
    settlement = tuple(r for r in ingest_rows if r["is_settlement"])
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
    present = _present(con)
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
        settlement_ingest=_sum_ingest(settlement),
        headline=_headline(con, present, business_date),
        live_map=_live_map(con, present, meta),
    )


def _sum_ingest(rows: tuple[Row, ...]) -> Row | None:
    """Landed/loaded/quarantined/duplicate/batches summed over ``rows``; None when no batch ran."""
    if not any(r["batches"] for r in rows):
        return None
    keys = ("batches", "landed", "loaded", "quarantined", "duplicate", "unbalanced_batches")
    return {key: sum(r[key] for r in rows) for key in keys}


# --- live page: big-screen tiles and the map (issue 8) ------------------------------------------------------------

LIVE_PARCELS = """
SELECT
    count(*)::BIGINT                                        AS store_rows,
    coalesce(sum(parcels_after_split), 0)::BIGINT           AS parcels_after_split,
    coalesce(sum(parcels_split_without_merge), 0)::BIGINT   AS parcels_split_without_merge,
    coalesce(sum(parcels_saved_by_merge), 0)::BIGINT        AS parcels_saved_by_merge
FROM fct_merge_savings_daily
WHERE business_date = $business_date
"""

# Published by the serving step (orchestration/serving.py): per business day and channel, the delivery orders
# with a promised time and how they did against it.
LIVE_FULFILMENT = """
SELECT
    coalesce(sum(due_orders), 0)::BIGINT            AS due_orders,
    coalesce(sum(on_time_orders), 0)::BIGINT        AS on_time_orders,
    coalesce(sum(late_delivered_orders), 0)::BIGINT AS late_delivered_orders,
    coalesce(sum(overdue_orders), 0)::BIGINT        AS overdue_orders
FROM fulfilment_daily
WHERE business_date = $business_date
"""

# Orders with a problem raised since the business day began (the exception tile's window); an order with two
# problems counts once.
DAY_EXCEPTION_ORDERS = f"""
SELECT
    count(DISTINCT order_key)::BIGINT                                    AS exception_orders,
    count(DISTINCT order_key) FILTER (WHERE resolved_at IS NULL)::BIGINT AS open_exception_orders
FROM fct_exceptions
WHERE raised_at + {_TO_LOCAL} >= $business_date::TIMESTAMP
"""


def live_routes_sql(with_riders: bool) -> str:
    """The plan's routes of its latest day that are out or still to leave at ``$now`` (UTC); when none are
    (the day is over, or a replay), the latest wave's routes."""
    rider = "rd.name AS rider_name" if with_riders else "NULL AS rider_name"
    join = (
        "LEFT JOIN (SELECT rider_id, any_value(name) AS name FROM riders GROUP BY rider_id) AS rd USING (rider_id)"
        if with_riders
        else ""
    )
    return f"""
WITH planned AS (
    SELECT * FROM dispatch_routes
    WHERE solver = $solver
      AND business_date = (SELECT max(business_date) FROM dispatch_routes WHERE solver = $solver)
),
current AS (SELECT * FROM planned WHERE return_at >= $now::TIMESTAMP),
shown AS (
    SELECT * FROM current
    UNION ALL
    SELECT * FROM planned
    WHERE NOT EXISTS (SELECT 1 FROM current) AND wave_at = (SELECT max(wave_at) FROM planned)
)
SELECT r.route_id, r.business_date, r.store_id, r.rider_id, {rider}, r.wave_at + {_TO_LOCAL} AS wave_local,
       r.depart_at + {_TO_LOCAL} AS depart_local, r.return_at + {_TO_LOCAL} AS return_local, r.stops, r.distance_m
FROM shown AS r
{join}
ORDER BY r.store_id, r.route_id
"""


LIVE_STOPS = f"""
SELECT route_id, store_id, seq, parcel_id, lat, lng, arrival + {_TO_LOCAL} AS arrival_local,
       departure + {_TO_LOCAL} AS departure_local, promised_to + {_TO_LOCAL} AS promised_local, on_time
FROM dispatch_stops
WHERE list_contains($route_ids::VARCHAR[], route_id)
ORDER BY route_id, seq
"""

LIVE_MAP_TABLES = ("dispatch_routes", "dispatch_stops")
LIVE_MAP_SOLVER = "pyvrp"


def _headline(con: duckdb.DuckDBPyConnection, present: set[str], business_date: date) -> Headline:
    day = {"business_date": business_date}
    parcels = _rows(con, LIVE_PARCELS, day)[0] if "fct_merge_savings_daily" in present else None
    if parcels is not None and not parcels["store_rows"]:
        parcels = None
    fulfilment = _rows(con, LIVE_FULFILMENT, day)[0] if "fulfilment_daily" in present else None
    exceptions = _rows(con, DAY_EXCEPTION_ORDERS, day)[0]
    return Headline(
        parcels=parcels["parcels_after_split"] if parcels else None,
        parcels_without_merge=parcels["parcels_split_without_merge"] if parcels else None,
        parcels_saved_by_merge=parcels["parcels_saved_by_merge"] if parcels else None,
        due_orders=fulfilment["due_orders"] if fulfilment else None,
        on_time_orders=fulfilment["on_time_orders"] if fulfilment else None,
        late_delivered_orders=fulfilment["late_delivered_orders"] if fulfilment else None,
        overdue_orders=fulfilment["overdue_orders"] if fulfilment else None,
        exception_orders=exceptions["exception_orders"],
        open_exception_orders=exceptions["open_exception_orders"],
    )


def _live_map(con: duckdb.DuckDBPyConnection, present: set[str], meta: SnapshotMeta | None) -> LiveMap | None:
    """None when the snapshot has no dispatch plan (the page then says so instead of drawing a map)."""
    if _missing(present, LIVE_MAP_TABLES):
        return None
    now = meta.now if meta else None
    routes = _rows(con, live_routes_sql("riders" in present), {"solver": LIVE_MAP_SOLVER, "now": now})
    stops = _rows(con, LIVE_STOPS, {"route_ids": [r["route_id"] for r in routes]}) if routes else ()
    return LiveMap(
        business_date=routes[0]["business_date"] if routes else None,
        now_local=None if now is None else now + timedelta(hours=8),
        routes=routes,
        stops=stops,
        stores=_rows(con, STORE_LOCATIONS) if "stores" in present else (),
    )


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
    if not rows:
        return None
    stale = tuple(StalePart(**r) for r in _rows(con, STALE_PARTS)) if "serving_status" in present else ()
    row = rows[0]
    return SnapshotMeta(row.get("published_at"), row.get("latest_order_at"), row.get("run_id"), row.get("as_of"), stale,
                        row.get("run_problems"))


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


# SKUs about to run out: still some to sell, but at or below the safety stock the channel feed keeps back, or
# fewer hours of cover than RISK_COVER_HOURS at the pace they sold since the WMS count (net units reserved
# since the count / hours from the count to the data's now). Fewest hours of cover first.
RISK_COVER_HOURS = 4

STOCK_AT_RISK = """
WITH safety AS (
    SELECT store_id, sku_id, max(safety_stock_units) AS safety_stock_units
    FROM fct_channel_stock_feed
    GROUP BY store_id, sku_id
),
paced AS (
    SELECT
        p.store_id, p.sku_id, p.product_name, p.category, p.available_units,
        coalesce(s.safety_stock_units, 0)                                      AS safety_stock_units,
        greatest(p.reserved_units - p.released_units, 0)                       AS sold_since_count,
        greatest(date_diff('second', p.snapshot_at, p.as_of), 0) / 3600.0      AS hours_since_count
    FROM fct_stock_positions AS p
    LEFT JOIN safety AS s USING (store_id, sku_id)
    WHERE p.available_units > 0 AND ($store_id IS NULL OR p.store_id = $store_id)
),
rated AS (
    SELECT *,
        CASE WHEN hours_since_count > 0 THEN sold_since_count / hours_since_count END AS units_per_hour
    FROM paced
),
covered AS (
    SELECT *, CASE WHEN units_per_hour > 0 THEN available_units / units_per_hour END AS hours_of_cover
    FROM rated
)
SELECT store_id, sku_id, product_name, category, available_units, safety_stock_units, sold_since_count,
       units_per_hour, hours_of_cover,
       available_units <= safety_stock_units AS below_safety_stock
FROM covered
WHERE available_units <= safety_stock_units OR hours_of_cover < $cover_hours
ORDER BY hours_of_cover NULLS LAST, available_units, store_id, sku_id
LIMIT $limit
"""

STOCK_AT_RISK_COUNT = f"SELECT count(*)::BIGINT AS at_risk FROM ({STOCK_AT_RISK.replace('LIMIT $limit', '')})"


@dataclass(frozen=True)
class StockData:
    """The stock page: totals (tiles), per-store overview, short positions, oversells, the channel feed, and
    the SKUs at risk of running out (``at_risk_count`` of them, the first ``LIST_LIMIT`` listed)."""

    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    stores: tuple[str, ...] = ()
    totals: Row | None = None
    by_store: tuple[Row, ...] = ()
    short_positions: tuple[Row, ...] = ()
    oversells: tuple[Row, ...] = ()
    feed: tuple[Row, ...] = ()
    at_risk: tuple[Row, ...] = ()
    at_risk_count: int = 0


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
        at_risk=_rows(con, STOCK_AT_RISK, {**store, "cover_hours": RISK_COVER_HOURS, "limit": LIST_LIMIT}),
        at_risk_count=_rows(con, STOCK_AT_RISK_COUNT, {**store, "cover_hours": RISK_COVER_HOURS})[0]["at_risk"],
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

# Per store and wave: the chosen solver's plan next to the greedy baseline's (distance, on-time stops).
DISPATCH_PLANS = f"""
WITH routes AS (
    SELECT store_id, wave_at, solver, count(*) AS routes, sum(stops) AS stops, sum(distance_m) AS distance_m
    FROM dispatch_routes WHERE business_date = $business_date GROUP BY store_id, wave_at, solver
),
stops AS (
    SELECT store_id, wave_at, solver, count(*) FILTER (WHERE on_time) AS on_time_stops
    FROM dispatch_stops WHERE business_date = $business_date GROUP BY store_id, wave_at, solver
),
plans AS (SELECT DISTINCT store_id, wave_at FROM routes)
SELECT
    p.store_id,
    p.wave_at + {_TO_LOCAL}                     AS wave_local,
    coalesce(c.routes, 0)::BIGINT               AS routes,
    coalesce(c.stops, 0)::BIGINT                AS stops,
    coalesce(c.distance_m, 0)::BIGINT           AS distance_m,
    coalesce(cs.on_time_stops, 0)::BIGINT       AS on_time_stops,
    coalesce(g.stops, 0)::BIGINT                AS greedy_stops,
    g.distance_m::BIGINT                        AS greedy_distance_m,
    coalesce(gs.on_time_stops, 0)::BIGINT       AS greedy_on_time_stops
FROM plans AS p
LEFT JOIN routes AS c ON c.store_id = p.store_id AND c.wave_at = p.wave_at AND c.solver = $solver
LEFT JOIN stops AS cs ON cs.store_id = p.store_id AND cs.wave_at = p.wave_at AND cs.solver = $solver
LEFT JOIN routes AS g ON g.store_id = p.store_id AND g.wave_at = p.wave_at AND g.solver = 'greedy'
LEFT JOIN stops AS gs ON gs.store_id = p.store_id AND gs.wave_at = p.wave_at AND gs.solver = 'greedy'
WHERE ($store_id IS NULL OR p.store_id = $store_id)
  AND ($wave_local IS NULL OR p.wave_at + {_TO_LOCAL} = $wave_local)
ORDER BY p.wave_at DESC, p.store_id
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
    plans: tuple[Row, ...] = ()


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
        plans=_rows(con, DISPATCH_PLANS, chosen),
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

# The variances of the day, largest money at stake first (the serving snapshot keeps only variance lines),
# narrowed to a statement channel and a category when chosen (the drill-down from the per-channel table).
_VARIANCE_FILTER = """
    recon_date = $recon_date AND recon_status = 'variance'
    AND ($channel IS NULL OR settlement_channel = $channel)
    AND ($category IS NULL OR category = $category)
"""

RECON_VARIANCES = f"""
SELECT category, settlement_channel, sales_channel, order_key, channel_order_id, transaction_id, store_id,
       tender, account_id, business_date, statement_date, days_late, expected_net, net_amount, variance_amount,
       explanation, source_file, source_line
FROM fct_reconciliation_lines
WHERE {_VARIANCE_FILTER}
ORDER BY abs(variance_amount) DESC, settlement_channel, recon_line_id
LIMIT $limit
"""

# The chosen variance lines in total (the list itself stops at LIST_LIMIT rows).
RECON_VARIANCE_TOTALS = f"""
SELECT count(*)::BIGINT                                       AS lines,
       coalesce(sum(variance_amount), 0)::DECIMAL(18, 2)      AS variance_amount,
       coalesce(sum(abs(variance_amount)), 0)::DECIMAL(18, 2) AS variance_abs_amount
FROM fct_reconciliation_lines
WHERE {_VARIANCE_FILTER}
"""

# What the category filter offers: the categories of the day's variance lines (of the chosen channel).
RECON_VARIANCE_CATEGORIES = """
SELECT DISTINCT category
FROM fct_reconciliation_lines
WHERE recon_date = $recon_date AND recon_status = 'variance' AND ($channel IS NULL OR settlement_channel = $channel)
ORDER BY category
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
    """A recon day: per statement channel, its variance lines (filtered by channel and category when asked:
    ``variance_totals`` sums all the chosen lines, ``variances`` lists the first LIST_LIMIT), the categories
    the filter offers, the T+1 payout of the day's statements and the recent trend."""

    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    dates: tuple[date, ...] = ()
    recon_date: date | None = None
    channels: tuple[Row, ...] = ()
    variances: tuple[Row, ...] = ()
    settlement: tuple[Row, ...] = ()
    trend: tuple[Row, ...] = ()
    categories: tuple[str, ...] = ()
    variance_totals: Row | None = None
    export_complete: bool = False  # the snapshot holds every line of the day (else the workbook has variances only)


def fetch_reconciliation(
    con: duckdb.DuckDBPyConnection,
    recon_date: date | None = None,
    channel: str | None = None,
    category: str | None = None,
) -> ReconData:
    present = _present(con)
    meta, missing = _meta(con, present), _missing(present, RECON_TABLES)
    if missing:
        return ReconData(meta, missing)
    dates = tuple(r["recon_date"] for r in _rows(con, RECON_DATES))
    if not dates:
        return ReconData(meta, ())
    day = recon_date if recon_date in dates else dates[0]
    params = {"recon_date": day, "channels": list(SETTLEMENT_CHANNELS)}
    chosen = {"recon_date": day, "channel": channel, "category": category}
    return ReconData(
        meta=meta,
        missing=(),
        dates=dates,
        recon_date=day,
        channels=_rows(con, RECON_DAY, params),
        variances=_rows(con, RECON_VARIANCES, {**chosen, "limit": LIST_LIMIT}),
        settlement=_rows(con, SETTLEMENT_T1, params),
        trend=_rows(con, RECON_TREND, {"recon_date": day, "days": TREND_DAYS}),
        categories=tuple(r["category"] for r in _rows(con, RECON_VARIANCE_CATEGORIES,
                                                         {"recon_date": day, "channel": channel})),
        variance_totals=_rows(con, RECON_VARIANCE_TOTALS, chosen)[0],
        export_complete=_has_all_lines(con, present, day),
    )


def _has_all_lines(con: duckdb.DuckDBPyConnection, present: set[str], day: date) -> bool:
    return "reconciliation_lines_recent" in present and _rows(con, RECON_EXPORT_HAS_DAY, {"recon_date": day})[0]["has_day"]


# The finance workbook (the same as `orderhub recon report` writes, see dashboards/export.py): the day's rows of
# the three finance marts. Every line of the day comes from `reconciliation_lines_recent` (all statuses, the
# latest recon days, published by the serving step) when the snapshot holds the day there; otherwise only its
# variance lines are available (`complete_lines` False).
RECON_EXPORT_DAILY = "SELECT * FROM fct_reconciliation_daily WHERE recon_date = $recon_date ORDER BY settlement_channel"
RECON_EXPORT_PAYOUT = (
    "SELECT * FROM fct_settlement_t1 WHERE statement_date = $recon_date ORDER BY settlement_channel"
)
RECON_EXPORT_ALL_LINES = "SELECT * FROM reconciliation_lines_recent WHERE recon_date = $recon_date"
RECON_EXPORT_HAS_DAY = (
    "SELECT count(*) > 0 AS has_day FROM reconciliation_lines_recent WHERE recon_date = $recon_date"
)
RECON_EXPORT_VARIANCE_LINES = (
    "SELECT * FROM fct_reconciliation_lines WHERE recon_date = $recon_date AND recon_status = 'variance'"
)


@dataclass(frozen=True)
class ReconExport:
    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    recon_date: date | None = None
    daily: tuple[Row, ...] = ()
    lines: tuple[Row, ...] = ()
    payout: tuple[Row, ...] = ()
    complete_lines: bool = False


def fetch_recon_export(con: duckdb.DuckDBPyConnection, recon_date: date | None = None) -> ReconExport:
    present = _present(con)
    meta, missing = _meta(con, present), _missing(present, RECON_TABLES)
    if missing or recon_date is None:
        return ReconExport(meta, missing)
    day = {"recon_date": recon_date}
    complete = _has_all_lines(con, present, recon_date)
    return ReconExport(
        meta=meta,
        missing=(),
        recon_date=recon_date,
        daily=_rows(con, RECON_EXPORT_DAILY, day),
        lines=_rows(con, RECON_EXPORT_ALL_LINES if complete else RECON_EXPORT_VARIANCE_LINES, day),
        payout=_rows(con, RECON_EXPORT_PAYOUT, day),
        complete_lines=bool(complete),
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


# Validation results (Great Expectations suites, issue 7), when the snapshot carries them (data_quality/results.py
# `serving_queries`, published by the serving step): the latest result of every expectation, and the latest
# validations (a suite on a batch, day or mart). And the quarantine's status per channel and reason (open,
# resolved by a replay, replay failed). Each is shown when its table is in the snapshot; a table missing a
# column the page reads is reported, not a crash.
DQ_SUMMARY_TABLE = "dq_results_summary"
DQ_VALIDATIONS_TABLE = "dq_validations_recent"
DQ_QUARANTINE_TABLE = "dq_quarantine_status"
DQ_COLUMNS: dict[str, tuple[str, ...]] = {
    DQ_SUMMARY_TABLE: ("suite", "scope", "channel", "expectation", "rule", "severity", "validations", "failures",
                       "last_validated_at", "last_batch", "last_success", "last_observed_value",
                       "last_unexpected_count"),
    DQ_VALIDATIONS_TABLE: ("suite", "scope", "batch", "channel", "rows", "expectations", "failed",
                           "critical_failed", "success", "validated_at"),
    DQ_QUARANTINE_TABLE: ("channel", "error_code", "quarantined", "open", "resolved", "replay_failed",
                          "last_quarantined_at"),
}
DQ_RECENT_VALIDATIONS = 50

TABLE_COLUMNS = """
SELECT table_name, column_name
FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main' AND list_contains($tables::VARCHAR[], table_name)
"""

# Over every expectation's latest result: how many, how many failed, how many of those are critical.
DQ_TOTALS = f"""
SELECT count(*)::BIGINT                                                               AS expectations,
       count(DISTINCT suite)::BIGINT                                                  AS suites,
       count(*) FILTER (WHERE last_success IS NOT TRUE)::BIGINT                       AS failed,
       count(*) FILTER (WHERE last_success IS NOT TRUE AND severity = 'critical')::BIGINT AS critical_failed,
       max(last_validated_at) + {_TO_LOCAL}                                             AS last_validated_local
FROM dq_results_summary
"""

# Failures first (critical before warning), then by suite.
DQ_LATEST_RESULTS = f"""
SELECT suite, scope, channel, expectation, rule, severity, validations, failures, last_batch, last_success,
       CAST(last_observed_value AS VARCHAR) AS last_observed_value, last_unexpected_count,
       last_validated_at + {_TO_LOCAL} AS last_validated_local
FROM dq_results_summary
ORDER BY last_success IS TRUE, severity = 'critical' DESC, suite, scope, channel NULLS FIRST, expectation, rule
LIMIT $limit
"""

DQ_VALIDATIONS = f"""
SELECT suite, scope, batch, channel, rows, expectations, failed, critical_failed, success,
       validated_at + {_TO_LOCAL} AS validated_local
FROM dq_validations_recent
ORDER BY validated_at DESC, suite, channel
LIMIT $limit
"""

DQ_QUARANTINE_STATUS = f"""
SELECT channel, error_code, quarantined, open, resolved, replay_failed,
       last_quarantined_at + {_TO_LOCAL} AS last_quarantined_local
FROM dq_quarantine_status
ORDER BY open DESC, quarantined DESC, channel, error_code
"""


@dataclass(frozen=True)
class QualityData:
    """Row accounting and quarantine (``missing`` names absent tables), and issue 7's tables when present:
    ``dq_totals`` / ``dq_results`` (the latest result per expectation), ``dq_validations`` (recent runs),
    ``quarantine_status`` (open / resolved / replay failed). ``dq_absent`` lists the issue 7 tables the snapshot
    does not have; ``dq_bad_columns`` the ones it has without a column the page reads (``table.column``)."""

    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    by_channel: tuple[Row, ...] = ()
    recent_batches: tuple[Row, ...] = ()
    quarantine: tuple[Row, ...] = ()
    dq_absent: tuple[str, ...] = tuple(DQ_COLUMNS)
    dq_bad_columns: tuple[str, ...] = ()
    dq_totals: Row | None = None
    dq_results: tuple[Row, ...] = ()
    dq_validations: tuple[Row, ...] = ()
    quarantine_status: tuple[Row, ...] = ()


def _usable(con: duckdb.DuckDBPyConnection, present: set[str]) -> tuple[set[str], tuple[str, ...], tuple[str, ...]]:
    """Which issue 7 tables can be read: (usable, absent, missing ``table.column``)."""
    tables = [table for table in DQ_COLUMNS if table in present]
    columns: dict[str, set[str]] = {}
    for r in _rows(con, TABLE_COLUMNS, {"tables": tables}):
        columns.setdefault(r["table_name"], set()).add(r["column_name"])
    bad = tuple(f"{table}.{c}" for table in tables for c in DQ_COLUMNS[table] if c not in columns.get(table, set()))
    usable = {table for table in tables if not any(b.startswith(f"{table}.") for b in bad)}
    return usable, tuple(t for t in DQ_COLUMNS if t not in present), bad


def fetch_quality(con: duckdb.DuckDBPyConnection) -> QualityData:
    present = _present(con)
    meta, missing = _meta(con, present), _missing(present, QUALITY_TABLES)
    if missing:
        return QualityData(meta, missing)
    usable, absent, bad = _usable(con, present)
    summary = DQ_SUMMARY_TABLE in usable
    return QualityData(
        meta=meta,
        missing=(),
        by_channel=_rows(con, QUALITY_BY_CHANNEL, {"known_channels": list(KNOWN_CHANNELS)}),
        recent_batches=_rows(con, QUALITY_RECENT_BATCHES, {"limit": LIST_LIMIT}),
        quarantine=_rows(con, QUALITY_QUARANTINE),
        dq_absent=absent,
        dq_bad_columns=bad,
        dq_totals=_rows(con, DQ_TOTALS)[0] if summary else None,
        dq_results=_rows(con, DQ_LATEST_RESULTS, {"limit": LIST_LIMIT}) if summary else (),
        dq_validations=(_rows(con, DQ_VALIDATIONS, {"limit": DQ_RECENT_VALIDATIONS})
                        if DQ_VALIDATIONS_TABLE in usable else ()),
        quarantine_status=_rows(con, DQ_QUARANTINE_STATUS) if DQ_QUARANTINE_TABLE in usable else (),
    )


# --- running a page's fetcher -----------------------------------------------------------------------------------

PAGE_FETCHERS: dict[str, Any] = {
    "stock": fetch_stock,
    "parcels": fetch_parcels,
    "exceptions": fetch_exceptions,
    "dispatch": fetch_dispatch,
    "reconciliation": fetch_reconciliation,
    "recon_export": fetch_recon_export,
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
