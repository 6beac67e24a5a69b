"""The reconciliation page's queries: a recon day per statement channel, its variance lines (drill-down by
channel and category), the T+1 payout and the trend; and the rows of the day's finance workbook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from dashboards.queries.reader import LIST_LIMIT, TREND_DAYS, Row, SnapshotMeta, page_state, rows

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
    present, meta, missing = page_state(con, RECON_TABLES)
    if missing:
        return ReconData(meta, missing)
    dates = tuple(r["recon_date"] for r in rows(con, RECON_DATES))
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
        channels=rows(con, RECON_DAY, params),
        variances=rows(con, RECON_VARIANCES, {**chosen, "limit": LIST_LIMIT}),
        settlement=rows(con, SETTLEMENT_T1, params),
        trend=rows(con, RECON_TREND, {"recon_date": day, "days": TREND_DAYS}),
        categories=tuple(
            r["category"] for r in rows(con, RECON_VARIANCE_CATEGORIES, {"recon_date": day, "channel": channel})
        ),
        variance_totals=rows(con, RECON_VARIANCE_TOTALS, chosen)[0],
        export_complete=_has_all_lines(con, present, day),
    )


def _has_all_lines(con: duckdb.DuckDBPyConnection, present: set[str], day: date) -> bool:
    return (
        "reconciliation_lines_recent" in present and rows(con, RECON_EXPORT_HAS_DAY, {"recon_date": day})[0]["has_day"]
    )


# The finance workbook (the same as `orderhub recon report` writes, see dashboards/workbook.py): the day's rows of
# the three finance marts. Every line of the day comes from `reconciliation_lines_recent` (all statuses, the
# latest recon days, published by the serving step) when the snapshot holds the day there; otherwise only its
# variance lines are available (`complete_lines` False).
RECON_EXPORT_DAILY = "SELECT * FROM fct_reconciliation_daily WHERE recon_date = $recon_date ORDER BY settlement_channel"
RECON_EXPORT_PAYOUT = "SELECT * FROM fct_settlement_t1 WHERE statement_date = $recon_date ORDER BY settlement_channel"
RECON_EXPORT_ALL_LINES = "SELECT * FROM reconciliation_lines_recent WHERE recon_date = $recon_date"
RECON_EXPORT_HAS_DAY = "SELECT count(*) > 0 AS has_day FROM reconciliation_lines_recent WHERE recon_date = $recon_date"
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
    present, meta, missing = page_state(con, RECON_TABLES)
    if missing or recon_date is None:
        return ReconExport(meta, missing)
    day = {"recon_date": recon_date}
    complete = _has_all_lines(con, present, recon_date)
    return ReconExport(
        meta=meta,
        missing=(),
        recon_date=recon_date,
        daily=rows(con, RECON_EXPORT_DAILY, day),
        lines=rows(con, RECON_EXPORT_ALL_LINES if complete else RECON_EXPORT_VARIANCE_LINES, day),
        payout=rows(con, RECON_EXPORT_PAYOUT, day),
        complete_lines=bool(complete),
    )
