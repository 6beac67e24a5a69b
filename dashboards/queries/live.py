"""The live operations page's queries: the latest business day's orders, money, ingest and exceptions, the
big-screen tiles (parcels, merge savings, on-time fulfilment, exception rate) and the map's current routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import duckdb

from dashboards.queries.reader import (
    KNOWN_CHANNELS,
    LOCAL_OFFSET,
    STORE_LOCATIONS,
    TO_LOCAL,
    Row,
    SnapshotMeta,
    missing_from,
    page_state,
    rows,
)

NEWEST_EXCEPTIONS_LIMIT = 20
TOP_QUARANTINE_LIMIT = 10
RECENT_MINUTES = 60

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
WHERE raised_at + {TO_LOCAL} >= $business_date::TIMESTAMP
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
    WHERE started_at + {TO_LOCAL} >= $business_date::TIMESTAMP
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
    first_at + {TO_LOCAL} AS first_at_local,
    last_at + {TO_LOCAL}  AS last_at_local
FROM fct_quarantine_summary
ORDER BY records DESC, last_at DESC NULLS LAST, channel, error_code
LIMIT $limit
"""

NEWEST_EXCEPTIONS = f"""
SELECT
    raised_at + {TO_LOCAL} AS raised_at_local,
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
    """The big-screen tiles beyond the day's totals, for the business day.

    Parcel figures are None when the snapshot has no ``fct_merge_savings_daily`` row for the day; fulfilment
    figures None when it has no ``fulfilment_daily`` table (snapshots published before the serving step wrote
    it).
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


def fetch_live(con: duckdb.DuckDBPyConnection) -> LiveData:
    """Run the live page's queries on an open connection to a serving snapshot."""
    present, meta, _ = page_state(con, ())

    business_date = rows(con, LATEST_BUSINESS_DATE)[0]["business_date"]
    newest_exceptions = rows(con, NEWEST_EXCEPTIONS, {"limit": NEWEST_EXCEPTIONS_LIMIT})
    top_quarantine = rows(con, TOP_QUARANTINE_REASONS, {"limit": TOP_QUARANTINE_LIMIT})
    if business_date is None:
        return LiveData(meta, None, None, (), (), (), (), None, top_quarantine, newest_exceptions)

    day = {"business_date": business_date}
    with_channels = {**day, "known_channels": list(KNOWN_CHANNELS)}
    channels = rows(con, CHANNEL_DAY_SUMMARY, with_channels)
    ingest_rows = rows(con, INGEST_BY_CHANNEL, with_channels)
    ingest = tuple(r for r in ingest_rows if not r["is_reference"] and not r["is_settlement"])
    reference = tuple(r for r in ingest_rows if r["is_reference"])
    settlement = tuple(r for r in ingest_rows if r["is_settlement"])
    exceptions = rows(con, DAY_EXCEPTION_COUNT, day)[0]["exceptions"]
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
        hourly=rows(con, HOURLY_ORDERS, day),
        recent_minutely=rows(con, RECENT_MINUTELY_ORDERS, {**day, "minutes": RECENT_MINUTES}),
        ingest_by_channel=ingest,
        reference_ingest=_sum_ingest(reference),
        top_quarantine=top_quarantine,
        newest_exceptions=newest_exceptions,
        settlement_ingest=_sum_ingest(settlement),
        headline=_headline(con, present, business_date),
        live_map=_live_map(con, present, meta),
    )


def _sum_ingest(channels: tuple[Row, ...]) -> Row | None:
    """Landed/loaded/quarantined/duplicate/batches summed over ``channels``' rows; None when no batch ran."""
    if not any(r["batches"] for r in channels):
        return None
    keys = ("batches", "landed", "loaded", "quarantined", "duplicate", "unbalanced_batches")
    return {key: sum(r[key] for r in channels) for key in keys}


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
WHERE raised_at + {TO_LOCAL} >= $business_date::TIMESTAMP
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
SELECT r.route_id, r.business_date, r.store_id, r.rider_id, {rider}, r.wave_at + {TO_LOCAL} AS wave_local,
       r.depart_at + {TO_LOCAL} AS depart_local, r.return_at + {TO_LOCAL} AS return_local, r.stops, r.distance_m
FROM shown AS r
{join}
ORDER BY r.store_id, r.route_id
"""


LIVE_STOPS = f"""
SELECT route_id, store_id, seq, parcel_id, lat, lng, arrival + {TO_LOCAL} AS arrival_local,
       departure + {TO_LOCAL} AS departure_local, promised_to + {TO_LOCAL} AS promised_local, on_time
FROM dispatch_stops
WHERE list_contains($route_ids::VARCHAR[], route_id)
ORDER BY route_id, seq
"""

LIVE_MAP_TABLES = ("dispatch_routes", "dispatch_stops")
LIVE_MAP_SOLVER = "pyvrp"


def _headline(con: duckdb.DuckDBPyConnection, present: set[str], business_date: date) -> Headline:
    day = {"business_date": business_date}
    parcels = rows(con, LIVE_PARCELS, day)[0] if "fct_merge_savings_daily" in present else None
    if parcels is not None and not parcels["store_rows"]:
        parcels = None
    fulfilment = rows(con, LIVE_FULFILMENT, day)[0] if "fulfilment_daily" in present else None
    exceptions = rows(con, DAY_EXCEPTION_ORDERS, day)[0]
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
    if missing_from(present, LIVE_MAP_TABLES):
        return None
    now = meta.now if meta else None
    routes = rows(con, live_routes_sql("riders" in present), {"solver": LIVE_MAP_SOLVER, "now": now})
    stops = rows(con, LIVE_STOPS, {"route_ids": [r["route_id"] for r in routes]}) if routes else ()
    return LiveMap(
        business_date=routes[0]["business_date"] if routes else None,
        now_local=None if now is None else now + LOCAL_OFFSET,
        routes=routes,
        stops=stops,
        stores=rows(con, STORE_LOCATIONS) if "stores" in present else (),
    )
