"""The stock page's queries: positions, oversells, what each channel is told it may sell, and the SKUs about
to run out, for all stores or one."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from dashboards.queries.reader import KNOWN_CHANNELS, LIST_LIMIT, TO_LOCAL, Row, SnapshotMeta, page_state, rows

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
    max(as_of) + {TO_LOCAL}                                    AS as_of_local,
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
       oversold_units, last_movement_at + {TO_LOCAL} AS last_movement_local
FROM fct_stock_positions
WHERE available_units <= 0 AND ($store_id IS NULL OR store_id = $store_id)
ORDER BY oversold_units DESC, available_units, store_id, sku_id
LIMIT $limit
"""

OVERSELL_EVENTS = f"""
SELECT ordered_at + {TO_LOCAL} AS ordered_at_local, channel, store_id, sku_id, order_key, quantity,
       available_before, shortfall_units, resolved_at + {TO_LOCAL} AS resolved_at_local
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
    present, meta, missing = page_state(con, STOCK_TABLES)
    if missing:
        return StockData(meta, missing)
    store = {"store_id": store_id}
    return StockData(
        meta=meta,
        missing=(),
        stores=tuple(r["store_id"] for r in rows(con, STOCK_STORES)),
        totals=rows(con, STOCK_TOTALS, store)[0],
        by_store=rows(con, STOCK_BY_STORE),
        short_positions=rows(con, STOCK_SHORT_POSITIONS, {**store, "limit": LIST_LIMIT}),
        oversells=rows(con, OVERSELL_EVENTS, {**store, "limit": LIST_LIMIT}),
        feed=rows(con, STOCK_FEED_BY_CHANNEL, {**store, "known_channels": list(KNOWN_CHANNELS)}),
        at_risk=rows(con, STOCK_AT_RISK, {**store, "cover_hours": RISK_COVER_HOURS, "limit": LIST_LIMIT}),
        at_risk_count=rows(con, STOCK_AT_RISK_COUNT, {**store, "cover_hours": RISK_COVER_HOURS})[0]["at_risk"],
    )
