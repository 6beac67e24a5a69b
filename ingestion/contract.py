"""The unified order model: the one contract between ingestion and everything downstream.

Each table is declared once, as an ordered mapping of column name to polars dtype; the DuckDB DDL
of the raw schema is derived from it, so the two can never drift apart.
"""

from __future__ import annotations

import polars as pl

CHANNELS: tuple[str, ...] = ("app", "miniprogram", "meituan", "eleme", "pos", "groupbuy")
ORDER_STATUSES: tuple[str, ...] = ("created", "paid", "picking", "dispatched", "delivered", "cancelled")
FULFILMENT_TYPES: tuple[str, ...] = ("delivery", "self_pickup", "in_store")
# Who takes a delivery order to the door: the merchant's own riders, or the platform's (Meituan 专送/快送).
DELIVERED_BY: tuple[str, ...] = ("merchant", "platform")
TEMP_ZONES: tuple[str, ...] = ("ambient", "chilled", "frozen")
PHONE_KINDS: tuple[str, ...] = ("mobile", "masked", "privacy", "landline", "missing")
LOCAL_TIMEZONE = "Asia/Shanghai"
RAW_SCHEMA = "raw"

MONEY = pl.Decimal(18, 2)
UTC_TS = pl.Datetime("us")  # naive, always UTC by contract

ORDERS: dict[str, pl.DataType] = {
    "order_key": pl.String,
    "channel": pl.String,
    "channel_order_id": pl.String,
    "store_id": pl.String,
    "channel_user_id": pl.String,
    "recipient_name": pl.String,
    "phone": pl.String,
    "phone_kind": pl.String,
    "phone_last4": pl.String,
    # The first three digits of the customer's own mobile where only a remark shows them (Meituan's caution beside
    # a relay number: 手机号 135****6789), so that 135…6789 is never taken for 139…6789; null otherwise.
    "phone_first3": pl.String,
    "address_raw": pl.String,
    "province": pl.String,
    "city": pl.String,
    "district": pl.String,
    "street": pl.String,
    "address_detail": pl.String,
    "admin_code": pl.String,
    "address_key": pl.String,
    "lat": pl.Float64,
    "lng": pl.Float64,
    "created_at": UTC_TS,
    "paid_at": UTC_TS,
    "promised_from": UTC_TS,
    "promised_to": UTC_TS,
    "status": pl.String,
    "goods_amount": MONEY,
    "merchant_discount": MONEY,
    "platform_discount": MONEY,
    "delivery_fee": MONEY,
    "packaging_fee": MONEY,
    "paid_amount": MONEY,
    # What the platform says it pays the merchant for this order (Meituan poi_receive_detail, Eleme income);
    # null where the channel states nothing and reconciliation falls back to configured fee rates.
    "merchant_receivable": MONEY,
    "payment_method": pl.String,
    "fulfilment_type": pl.String,
    # 'merchant' | 'platform', null where the channel does not say (every channel but Meituan): dispatch plans
    # only parcels our riders carry (orchestration/defs/dispatch/plan.py).
    "delivered_by": pl.String,
    # The channel's own time of this version of the order (Meituan utime, Eleme push timestamp, the apps'
    # updated_at, the till's transaction time): which of two versions is newer (ingestion/loader.py).
    "updated_at": UTC_TS,
    "batch_id": pl.String,
    "source_file": pl.String,
    "source_line": pl.Int64,
    "raw_hash": pl.String,
}

# weight_g and volume_ml are line totals (unit × quantity), from the product catalogue.
ORDER_LINES: dict[str, pl.DataType] = {
    "order_key": pl.String,
    "line_no": pl.Int32,
    "sku_id": pl.String,
    "channel_sku": pl.String,
    "name": pl.String,
    "quantity": pl.Int32,
    "unit_price": MONEY,
    "original_price": MONEY,
    "line_discount": MONEY,
    "paid_amount": MONEY,
    "weight_g": pl.Int32,
    "volume_ml": pl.Int32,
    "temp_zone": pl.String,
    # The batch of the version these lines are, always its orders row's batch_id (the loader replaces an
    # order's row and lines together). Rows are appended in batch order, so a read of some orders' lines that
    # also lists their batches skips the row groups of every other batch (dbt macro in_batch_order_lines).
    "batch_id": pl.String,
}

ORDER_EVENTS: dict[str, pl.DataType] = {
    "order_key": pl.String,
    "status": pl.String,
    "event_time": UTC_TS,
    "received_at": UTC_TS,
    "source": pl.String,
    "batch_id": pl.String,
}

# A quarantine row as the adapters and readers make it, before the batch stamps it (channel is the accounting
# label).
QUARANTINE_STAGING: dict[str, pl.DataType] = {
    "channel": pl.String,
    "source_file": pl.String,
    "source_line": pl.Int64,
    "raw": pl.String,
    "error_code": pl.String,
    "message": pl.String,
}

QUARANTINE: dict[str, pl.DataType] = {
    **QUARANTINE_STAGING,
    "batch_id": pl.String,
    "quarantined_at": UTC_TS,
}

INGEST_BATCHES: dict[str, pl.DataType] = {
    "batch_id": pl.String,
    "channel": pl.String,
    "files": pl.Int32,
    "landed": pl.Int64,
    "loaded": pl.Int64,
    "quarantined": pl.Int64,
    "duplicate": pl.Int64,
    "started_at": UTC_TS,
    "finished_at": UTC_TS,
}

# The checkpoint: one row per landing file that has been fully processed. It is written in the same
# transaction as the rows the file produced, so "done" and "loaded" can never disagree after a crash.
INGEST_FILES: dict[str, pl.DataType] = {
    "path": pl.String,
    "kind": pl.String,
    "channel": pl.String,
    "size_bytes": pl.Int64,
    "batch_id": pl.String,
    "records": pl.Int64,
    "done_at": UTC_TS,
}

# Every distinct version of an order ever loaded: an identical re-push is a duplicate, a changed one is a
# new version. `orders` / `order_lines` hold the latest version (by the channel's updated_at, then when we
# received it, then file and line); every version's header and lines stay in `order_history` /
# `order_line_history`. received_at / updated_at are null on versions loaded before they were recorded.
ORDER_VERSIONS: dict[str, pl.DataType] = {
    "order_key": pl.String,
    "raw_hash": pl.String,
    "batch_id": pl.String,
    "source_file": pl.String,
    "source_line": pl.Int64,
    "received_at": UTC_TS,
    "updated_at": UTC_TS,
}

# Every version's header as it was loaded, with when it arrived and its record text (a till ticket's rows
# from several files are joined from it). One row per (order_key, raw_hash), like order_versions.
ORDER_HISTORY: dict[str, pl.DataType] = {**ORDERS, "received_at": UTC_TS, "raw": pl.String}

# Every version's lines; raw_hash names the version (order_history) they belong to; its batch is there, not repeated per line.
ORDER_LINE_HISTORY: dict[str, pl.DataType] = {
    **{column: dtype for column, dtype in ORDER_LINES.items() if column != "batch_id"},
    "raw_hash": pl.String,
}

STORES: dict[str, pl.DataType] = {
    "store_id": pl.String,
    "name": pl.String,
    "kind": pl.String,
    "city": pl.String,
    "district": pl.String,
    "address": pl.String,
    "lat": pl.Float64,
    "lng": pl.Float64,
}

PRODUCTS: dict[str, pl.DataType] = {
    "sku_id": pl.String,
    "name": pl.String,
    "category": pl.String,
    "unit_price": MONEY,
    "weight_g": pl.Int32,
    "volume_ml": pl.Int32,
    "temp_zone": pl.String,
}

RIDERS: dict[str, pl.DataType] = {
    "rider_id": pl.String,
    "store_id": pl.String,
    "name": pl.String,
    "vehicle": pl.String,
    "capacity_kg": pl.Float64,
    "cold_box": pl.Boolean,
    "shift_start": pl.String,
    "shift_end": pl.String,
}

PROMOTIONS: dict[str, pl.DataType] = {
    "promo_id": pl.String,
    "channel": pl.String,
    "kind": pl.String,
    "threshold": MONEY,
    "amount": MONEY,
    "sku_id": pl.String,
    "starts_at": UTC_TS,
    "ends_at": UTC_TS,
    "platform_share": pl.Float64,
}

STOCK_SNAPSHOTS: dict[str, pl.DataType] = {
    "snapshot_at": UTC_TS,
    "store_id": pl.String,
    "sku_id": pl.String,
    "on_hand": pl.Int64,
}

# Stock that moves between WMS counts: goods received, transferred between stores, written off. quantity is
# the units moved (always positive); the type gives the direction (STOCK_MOVEMENT_SIGNS). moved_at is when the
# goods were physically in (or out of) the store, UTC.
STOCK_MOVEMENT_SIGNS: dict[str, int] = {"receipt": 1, "transfer_in": 1, "transfer_out": -1, "write_off": -1}
STOCK_MOVEMENTS: dict[str, pl.DataType] = {
    "movement_id": pl.String,  # the WMS document line's id: a re-sent file replaces the row
    "store_id": pl.String,
    "sku_id": pl.String,
    "movement_type": pl.String,  # STOCK_MOVEMENT_SIGNS
    "quantity": pl.Int64,
    "moved_at": UTC_TS,
    "reference": pl.String,  # delivery note, transfer order or write-off reason, as the WMS gives it
}

# Settlement statements: one row per statement line the channel sent, in the channel's own
# terms. Amounts are yuan, signed as money reaching us: a payment has gross ≥ 0, a fee ≥ 0 (a fee given
# back on a refund is negative), net = what the line pays us (negative for refunds), refund_amount ≥ 0.
# `summary` lines are the statement's own totals, kept for checking and excluded from reconciliation.
SETTLEMENT_CHANNELS: tuple[str, ...] = ("meituan", "eleme", "wechatpay", "alipay", "pos", "groupbuy")
SETTLEMENT_LINE_TYPES: tuple[str, ...] = ("payment", "refund", "fee", "adjustment", "summary")
SETTLEMENT_LINES: dict[str, pl.DataType] = {
    "channel": pl.String,  # the statement's channel (SETTLEMENT_CHANNELS)
    "statement_date": pl.Date,  # the statement's business day (its landing folder)
    "line_type": pl.String,
    "channel_order_id": pl.String,  # the order id the line names (商户订单号 on payment bills)
    "order_key": pl.String,  # set where the statement itself names the sales channel (meituan, eleme, groupbuy)
    "transaction_id": pl.String,  # the channel's id of the payment or settlement entry
    "refund_id": pl.String,
    "store_id": pl.String,
    "account_id": pl.String,  # merchant account / shop / group-buy leader the statement is for
    "tender": pl.String,  # POS end-of-day totals only: cash, wechat, alipay, card
    # Summary lines only: which lines the stated total covers, where a channel delivers one day in several
    # layouts (WeChat Pay's SUCCESS bill totals payments, its REFUND bill refunds, its ALL bill both): 'payment',
    # 'refund'; null is the whole statement.
    "summary_of": pl.String,
    "txn_count": pl.Int64,  # transactions the line stands for (1 for an order line)
    "gross_amount": MONEY,
    "fee_amount": MONEY,
    "net_amount": MONEY,
    "refund_amount": MONEY,
    "settled_at": UTC_TS,
    "source_file": pl.String,
    "source_line": pl.Int64,
    "raw_hash": pl.String,
    "batch_id": pl.String,
}

ORDER_TABLES: dict[str, dict[str, pl.DataType]] = {
    "orders": ORDERS,
    "order_lines": ORDER_LINES,
    "order_events": ORDER_EVENTS,
    "quarantine": QUARANTINE,
    "ingest_batches": INGEST_BATCHES,
    "ingest_files": INGEST_FILES,
    "order_versions": ORDER_VERSIONS,
    "order_history": ORDER_HISTORY,
    "order_line_history": ORDER_LINE_HISTORY,
    "settlement_lines": SETTLEMENT_LINES,  # loaded by the same micro-batch as the orders
}

# Reference tables with the key a newer file replaces rows by.
REFERENCE_TABLES: dict[str, tuple[dict[str, pl.DataType], tuple[str, ...]]] = {
    "stores": (STORES, ("store_id",)),
    "products": (PRODUCTS, ("sku_id",)),
    "riders": (RIDERS, ("rider_id",)),
    # A promotion restated with another start is another window of it, kept beside the earlier ones: the
    # orders sold in an earlier window are priced against it (stg_raw__promotions).
    "promotions": (PROMOTIONS, ("promo_id", "starts_at")),
    "stock_snapshots": (STOCK_SNAPSHOTS, ("snapshot_at", "store_id", "sku_id")),
    "stock_movements": (STOCK_MOVEMENTS, ("movement_id",)),
}

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "orders": ("order_key",),
    "order_lines": ("order_key", "line_no"),
    "order_events": ("order_key", "status", "event_time"),
    "ingest_batches": ("batch_id", "channel"),
    "ingest_files": ("path",),
    # Not keyed: the append-only history (order_versions, order_history, order_line_history). Each holds one
    # row per version (order_versions.py writes only versions it has not seen), but DuckDB keeps a primary
    # key's index in memory once the table is touched and adds to it on every insert, these tables grow with
    # all of history (at 1M orders their indexes were about 1.4 GB of the file), and nothing looks a row up by
    # it: the loader reads them by order_key alone. Each batch's rows are checked against their keys instead
    # (order_versions.history_key_duplicates, the checks job's history_keys_unique: orchestration/defs/ingest/checks.py).
    "quarantine": ("source_file", "source_line"),
    # The same line text on the same channel's statement of the same day is one line (a re-delivered file).
    "settlement_lines": ("channel", "statement_date", "raw_hash"),
    **{name: key for name, (_, key) in REFERENCE_TABLES.items()},
}


def duckdb_type(dtype: pl.DataType) -> str:
    if dtype == pl.String:
        return "VARCHAR"
    if dtype == pl.Float64:
        return "DOUBLE"
    if dtype == pl.Int64:
        return "BIGINT"
    if dtype == pl.Int32:
        return "INTEGER"
    if dtype == pl.Boolean:
        return "BOOLEAN"
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMP"
    if dtype == pl.Date:
        return "DATE"
    raise TypeError(f"no DuckDB type declared for {dtype!r}")


# A record's text as it arrived, kept for audit and read rarely (a till ticket's rows, a quarantine review):
# zstd keeps it in about a sixth of the space of DuckDB's default string compression, which analyses every
# string for dictionary/FSST encoding and took twice as long to write it (docs/decisions.md). A warehouse
# made before keeps its columns as they were.
RECORD_TEXT_COLUMNS = frozenset({"raw"})


def create_table_sql(name: str, columns: dict[str, pl.DataType], key: tuple[str, ...] | None = None) -> str:
    """The table's DDL, with its primary key (`key`, by default the contract's key of `name`)."""
    cols = [
        f'"{col}" {duckdb_type(dtype)}' + (" USING COMPRESSION zstd" if col in RECORD_TEXT_COLUMNS else "")
        for col, dtype in columns.items()
    ]
    key = key or PRIMARY_KEYS.get(name)
    if key:
        cols.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in key) + ")")
    return f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{name} (\n  " + ",\n  ".join(cols) + "\n)"


def all_tables() -> dict[str, dict[str, pl.DataType]]:
    return {**ORDER_TABLES, **{name: cols for name, (cols, _) in REFERENCE_TABLES.items()}}


def raw_schema_ddl() -> list[str]:
    return [f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}"] + [
        create_table_sql(name, cols) for name, cols in all_tables().items()
    ]


def empty_frame(columns: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=columns)
