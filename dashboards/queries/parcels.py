"""The merging and parcels page's queries: what merging saved on the latest business day, per store and over
the last days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from dashboards.queries.reader import TREND_DAYS, Row, SnapshotMeta, page_state, rows

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


@dataclass(frozen=True)
class ParcelData:
    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    business_date: date | None = None
    totals: Row | None = None
    by_store: tuple[Row, ...] = ()
    trend: tuple[Row, ...] = ()


def fetch_parcels(con: duckdb.DuckDBPyConnection) -> ParcelData:
    present, meta, missing = page_state(con, PARCEL_TABLES)
    if missing:
        return ParcelData(meta, missing)
    business_date = rows(con, PARCEL_LATEST_DATE)[0]["business_date"]
    if business_date is None:
        return ParcelData(meta, ())
    day = {"business_date": business_date}
    return ParcelData(
        meta=meta,
        missing=(),
        business_date=business_date,
        totals=rows(con, PARCEL_DAY_TOTALS, day)[0],
        by_store=rows(con, PARCEL_DAY_BY_STORE, day),
        trend=rows(con, PARCEL_TREND, {**day, "days": TREND_DAYS}),
    )
