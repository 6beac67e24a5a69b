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

The pages beyond the live page (columns as in the marts' yml files; numbers the page tests check):

- exceptions: open = E2, E3, E4 (E1 is resolved) plus one dispatch exception (D1) = 4 open, 2 high (E3, D1); E3's
  detail and D1's carry a full mobile number (13812345678 / 13912345678), which must show as 138****5678.
- stock: 5 positions (SH001: 3, SH002: 2); nothing left to sell 3; oversold 2 positions, 4 units; open
  oversells 2 (both SH001). Channel feed: meituan 3 listings, 1 sold out, 17 units; groupbuy 3, 1, 4 (20%).
- parcels, business day: delivery orders 150, merged 24 (16.0%), parcels sent 200 against 215 without
  merging: 15 saved by merging (7.0%); 55 merge groups split (53 by zone, 2 over limits, 1 oversize unit).
- dispatch, business day, PyVRP: 3 trips, 5 stops, 12.0 km (greedy 15.0 km: 20.0% shorter), 4 of 5 on time
  (80.0%), 1 parcel not dispatched (greedy: 2). A PyVRP route of the day before (99 km) must not count.
  Riders 张伟, 李娜, 王芳 show as 张*, 李*, 王*. As of 10:40 (the plan's clock): 2 riders out (R2 back 11:00,
  1 stop left at 10:45; R3 back 11:10, 2 left, 10:45 and 11:05), 1 idle (R1, next trip 10:50); 2 parcels
  waiting, 1 past its promise (P8, held for the 10:50 trip; P9, no cold box); so far (trips out by 10:40)
  PyVRP 80.0% on time over 12.0 km, greedy 60.0% over 15.0 km; 2 parcels skipped (Meituan's riders).
- reconciliation, latest day 2026-11-25: balanced 2 (eleme, wechatpay), variances 3 (meituan, pos,
  groupbuy), no statement 1 (alipay); at stake ¥75.46 (net -¥15.46); settled ¥11,300.00. Variance lines,
  largest first: amount_mismatch -¥35.50, unknown_order ¥25.00 (group-buy leader 王秀英 -> 王**, a phone in
  its explanation), tender_total_mismatch -¥9.96, fee_mismatch ¥5.00; a matched line must not show.
- data quality (all batches): landed 1,809, quarantined 16 (0.9%), duplicates 4, no unbalanced batch.

The big-screen live page and the rest (tables the serving step derives, and the validation results):

- live headline: parcels 200 (215 without merging), 15 saved by merging (7.0%); on time 69 of 75 due
  delivery orders = 92.0% (5 delivered late, 1 overdue; the day before, 10 of 100, must not count); exception
  rate 3 orders of 500 = 0.6%, 3 open. Live map (data now 2026-11-26 10:59:30 Shanghai): routes R2 and R3
  (10:30 wave) are out, R1 (back 10:40) is not shown; by the plan R2 is on its way back (stop P3 at 10:45,
  back at the store 11:00: at 10:59:30 it is 29/30 of the way from P3 to SH001) and R3 is between P4 (10:45)
  and P5 (11:05).
- stock at risk (under 4 h of cover, or at/below the safety stock of the channel feed): 1 SKU. SH002/SKU001 has
  18 available and sold 92 in the 4.99 h since the count (22:00 UTC -> as of 02:59:30): 18.4 an hour, 1.0 h of
  cover. SH001/SKU001 (7 available, safety 2, 3 sold: 11.6 h) is not at risk; the SKUs with nothing left are
  not "at risk", they are out (listed as such).
- reconciliation drill-down: meituan has 2 variance lines (amount_mismatch -¥35.50, fee_mismatch ¥5.00: net
  -¥30.50, at stake ¥40.50). T+1 totals: gross ¥7,717.00, fees ¥167.00, net ¥7,500.00. The export has every
  line of the day (L6, an open alipay line, included), from ``reconciliation_lines_recent``.
- validation results (each expectation's latest result): 4 expectations in 2 suites, 2 failing, 1 of them
  critical (meituan's amount identity, listed first, then app's phone format whose observed value holds
  13812345678). Recent validations newest first: stock b-pos (10:59:40), meituan b-mt, app b-app. Quarantine
  status, most open first: pos bad_amount 10 open / 1 resolved / 1 replay failed, meituan bad_json 5 / 2 / 0,
  app missing_field 3 / 0 / 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

TABLES: dict[str, str] = {
    "fct_channel_kpis_hourly": """business_date DATE, hour_start_local TIMESTAMP, channel VARCHAR,
        orders BIGINT, cancelled_orders BIGINT, delivery_orders BIGINT, goods_amount DECIMAL(18,2),
        paid_amount DECIMAL(18,2), avg_order_value DECIMAL(18,2)""",
    "fct_channel_orders_minutely": "business_date DATE, minute_local TIMESTAMP, channel VARCHAR, orders BIGINT",
    "fct_daily_channel_summary": """business_date DATE, channel VARCHAR, orders BIGINT,
        cancelled_orders BIGINT, paid_amount DECIMAL(18,2), delivery_orders BIGINT, self_pickup_orders BIGINT,
        in_store_orders BIGINT""",
    "fct_ingest_accounting": """batch_id VARCHAR, channel VARCHAR, files INTEGER, landed BIGINT,
        loaded BIGINT, quarantined BIGINT, duplicate BIGINT, started_at TIMESTAMP, finished_at TIMESTAMP,
        is_balanced BOOLEAN""",
    "fct_quarantine_summary": """channel VARCHAR, error_code VARCHAR, records BIGINT,
        first_at TIMESTAMP, last_at TIMESTAMP""",
    "fct_exceptions": """exception_id VARCHAR, exception_type VARCHAR, severity VARCHAR,
        order_key VARCHAR, channel VARCHAR, store_id VARCHAR, raised_at TIMESTAMP, detail VARCHAR,
        action VARCHAR, resolved_at TIMESTAMP""",
    "fct_stock_positions": """store_id VARCHAR, sku_id VARCHAR, product_name VARCHAR, category VARCHAR,
        snapshot_at TIMESTAMP, on_hand BIGINT, reserved_units BIGINT, released_units BIGINT, open_units BIGINT,
        fulfilled_units BIGINT, available_units BIGINT, oversold_units BIGINT, orders_since_count BIGINT,
        last_movement_at TIMESTAMP, as_of TIMESTAMP""",
    "fct_oversell_events": """oversell_id VARCHAR, order_key VARCHAR, line_no INTEGER, channel VARCHAR,
        store_id VARCHAR, sku_id VARCHAR, ordered_at TIMESTAMP, quantity INTEGER, available_before BIGINT,
        shortfall_units BIGINT, snapshot_at TIMESTAMP, released_at TIMESTAMP, next_count_at TIMESTAMP,
        resolved_at TIMESTAMP""",
    "fct_channel_stock_feed": """feed_id VARCHAR, as_of TIMESTAMP, channel VARCHAR, store_id VARCHAR,
        sku_id VARCHAR, available_units BIGINT, safety_stock_units INTEGER, sellable_units BIGINT,
        allocation_mode VARCHAR, allocation_share DOUBLE, channel_sellable_units BIGINT, is_sold_out BOOLEAN""",
    "fct_merge_savings_daily": """business_date DATE, store_id VARCHAR, delivery_orders BIGINT,
        parcels_without_merge BIGINT, merged_orders BIGINT, merge_groups BIGINT, merge_groups_of_two_or_more BIGINT,
        merge_groups_without_lines BIGINT, parcels_after_split BIGINT, split_merge_groups BIGINT,
        split_by_zone_merge_groups BIGINT, split_by_limits_merge_groups BIGINT, split_extra_parcels BIGINT,
        oversize_parcels BIGINT, parcels_saved BIGINT, parcels_saved_pct DOUBLE, parcels_split_without_merge BIGINT,
        parcels_saved_by_merge BIGINT""",
    "dispatch_routes": """route_id VARCHAR, business_date DATE, store_id VARCHAR, wave_at TIMESTAMP,
        solver VARCHAR, rider_id VARCHAR, depart_at TIMESTAMP, return_at TIMESTAMP, stops INTEGER, distance_m BIGINT,
        duration_s BIGINT, load_g BIGINT, cold_ml BIGINT""",
    "dispatch_stops": """route_id VARCHAR, business_date DATE, store_id VARCHAR, wave_at TIMESTAMP,
        solver VARCHAR, rider_id VARCHAR, seq INTEGER, parcel_id VARCHAR, arrival TIMESTAMP, departure TIMESTAMP,
        lat DOUBLE, lng DOUBLE, promised_to TIMESTAMP, on_time BOOLEAN""",
    "dispatch_unassigned": """business_date DATE, store_id VARCHAR, solver VARCHAR, parcel_id VARCHAR,
        reason VARCHAR, ready_at TIMESTAMP, promised_to TIMESTAMP, planned_from TIMESTAMP""",
    "dispatch_exceptions": """exception_id VARCHAR, exception_type VARCHAR, severity VARCHAR,
        order_key VARCHAR, channel VARCHAR, store_id VARCHAR, raised_at TIMESTAMP, detail VARCHAR, action VARCHAR,
        business_date DATE""",
    "dispatch_riders": """business_date DATE, as_of TIMESTAMP, solver VARCHAR, rider_id VARCHAR, store_id VARCHAR,
        status VARCHAR, until_at TIMESTAMP, route_id VARCHAR, shift_start TIMESTAMP, shift_end TIMESTAMP,
        capacity_g BIGINT, cold_box_ml BIGINT""",
    "dispatch_waiting": """business_date DATE, as_of TIMESTAMP, solver VARCHAR, store_id VARCHAR, parcel_id VARCHAR,
        reason VARCHAR, until_at TIMESTAMP, rider_id VARCHAR, ready_at TIMESTAMP, promised_to TIMESTAMP,
        weight_g BIGINT, cold_ml BIGINT""",
    "dispatch_skipped": """business_date DATE, as_of TIMESTAMP, store_id VARCHAR, parcel_id VARCHAR, reason VARCHAR,
        order_keys VARCHAR""",
    "stores": "store_id VARCHAR, name VARCHAR, kind VARCHAR, district VARCHAR, lat DOUBLE, lng DOUBLE",
    "riders": "rider_id VARCHAR, store_id VARCHAR, name VARCHAR, vehicle VARCHAR, cold_box BOOLEAN",
    "fct_reconciliation_daily": """recon_date DATE, settlement_channel VARCHAR, statement_received BOOLEAN,
        statement_files BIGINT, statement_lines BIGINT, items BIGINT, matched BIGINT, timing_differences BIGINT,
        awaiting BIGINT, variances BIGINT, missing_settlements BIGINT, unknown_orders BIGINT,
        amount_mismatches BIGINT, fee_mismatches BIGINT, duplicate_settlements BIGINT, unexpected_refunds BIGINT,
        unexpected_settlements BIGINT, tender_total_mismatches BIGINT, unallocated_adjustments BIGINT,
        settled_net DECIMAL(18,2), variance_amount DECIMAL(18,2), variance_abs_amount DECIMAL(18,2),
        cleared_amount DECIMAL(18,2), awaiting_amount DECIMAL(18,2), day_status VARCHAR""",
    "fct_reconciliation_lines": """recon_line_id VARCHAR, recon_date DATE, settlement_channel VARCHAR,
        item_type VARCHAR, category VARCHAR, recon_status VARCHAR, line_type VARCHAR, sales_channel VARCHAR,
        order_key VARCHAR, channel_order_id VARCHAR, transaction_id VARCHAR, store_id VARCHAR, tender VARCHAR,
        account_id VARCHAR, business_date DATE, statement_date DATE, days_late INTEGER, txn_count BIGINT,
        expected_txn_count BIGINT, expected_gross DECIMAL(18,2), expected_fee DECIMAL(18,2),
        expected_net DECIMAL(18,2), gross_amount DECIMAL(18,2), fee_amount DECIMAL(18,2),
        net_amount DECIMAL(18,2), refund_amount DECIMAL(18,2), variance_amount DECIMAL(18,2),
        explanation VARCHAR, source_file VARCHAR, source_line BIGINT""",
    "fct_settlement_t1": """statement_date DATE, settlement_channel VARCHAR, payout_date DATE,
        statement_files BIGINT, payment_lines BIGINT, refund_lines BIGINT, other_lines BIGINT, txn_count BIGINT,
        gross_amount DECIMAL(18,2), refund_amount DECIMAL(18,2), fee_amount DECIMAL(18,2),
        net_amount DECIMAL(18,2), stated_net DECIMAL(18,2), totals_agree BOOLEAN""",
    # Derived by the serving step (orchestration/serving.py), not copied from a mart.
    "fulfilment_daily": """business_date DATE, channel VARCHAR, promised_orders BIGINT, due_orders BIGINT,
        on_time_orders BIGINT, late_delivered_orders BIGINT, overdue_orders BIGINT, as_of TIMESTAMP""",
    # The validation summaries, as data_quality/results.py `serving_queries` and quarantine.py
    # `status_summary_sql` publish them.
    "dq_results_summary": """suite VARCHAR, scope VARCHAR, channel VARCHAR, expectation VARCHAR, rule VARCHAR,
        severity VARCHAR, validations BIGINT, failures BIGINT, last_failed_at TIMESTAMP, last_validated_at TIMESTAMP,
        last_batch VARCHAR, last_success BOOLEAN, last_observed_value VARCHAR, last_unexpected_count BIGINT,
        last_element_count BIGINT, last_unexpected_sample VARCHAR""",
    "dq_validations_recent": """suite VARCHAR, scope VARCHAR, batch VARCHAR, channel VARCHAR, rows BIGINT,
        expectations BIGINT, failed BIGINT, critical_failed BIGINT, success BOOLEAN, seconds DOUBLE,
        validated_at TIMESTAMP, run_id VARCHAR""",
    "dq_quarantine_status": """channel VARCHAR, error_code VARCHAR, quarantined BIGINT, open BIGINT, resolved BIGINT,
        replay_failed BIGINT, last_quarantined_at TIMESTAMP""",
}
# Same columns as the mart: every line of the latest recon days, for the finance workbook.
TABLES["reconciliation_lines_recent"] = TABLES["fct_reconciliation_lines"]
# Tables the serving step derives (not in the warehouse under these names), and the validation results.
SERVING_DERIVED = ("fulfilment_daily", "reconciliation_lines_recent")
DQ_TABLES = ("dq_results_summary", "dq_validations_recent", "dq_quarantine_status")
# Tables a snapshot can be published without (built by later or separate jobs); see Snapshot.omit.
PAGE_TABLES = {
    "stock": ("fct_stock_positions", "fct_oversell_events", "fct_channel_stock_feed"),
    "parcels": ("fct_merge_savings_daily",),
    "dispatch": (
        "dispatch_routes",
        "dispatch_stops",
        "dispatch_unassigned",
        "dispatch_exceptions",
        "dispatch_riders",
        "dispatch_waiting",
        "dispatch_skipped",
        "stores",
        "riders",
    ),
    "reconciliation": ("fct_reconciliation_daily", "fct_reconciliation_lines", "fct_settlement_t1"),
}


DAY = "2026-11-26"
PREV_DAY = "2026-11-25"
RECON_DAY = "2026-11-25"  # reconciliation runs for days that are over


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Snapshot:
    """The rows of one snapshot; tests tweak a copy and publish it."""

    # fmt: off
    # Hand-written rows, one row to a line: the formatter would put every value on a line of its own.
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
             "promised 23:45", "expedite_dispatch", "2026-11-25 15:50:00"),
            ("E2", "bad_address", "medium", "app:APP2026112600007", "app", "SH002", "2026-11-25 16:30:00",
             "address not geocoded", "contact_customer", None),
            ("E3", "payment_missing", "high", "eleme:5001", "eleme", "SH001", "2026-11-26 02:00:00",
             "no payment after 15 min, call 13812345678", "manual_review", None),
            ("E4", "late_risk", "low", "app:APP2026112600042", "app", "SH003", "2026-11-26 03:15:00",
             "rider shortage", "expedite_dispatch", None),
        ]
    )
    stock_positions: list[tuple] = field(
        default_factory=lambda: [
            ("SH001", "SKU001", "红富士苹果 1kg", "水果", "2026-11-25 22:00:00", 10, 4, 1, 1, 2, 7, 0, 3,
             "2026-11-26 02:30:00", "2026-11-26 02:59:30"),
            ("SH001", "SKU002", "鲜牛奶 950ml", "乳品", "2026-11-25 22:00:00", 2, 5, 0, 3, 2, -3, 3, 2,
             "2026-11-26 02:00:00", "2026-11-26 02:59:30"),
            ("SH001", "SKU003", "基围虾 500g", "水产", "2026-11-25 22:00:00", 3, 3, 0, 1, 2, 0, 0, 2,
             "2026-11-26 01:30:00", "2026-11-26 02:59:30"),
            ("SH002", "SKU001", "红富士苹果 1kg", "水果", "2026-11-25 22:00:00", 110, 92, 0, 90, 2, 18, 0, 40,
             "2026-11-26 01:00:00", "2026-11-26 02:59:30"),
            ("SH002", "SKU004", "三鲜水饺 1kg", "速冻", "2026-11-25 22:00:00", 1, 2, 0, 0, 2, -1, 1, 1,
             "2026-11-26 03:00:00", "2026-11-26 02:59:30"),
        ]
    )
    oversells: list[tuple] = field(
        default_factory=lambda: [
            ("O1", "meituan:M1", 1, "meituan", "SH001", "SKU002", "2026-11-26 02:00:00", 2, 0, 2,
             "2026-11-25 22:00:00", None, None, None),
            ("O2", "app:A1", 2, "app", "SH001", "SKU002", "2026-11-26 01:00:00", 2, 1, 1,
             "2026-11-25 22:00:00", None, None, None),
            ("O3", "eleme:E1", 1, "eleme", "SH002", "SKU004", "2026-11-26 03:00:00", 2, 1, 1,
             "2026-11-25 22:00:00", "2026-11-26 04:00:00", None, "2026-11-26 04:00:00"),
        ]
    )
    stock_feed: list[tuple] = field(
        default_factory=lambda: [
            (f"F{i}", "2026-11-26 02:59:30", channel, store, sku, avail, 2, sellable, mode, share, units, units == 0)
            for i, (channel, store, sku, avail, sellable, mode, share, units) in enumerate([
                ("meituan", "SH001", "SKU001", 7, 5, "shared", None, 4),
                ("groupbuy", "SH001", "SKU001", 7, 5, "fixed_share", 0.2, 1),
                ("meituan", "SH001", "SKU002", -3, 0, "shared", None, 0),
                ("groupbuy", "SH001", "SKU002", -3, 0, "fixed_share", 0.2, 0),
                ("meituan", "SH002", "SKU001", 18, 16, "shared", None, 13),
                ("groupbuy", "SH002", "SKU001", 18, 16, "fixed_share", 0.2, 3),
            ])
        ]
    )
    merge_savings: list[tuple] = field(
        default_factory=lambda: [
            (DAY, "SH001", 100, 100, 20, 90, 10, 0, 130, 35, 33, 2, 40, 1, -30, -30.0, 142, 12),
            (DAY, "SH002", 50, 50, 4, 48, 2, 0, 70, 20, 20, 0, 22, 0, -20, -40.0, 73, 3),
            (PREV_DAY, "SH001", 80, 80, 10, 75, 5, 0, 100, 25, 25, 0, 25, 0, -20, -25.0, 110, 10),
        ]
    )
    routes: list[tuple] = field(
        default_factory=lambda: [
            ("pyvrp/SH001/1000/R1", DAY, "SH001", "2026-11-26 02:00:00", "pyvrp", "R1", "2026-11-26 02:05:00",
             "2026-11-26 02:40:00", 2, 5000, 2100, 3000, 0),
            ("pyvrp/SH001/1030/R2", DAY, "SH001", "2026-11-26 02:30:00", "pyvrp", "R2", "2026-11-26 02:35:00",
             "2026-11-26 03:00:00", 1, 3000, 1500, 2000, 1000),
            ("pyvrp/SH002/1030/R3", DAY, "SH002", "2026-11-26 02:30:00", "pyvrp", "R3", "2026-11-26 02:35:00",
             "2026-11-26 03:10:00", 2, 4000, 2100, 4000, 0),
            ("greedy/SH001/1000/R1", DAY, "SH001", "2026-11-26 02:00:00", "greedy", "R1", "2026-11-26 02:05:00",
             "2026-11-26 02:45:00", 2, 6000, 2400, 3000, 0),
            ("greedy/SH001/1030/R2", DAY, "SH001", "2026-11-26 02:30:00", "greedy", "R2", "2026-11-26 02:35:00",
             "2026-11-26 03:00:00", 1, 3500, 1500, 2000, 1000),
            ("greedy/SH002/1030/R3", DAY, "SH002", "2026-11-26 02:30:00", "greedy", "R3", "2026-11-26 02:35:00",
             "2026-11-26 03:15:00", 2, 5500, 2400, 4000, 0),
            ("pyvrp/SH001/1000/R1-prev", PREV_DAY, "SH001", "2026-11-25 02:00:00", "pyvrp", "R1",
             "2026-11-25 02:05:00", "2026-11-25 05:00:00", 1, 99000, 9000, 1000, 0),
        ]
    )
    stops: list[tuple] = field(
        default_factory=lambda: [
            (route, day, store, wave, route.split("/")[0], rider, seq, parcel, arrival, arrival, lat, lng, promised,
             on_time)
            for route, day, store, wave, rider, seq, parcel, arrival, lat, lng, promised, on_time in [
                ("pyvrp/SH001/1000/R1", DAY, "SH001", "2026-11-26 02:00:00", "R1", 1, "P1", "2026-11-26 02:15:00",
                 31.2100, 121.6000, "2026-11-26 02:45:00", True),
                ("pyvrp/SH001/1000/R1", DAY, "SH001", "2026-11-26 02:00:00", "R1", 2, "P2", "2026-11-26 02:25:00",
                 31.2200, 121.6100, "2026-11-26 02:50:00", True),
                ("pyvrp/SH001/1030/R2", DAY, "SH001", "2026-11-26 02:30:00", "R2", 1, "P3", "2026-11-26 02:45:00",
                 31.1950, 121.5800, "2026-11-26 03:00:00", True),
                ("pyvrp/SH002/1030/R3", DAY, "SH002", "2026-11-26 02:30:00", "R3", 1, "P4", "2026-11-26 02:45:00",
                 31.2250, 121.5400, "2026-11-26 03:00:00", True),
                ("pyvrp/SH002/1030/R3", DAY, "SH002", "2026-11-26 02:30:00", "R3", 2, "P5", "2026-11-26 03:05:00",
                 31.2300, 121.5300, "2026-11-26 03:00:00", False),
                ("greedy/SH001/1000/R1", DAY, "SH001", "2026-11-26 02:00:00", "R1", 1, "P2", "2026-11-26 02:20:00",
                 31.2200, 121.6100, "2026-11-26 02:50:00", True),
                ("greedy/SH001/1000/R1", DAY, "SH001", "2026-11-26 02:00:00", "R1", 2, "P1", "2026-11-26 02:35:00",
                 31.2100, 121.6000, "2026-11-26 02:45:00", True),
                ("greedy/SH001/1030/R2", DAY, "SH001", "2026-11-26 02:30:00", "R2", 1, "P3", "2026-11-26 02:45:00",
                 31.1950, 121.5800, "2026-11-26 03:00:00", True),
                ("greedy/SH002/1030/R3", DAY, "SH002", "2026-11-26 02:30:00", "R3", 1, "P5", "2026-11-26 03:01:00",
                 31.2300, 121.5300, "2026-11-26 03:00:00", False),
                ("greedy/SH002/1030/R3", DAY, "SH002", "2026-11-26 02:30:00", "R3", 2, "P4", "2026-11-26 03:10:00",
                 31.2250, 121.5400, "2026-11-26 03:00:00", False),
                ("pyvrp/SH001/1000/R1-prev", PREV_DAY, "SH001", "2026-11-25 02:00:00", "R1", 1, "PX",
                 "2026-11-25 02:30:00", 31.3000, 121.7000, None, True),
            ]
        ]
    )
    unassigned: list[tuple] = field(
        default_factory=lambda: [
            (DAY, "SH002", "pyvrp", "P9", "no rider with cold box", "2026-11-26 02:40:00", "2026-11-26 03:20:00",
             "2026-11-26 02:00:00"),
            (DAY, "SH002", "greedy", "P9", "no rider with cold box", "2026-11-26 02:40:00", "2026-11-26 03:20:00",
             "2026-11-26 02:00:00"),
            (DAY, "SH001", "greedy", "P8", "not selected by solver", "2026-11-26 02:40:00", "2026-11-26 03:30:00",
             "2026-11-26 02:00:00"),
        ]
    )
    dispatch_exceptions: list[tuple] = field(
        default_factory=lambda: [
            ("D1", "dispatch_late_risk", "high", "meituan:M9", "meituan", "SH002", "2026-11-26 02:40:00",
             "parcel P9 not dispatched: no rider with cold box (customer 13912345678)", "assign_cold_box_rider", DAY),
        ]
    )
    # The plan as of 02:40 UTC (10:40 Shanghai): R1 is back and idle, R2 and R3 are out; P8 waits for a later
    # trip though its promise (10:30) has passed, P9 has no cold-box rider; two parcels Meituan delivers.
    dispatch_riders: list[tuple] = field(
        default_factory=lambda: [
            (DAY, "2026-11-26 02:40:00", solver, rider, store, status, until, route and f"{solver}/{route}",
             "2026-11-26 00:00:00", "2026-11-26 08:00:00", 15000, 30000 if rider != "R3" else 0)
            for solver in ("pyvrp", "greedy")
            for rider, store, status, until, route in [
                ("R1", "SH001", "idle", "2026-11-26 02:50:00", None),
                ("R2", "SH001", "out", "2026-11-26 03:00:00", "SH001/1030/R2"),
                ("R3", "SH002", "out", "2026-11-26 03:10:00" if solver == "pyvrp" else "2026-11-26 03:15:00",
                 "SH002/1030/R3"),
            ]
        ]
    )
    dispatch_waiting: list[tuple] = field(
        default_factory=lambda: [
            (DAY, "2026-11-26 02:40:00", solver, store, parcel, reason, until, rider, ready, promised, weight, cold)
            for solver in ("pyvrp", "greedy")
            for store, parcel, reason, until, rider, ready, promised, weight, cold in [
                ("SH001", "P8", "held_for_bundling", "2026-11-26 02:50:00", "R1", "2026-11-26 02:20:00",
                 "2026-11-26 02:30:00", 2000, 0),
                ("SH002", "P9", "no_cold_box", None, None, "2026-11-26 02:40:00", "2026-11-26 03:20:00", 3000, 3000),
            ]
        ]
    )
    dispatch_skipped: list[tuple] = field(
        default_factory=lambda: [
            (DAY, "2026-11-26 02:40:00", "SH001", "P20", "platform_delivers", "meituan:M20"),
            (DAY, "2026-11-26 02:40:00", "SH002", "P21", "platform_delivers", "meituan:M21"),
        ]
    )
    stores: list[tuple] = field(
        default_factory=lambda: [
            ("SH001", "鲜到家张江前置仓", "dark_store", "浦东新区", 31.2035, 121.5903),
            ("SH002", "鲜到家花木店", "shop", "浦东新区", 31.2158, 121.5534),
        ]
    )
    riders: list[tuple] = field(
        default_factory=lambda: [
            ("R1", "SH001", "张伟", "ebike", True),
            ("R2", "SH001", "李娜", "ebike", True),
            ("R3", "SH002", "王芳", "ebike", False),
        ]
    )
    recon_daily: list[tuple] = field(
        default_factory=lambda: [
            (RECON_DAY, channel, received, files, lines, items, matched, timing, awaiting, variances,
             0, unknown, amount, fee, 0, 0, 0, tender, 0, settled, variance, variance_abs, cleared, "0.00", status)
            for channel, received, files, lines, items, matched, timing, awaiting, variances, unknown, amount, fee,
                tender, settled, variance, variance_abs, cleared, status in [
                ("meituan", True, 1, 100, 100, 97, 1, 0, 2, 0, 1, 1, 0, "4000.00", "-30.50", "40.50", "46.80",
                 "variances"),
                ("eleme", True, 1, 80, 80, 80, 0, 0, 0, 0, 0, 0, 0, "3000.00", "0.00", "0.00", "0.00", "balanced"),
                ("wechatpay", True, 1, 60, 60, 60, 0, 0, 0, 0, 0, 0, 0, "2000.00", "0.00", "0.00", "0.00",
                 "balanced"),
                ("alipay", False, 0, 0, 3, 0, 0, 3, 0, 0, 0, 0, 0, "0.00", "0.00", "0.00", "0.00", "no_statement"),
                ("pos", True, 1, 8, 8, 7, 0, 0, 1, 0, 0, 0, 1, "1500.00", "-9.96", "9.96", "0.00", "variances"),
                ("groupbuy", True, 1, 30, 30, 29, 0, 0, 1, 1, 0, 0, 0, "800.00", "25.00", "25.00", "0.00",
                 "variances"),
            ]
        ]
        + [
            ("2026-11-24", "meituan", True, 1, 90, 90, 89, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, "3600.00", "-5.00",
             "5.00", "0.00", "0.00", "variances"),
        ]
    )
    recon_lines: list[tuple] = field(
        default_factory=lambda: [
            (line_id, RECON_DAY, channel, item_type, category, status, "payment", sales, order_key, channel_order_id,
             None, store, tender, account, PREV_DAY, RECON_DAY, 0, 1, 1, None, None, expected_net, None, None, net,
             "0.00", variance, explanation,
             f"settlements/{channel}/{RECON_DAY}/statement.csv" if line is not None else None, line)
            for line_id, channel, item_type, category, status, sales, order_key, channel_order_id, store, tender,
                account, expected_net, net, variance, explanation, line in [
                ("L1", "meituan", "statement_line", "amount_mismatch", "variance", "meituan", "meituan:M3", "M3",
                 None, None, "MT-SHOP-1", "46.80", "11.30", "-35.50", "paid 11.30, expected 46.80", 3),
                ("L2", "meituan", "statement_line", "fee_mismatch", "variance", "meituan", "meituan:M4", "M4",
                 None, None, "MT-SHOP-1", "41.80", "46.80", "5.00", "fee 0.00, contract 5.00", 4),
                ("L3", "pos", "tender_total", "tender_total_mismatch", "variance", "pos", None, None, "SH001",
                 "wechat", "SH001", "99.62", "89.66", "-9.96", "WeChat tender short by 9.96", 2),
                ("L4", "groupbuy", "statement_line", "unknown_order", "variance", None, None, "GB999", None, None,
                 "王秀英", None, "25.00", "25.00", "团长王秀英（13912345678）结算行没有对应订单", 7),
                ("L5", "meituan", "statement_line", "matched", "matched", "meituan", "meituan:M1", "M1", None, None,
                 "MT-SHOP-1", "46.80", "46.80", "0.00", "as expected", 1),
                ("L6", "alipay", "order", "awaiting_settlement", "open", "app", "app:APP2026112500003",
                 "APP2026112500003", "SH001", None, None, "30.00", None, None, "no alipay statement yet", None),
            ]
        ]
    )
    # None: every line of recon_lines (the serving step copies all lines of the latest recon days).
    recon_lines_recent: list[tuple] | None = None
    fulfilment: list[tuple] = field(
        default_factory=lambda: [
            (DAY, "app", 40, 30, 27, 2, 1, "2026-11-26 02:59:30"),
            (DAY, "meituan", 50, 45, 42, 3, 0, "2026-11-26 02:59:30"),
            (PREV_DAY, "app", 120, 100, 10, 90, 0, "2026-11-26 02:59:30"),
        ]
    )
    dq_summary: list[tuple] = field(
        default_factory=lambda: [
            ("orders", "batch", "app", "expect_column_values_to_not_be_null(order_key)", "every order has a key",
             "critical", 3, 0, None, "2026-11-26 01:00:06", "b-app", True, "0 unexpected", 0, 125, None),
            ("orders", "batch", "app", "expect_column_values_to_match_regex(phone)",
             "phone is a mainland mobile or landline", "warning", 3, 2, "2026-11-26 01:00:06", "2026-11-26 01:00:06",
             "b-app", False, '1 unexpected: ["13812345678"]', 1, 125, '["13812345678"]'),
            ("orders", "batch", "meituan", "expect_column_values_to_be_between(amount_gap)",
             "paid = goods - discounts + fees", "critical", 2, 1, "2026-11-26 01:01:04", "2026-11-26 01:01:04",
             "b-mt", False, "2 unexpected", 2, 84, None),
            ("stock", "table", None, "expect_stock_conservation", "on hand - reserved + released = available",
             "critical", 5, 0, None, "2026-11-26 02:59:40", "b-pos", True, "0 unbalanced", 0, 5, None),
        ]
    )
    dq_validations: list[tuple] = field(
        default_factory=lambda: [
            ("orders", "batch", "b-app", "app", 125, 12, 1, 0, False, 0.4, "2026-11-26 01:00:06", "run-001"),
            ("orders", "batch", "b-mt", "meituan", 84, 12, 1, 1, False, 0.3, "2026-11-26 01:01:04", "run-001"),
            ("stock", "table", "b-pos", None, 5, 3, 0, 0, True, 0.1, "2026-11-26 02:59:40", "run-001"),
        ]
    )
    quarantine_status: list[tuple] = field(
        default_factory=lambda: [
            ("meituan", "bad_json", 7, 5, 2, 0, "2026-11-26 02:10:00"),
            ("app", "missing_field", 3, 3, 0, 0, "2026-11-26 01:00:00"),
            ("pos", "bad_amount", 12, 10, 1, 1, "2026-11-26 02:00:00"),
        ]
    )
    settlement_t1: list[tuple] = field(
        default_factory=lambda: [
            (RECON_DAY, "meituan", DAY, 1, 99, 1, 0, 100, "4200.00", "50.00", "150.00", "4000.00", "4000.00", True),
            (RECON_DAY, "wechatpay", DAY, 1, 60, 0, 0, 60, "2012.00", "0.00", "12.00", "2000.00", None, None),
            (RECON_DAY, "pos", DAY, 1, 8, 0, 0, 120, "1505.00", "0.00", "5.00", "1500.00", "1490.00", False),
        ]
    )
    # fmt: on
    omit: tuple[str, ...] = ()  # tables this snapshot is published without
    published_at: datetime | None = None  # None: a few seconds before the snapshot is written
    latest_order_at: datetime = datetime(2026, 11, 26, 2, 59, 30)
    run_id: str = "run-001"


def write_snapshot(path: Path, snap: Snapshot) -> None:
    """Write ``snap`` as a DuckDB file at ``path`` (replacing nothing: ``path`` must not exist)."""
    con = duckdb.connect(str(path))
    try:
        tables = {
            "fct_daily_channel_summary": snap.daily,
            "fct_channel_kpis_hourly": snap.hourly,
            "fct_channel_orders_minutely": snap.minutely,
            "fct_ingest_accounting": snap.ingest,
            "fct_quarantine_summary": snap.quarantine,
            "fct_exceptions": snap.exceptions,
            "fct_stock_positions": snap.stock_positions,
            "fct_oversell_events": snap.oversells,
            "fct_channel_stock_feed": snap.stock_feed,
            "fct_merge_savings_daily": snap.merge_savings,
            "dispatch_routes": snap.routes,
            "dispatch_stops": snap.stops,
            "dispatch_unassigned": snap.unassigned,
            "dispatch_exceptions": snap.dispatch_exceptions,
            "dispatch_riders": snap.dispatch_riders,
            "dispatch_waiting": snap.dispatch_waiting,
            "dispatch_skipped": snap.dispatch_skipped,
            "stores": snap.stores,
            "riders": snap.riders,
            "fct_reconciliation_daily": snap.recon_daily,
            "fct_reconciliation_lines": snap.recon_lines,
            "fct_settlement_t1": snap.settlement_t1,
            "reconciliation_lines_recent": snap.recon_lines
            if snap.recon_lines_recent is None
            else snap.recon_lines_recent,
            "fulfilment_daily": snap.fulfilment,
            "dq_results_summary": snap.dq_summary,
            "dq_validations_recent": snap.dq_validations,
            "dq_quarantine_status": snap.quarantine_status,
        }
        con.execute("BEGIN TRANSACTION")  # one commit for the whole file: the fixture is built for every test
        for table, rows in tables.items():
            if table in snap.omit:
                continue
            con.execute(f"CREATE TABLE {table}({TABLES[table]})")
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        con.execute("CREATE TABLE snapshot_meta(published_at TIMESTAMP, latest_order_at TIMESTAMP, run_id VARCHAR)")
        published_at = snap.published_at or utc_now() - timedelta(seconds=3)
        con.execute("INSERT INTO snapshot_meta VALUES (?, ?, ?)", [published_at, snap.latest_order_at, snap.run_id])
        con.execute("COMMIT")
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
