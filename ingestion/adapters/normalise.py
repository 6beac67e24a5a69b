"""The vectorised normaliser: any channel's extracted records → orders, lines, events and quarantine rows.

Everything that interprets values (units, time formats, status codes, phone kinds, catalogue lookups,
validation) happens here, in polars, driven by the channel's `ChannelSpec` (ingestion/adapters/base.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import polars as pl

from ingestion import addresses, contract, phones, times
from ingestion.adapters.base import (
    LINE_FIELDS,
    MONEY_LINE_FIELDS,
    MONEY_ORDER_FIELDS,
    ORDER_FIELDS,
    STATED_MONEY_FIELDS,
    TIME_FIELDS,
    Catalogue,
    ChannelSpec,
    MoneyUnit,
    NormalisedBatch,
    TimeFormat,
)
from ingestion.records import RawRecord, RecordError

# Larger amounts (and inf / NaN) are not money: they become null, i.e. "not a number" (a hostile
# value must quarantine its record, never fail the DECIMAL(18,2) cast of the whole batch).
MAX_AMOUNT = 1e12
MAX_QUANTITY = 100_000


def _money(col: str, unit: MoneyUnit) -> pl.Expr:
    number = pl.col(col).str.strip_chars().cast(pl.Float64, strict=False)
    if unit == "fen":
        # A fen field holds whole fen: 7.5 there is yuan written into the wrong unit (it would load as ¥0.08),
        # or a fraction no payment can carry, and either way not an amount to load.
        number = pl.when(number == number.round(0)).then(number / 100)
    number = pl.when(number.is_finite() & (number.abs() < MAX_AMOUNT)).then(number).otherwise(None)
    return number.round(2).cast(contract.MONEY, strict=False)


# A channel's times outside these years are a misread field (epoch milliseconds sent where seconds are
# documented land in the year 58872), never an order: they quarantine the record instead of dating it.
EARLIEST_TIME = datetime(2000, 1, 1)
LATEST_TIME = datetime(2100, 1, 1)
_TIME_FORMAT_NAMES = {
    "iso": "an ISO 8601 time with its UTC offset",
    "epoch_s": "a time in epoch seconds",
    "epoch_ms": "a time in epoch milliseconds",
    "local": "a local time YYYY-MM-DD HH:MM:SS",
}


def _utc_time(col: str, fmt: TimeFormat, local_tz: str) -> pl.Expr:
    raw = pl.col(col).str.strip_chars()
    if fmt in ("epoch_s", "epoch_ms"):
        as_int = raw.cast(pl.Int64, strict=False)
        as_int = pl.when(as_int > 0).then(as_int).otherwise(None)
        parsed = pl.from_epoch(as_int, time_unit="s" if fmt == "epoch_s" else "ms").cast(contract.UTC_TS)
    elif fmt == "iso":
        parsed = times.rfc3339_to_utc(raw)
    else:
        normalised = raw.str.replace("T", " ")
        local = normalised.str.to_datetime(format="%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
        parsed = (
            local.dt.replace_time_zone(local_tz, ambiguous="earliest")
            .dt.convert_time_zone("UTC")
            .dt.replace_time_zone(None)
        )
    return pl.when(parsed.is_between(EARLIEST_TIME, LATEST_TIME, closed="left")).then(parsed)


# A time that is given but cannot be read quarantines its record: left null, a status time would rank the
# version below every other (it would never apply) and a payment time would vanish without a word.
_TIME_FIELD_NAMES = {
    "created_at": "order time",
    "paid_at": "payment time",
    "promised_from": "promised-from time",
    "promised_to": "promised time",
    "status_time": "status time",
}


def _time_given(col: str) -> pl.Expr:
    """Whether the record states a time here: blank, and the 0 epoch platforms write for "none", are not one."""
    raw = pl.col(col).str.strip_chars()
    return raw.is_not_null() & ~raw.is_in(["", "0"])


Check = tuple[pl.Expr, "str | pl.Expr", pl.Expr]  # (failed, error code, message)


def _first_failure(checks: list[Check]) -> tuple[pl.Expr, pl.Expr]:
    """(error_code, message) of the first failing check, null when all pass."""
    code: pl.Expr = pl.lit(None, dtype=pl.String)
    message: pl.Expr = pl.lit(None, dtype=pl.String)
    for failed, error_code, error_message in reversed(checks):
        code_expr = pl.lit(error_code) if isinstance(error_code, str) else error_code
        code = pl.when(failed).then(code_expr).otherwise(code)
        message = pl.when(failed).then(error_message).otherwise(message)
    return code, message


def normalise(
    spec: ChannelSpec,
    records: Iterable[RawRecord],
    catalogue: Catalogue,
    batch_id: str,
    received_at: Any,
    local_tz: str = contract.LOCAL_TIMEZONE,
) -> NormalisedBatch:
    """Turn one channel's raw records into contract frames; every record ends loaded or quarantined."""
    # The extractors' own dicts go to polars as they are (a missing field is null, an extra key is ignored)
    # and what every record or line adds is gathered column-wise: copying each record into a dict of its
    # own was a fifth of normalising.
    order_dicts: list[dict[str, str | None]] = []
    files: list[str] = []
    line_numbers: list[int] = []
    texts: list[str] = []
    hashes: list[str] = []
    line_dicts: list[dict[str, str | None]] = []
    line_files: list[str] = []
    line_record_lines: list[int] = []
    line_nos: list[int] = []
    early_quarantine: list[dict[str, Any]] = []
    for record in records:
        try:
            extracted = spec.extract(record)
        except RecordError as err:
            early_quarantine.append(_quarantine_row(spec.channel, record, err.code, err.message))
            continue
        order_dicts.append(extracted.order)
        files.append(record.source_file)
        line_numbers.append(record.source_line)
        texts.append(record.text)
        hashes.append(extracted.version_hash or record.raw_hash)
        if extracted.lines:
            count = len(extracted.lines)
            line_dicts.extend(extracted.lines)
            line_files.extend([record.source_file] * count)
            line_record_lines.extend([record.source_line] * count)
            line_nos.extend(range(1, count + 1))

    orders = pl.DataFrame(order_dicts, schema=dict.fromkeys(ORDER_FIELDS, pl.String)).with_columns(
        strings("source_file", files),
        pl.Series("source_line", line_numbers, dtype=pl.Int64),
        strings("raw", texts),
        strings("raw_hash", hashes),
    )
    line_values = pl.DataFrame(line_dicts, schema=dict.fromkeys(LINE_FIELDS, pl.String))
    lines = pl.DataFrame(
        [
            strings("source_file", line_files),
            pl.Series("source_line", line_record_lines, dtype=pl.Int64),
            pl.Series("line_no", line_nos, dtype=pl.Int32),
        ]
    ).hstack(line_values)

    lines = _typed_lines(lines, spec, catalogue)
    orders = _typed_orders(orders, spec, local_tz)

    # Line-level failures make the whole order bad: an order is never loaded with a line missing.
    line_failures = (
        lines.filter(pl.col("error_code").is_not_null())
        .group_by("source_file", "source_line")
        .agg(
            pl.col("error_code").first().alias("line_error_code"),
            pl.col("error_message").first().alias("line_error_message"),
        )
    )
    orders = orders.join(line_failures, on=["source_file", "source_line"], how="left")
    line_counts = lines.group_by("source_file", "source_line").agg(pl.len().alias("line_count"))
    orders = orders.join(line_counts, on=["source_file", "source_line"], how="left")

    code, message = _first_failure(_order_checks(spec, catalogue))
    orders = orders.with_columns(error_code=code, error_message=message)

    bad = orders.filter(pl.col("error_code").is_not_null())
    good = orders.filter(pl.col("error_code").is_null())

    quarantine = pl.concat(
        [
            pl.DataFrame(early_quarantine, schema=contract.QUARANTINE_STAGING),
            bad.select(
                pl.lit(spec.channel).alias("channel"),
                "source_file",
                "source_line",
                "raw",
                pl.col("error_code"),
                pl.format("{} line {}: {}", "source_file", "source_line", "error_message").alias("message"),
            ),
        ]
    ).with_columns(batch_id=pl.lit(batch_id), quarantined_at=pl.lit(received_at).cast(contract.UTC_TS))

    good = _with_addresses(good, spec.address_fallback)
    good = good.with_columns(
        order_key=pl.lit(spec.channel + ":") + pl.col("channel_order_id"),
        channel=pl.lit(spec.channel),
        batch_id=pl.lit(batch_id),
    )
    good_lines = lines.join(
        good.select("source_file", "source_line", "order_key", "batch_id"),
        on=["source_file", "source_line"],
        how="inner",
    )
    events = _events(good, received_at, batch_id)
    return NormalisedBatch(
        orders=good.select(list(contract.ORDERS)),  # source_file / source_line are contract columns
        lines=good_lines.select([*contract.ORDER_LINES, "source_file", "source_line"]),
        events=events.select([*contract.ORDER_EVENTS, "source_file", "source_line"]),
        quarantine=quarantine.select(list(contract.QUARANTINE)),
        texts=good.select("source_file", "source_line", "raw"),
    )


def strings(name: str, values: list[str]) -> pl.Series:
    """A String column from Python strings: polars converts a list it infers as strings about three times as
    fast as one it is told is strings; the cast only names the type of an empty (Null) list."""
    return pl.Series(name, values).cast(pl.String)


def _quarantine_row(channel: str, record: RawRecord, code: str, message: str) -> dict[str, Any]:
    return {
        "channel": channel,
        "source_file": record.source_file,
        "source_line": record.source_line,
        "raw": record.text,
        "error_code": code,
        "message": f"{record.source_file} line {record.source_line}: {message}",
    }


def _typed_lines(lines: pl.DataFrame, spec: ChannelSpec, catalogue: Catalogue) -> pl.DataFrame:
    typed = lines.with_columns(
        quantity_num=pl.col("quantity").str.strip_chars().cast(pl.Float64, strict=False),
        **{f"{f}_m": _money(f, spec.money_unit) for f in MONEY_LINE_FIELDS},
        channel_sku=pl.coalesce("channel_sku", "sku_id"),
    )
    typed = typed.join(catalogue.products, on="sku_id", how="left", coalesce=True)
    quantity_is_count = typed["quantity_num"].is_not_null() & (typed["quantity_num"] == typed["quantity_num"].round(0))
    typed = typed.with_columns(quantity_is_count=quantity_is_count)
    where = pl.lit("line ") + pl.col("line_no").cast(pl.String) + pl.lit(": ")
    checks = [
        (pl.col("sku_id").is_null(), "missing_field", where + pl.lit("item code is empty")),
        (pl.col("quantity").is_null(), "missing_field", where + pl.lit("quantity is empty")),
        (pl.col("unit_price").is_null(), "missing_field", where + pl.lit("price is empty")),
        (
            ~pl.col("quantity_is_count"),
            "bad_value",
            where + pl.lit("quantity '") + pl.col("quantity") + pl.lit("' is not a whole number"),
        ),
        (
            pl.col("unit_price_m").is_null(),
            "bad_value",
            where
            + pl.lit("price '")
            + pl.col("unit_price")
            + pl.lit(f"' is not an amount in {_UNIT_NAMES[spec.money_unit]}"),
        ),
        (
            pl.col("quantity_num") <= 0,
            "bad_quantity",
            where + pl.lit("quantity ") + pl.col("quantity") + pl.lit(" must be positive"),
        ),
        (
            pl.col("quantity_num") > MAX_QUANTITY,
            "bad_quantity",
            where
            + pl.lit("quantity ")
            + pl.col("quantity")
            + pl.lit(f" is over {MAX_QUANTITY:,}: not a real order line"),
        ),
        (
            pl.col("unit_price_m") < 0,
            "bad_value",
            where + pl.lit("price ") + pl.col("unit_price") + pl.lit(" is negative"),
        ),
        (
            pl.col("temp_zone").is_null(),
            "unknown_sku",
            where + pl.lit("SKU '") + pl.col("sku_id") + pl.lit("' is not in the product catalogue: add it or map it"),
        ),
    ]
    code, message = _first_failure(checks)
    quantity = pl.col("quantity_num").cast(pl.Int32, strict=False)
    unit_price = pl.col("unit_price_m")
    original = pl.coalesce("original_price_m", "unit_price_m")
    discount = pl.coalesce("line_discount_m", pl.lit(0).cast(contract.MONEY))
    line_paid = pl.coalesce(
        "paid_amount_m",
        (unit_price.cast(pl.Float64) * pl.col("quantity_num").clip(0, MAX_QUANTITY))
        .round(2)
        .cast(contract.MONEY, strict=False),
    )
    return typed.with_columns(error_code=code, error_message=message).with_columns(
        quantity=quantity,
        unit_price=unit_price,
        original_price=original,
        line_discount=discount,
        paid_amount=line_paid,
        # Weight and volume are line totals from the catalogue: channels' own weights are unreliable.
        weight_g=(pl.col("weight_g") * quantity).cast(pl.Int32),
        volume_ml=(pl.col("volume_ml") * quantity).cast(pl.Int32),
    )


def _typed_orders(orders: pl.DataFrame, spec: ChannelSpec, local_tz: str) -> pl.DataFrame:
    phone = phones.cleaned("phone")
    orders = orders.with_columns(phone=phone).with_columns(phone_kind=phones.kind("phone"))
    scale = spec.coordinate_scale
    return orders.with_columns(
        phone_last4=phones.last4("phone", "phone_kind", "phone_hint"),
        phone_first3=phones.remark_first3("phone", "phone_kind", "phone_hint"),
        # Rounded to 1e-7° (1 cm): a division is not bit-identical across batch sizes, and the same record must
        # give the same row whichever batch it arrives in (e.g. a quarantine replay, or files replayed in reverse order).
        lat_num=(pl.col("lat").cast(pl.Float64, strict=False) / scale).round(7),
        lng_num=(pl.col("lng").cast(pl.Float64, strict=False) / scale).round(7),
        status_norm=pl.col("status").replace_strict(dict(spec.status_map), default=None, return_dtype=pl.String),
        fulfilment_type=pl.col("fulfilment").replace_strict(
            dict(spec.fulfilment_map), default=None, return_dtype=pl.String
        ),
        payment_method=pl.col("payment_method").replace_strict(
            dict(spec.payment_map), default=pl.col("payment_method"), return_dtype=pl.String
        )
        if spec.payment_map
        else pl.col("payment_method"),
        **{f"{f}_ts": _utc_time(f, spec.time_format, local_tz) for f in TIME_FIELDS},
        **{f"{f}_m": _money(f, spec.money_unit) for f in MONEY_ORDER_FIELDS},
    )


# What the platform states it pays may be negative (fees above the takings); our own amounts never are.
_NEVER_NEGATIVE = tuple(f for f in MONEY_ORDER_FIELDS if f != "merchant_receivable")
_UNIT_NAMES = {"yuan": "yuan", "fen": "whole fen"}


def _order_checks(spec: ChannelSpec, catalogue: Catalogue) -> list[Check]:
    is_delivery = pl.col("fulfilment_type") == "delivery"
    known_stores = list(catalogue.store_ids)
    return [
        (pl.col("channel_order_id").is_null(), "missing_field", pl.lit("order id is empty")),
        (pl.col("store_id").is_null(), "missing_field", pl.lit("store code is empty")),
        (pl.col("created_at").is_null(), "missing_field", pl.lit("order time is empty")),
        (pl.col("line_count").is_null(), "missing_field", pl.lit("order has no items")),
        (is_delivery & pl.col("address_raw").is_null(), "missing_field", pl.lit("delivery order has no address")),
        (
            is_delivery & (pl.col("phone_kind") == "missing"),
            "missing_field",
            pl.lit("delivery order has no phone number"),
        ),
        (pl.col("line_error_code").is_not_null(), pl.col("line_error_code"), pl.col("line_error_message")),
        *[
            (
                pl.col(f"{f}_ts").is_null() & (_time_given(f) if f != "created_at" else pl.lit(True)),
                "bad_value",
                pl.lit(f"{_TIME_FIELD_NAMES[f]} '")
                + pl.col(f)
                + pl.lit(
                    f"' is not {_TIME_FORMAT_NAMES[spec.time_format]} between {EARLIEST_TIME.year} and {LATEST_TIME.year}"
                ),
            )
            for f in TIME_FIELDS
        ],
        (
            pl.col("status_norm").is_null(),
            "bad_value",
            pl.lit("status '") + pl.coalesce("status", pl.lit("")) + pl.lit("' is not a known status code"),
        ),
        (
            pl.col("fulfilment_type").is_null(),
            "bad_value",
            pl.lit("fulfilment '") + pl.coalesce("fulfilment", pl.lit("")) + pl.lit("' is not a known type"),
        ),
        (
            pl.col("delivered_by").is_not_null() & ~pl.col("delivered_by").is_in(contract.DELIVERED_BY),
            "bad_value",
            pl.lit("delivered_by '") + pl.coalesce("delivered_by", pl.lit("")) + pl.lit("' is not a known party"),
        ),
        (
            pl.col("paid_amount_m").is_null(),
            "bad_value",
            pl.lit("paid amount '") + pl.coalesce("paid_amount", pl.lit("")) + pl.lit("' is not a number"),
        ),
        *[
            (
                pl.col(f"{f}_m").is_null() & pl.col(f).is_not_null(),
                "bad_value",
                pl.lit(f"{f.replace('_', ' ')} '")
                + pl.col(f)
                + pl.lit(f"' is not an amount in {_UNIT_NAMES[spec.money_unit]}"),
            )
            for f in MONEY_ORDER_FIELDS
        ],
        (
            pl.any_horizontal(*[pl.col(f"{f}_m") < 0 for f in _NEVER_NEGATIVE]),
            "bad_value",
            pl.concat_str(
                [
                    pl.when(pl.col(f"{f}_m") < 0).then(pl.lit(f"{f.replace('_', ' ')} ") + pl.col(f))
                    for f in _NEVER_NEGATIVE
                ],
                separator=", ",
                ignore_nulls=True,
            )
            + pl.lit(" is negative: the order's own amounts never are"),
        ),
        (
            pl.col("phone_kind") == "invalid",
            "bad_phone",
            pl.lit("phone '") + pl.col("phone") + pl.lit("' is neither a mobile, masked, privacy nor landline number"),
        ),
        (
            ~pl.col("store_id").is_in(known_stores),
            "unknown_store",
            pl.lit("store '")
            + pl.col("store_id")
            + pl.lit("' is not in the store list: add it or map the channel's store code"),
        ),
    ]


def _with_addresses(orders: pl.DataFrame, with_fallback: bool) -> pl.DataFrame:
    in_china = pl.col("lat_num").is_between(3.8, 53.6) & pl.col("lng_num").is_between(73.5, 135.1)
    point = orders.select(lat=pl.when(in_china).then(pl.col("lat_num")), lng=pl.when(in_china).then(pl.col("lng_num")))
    # Read only where the spec declares it: a re-key of stored orders reads it again for those channels alone.
    fallback = orders["address_fallback"] if with_fallback else None
    parsed = addresses.parse_addresses(orders["address_raw"], fallback, point["lat"], point["lng"])
    return pl.concat([orders, parsed], how="horizontal").with_columns(
        lat=pl.when(in_china).then(pl.col("lat_num")).otherwise(None),
        lng=pl.when(in_china).then(pl.col("lng_num")).otherwise(None),
        created_at=pl.col("created_at_ts"),
        paid_at=pl.col("paid_at_ts"),
        promised_from=pl.col("promised_from_ts"),
        promised_to=pl.col("promised_to_ts"),
        status=pl.col("status_norm"),
        **{
            f: pl.coalesce(f"{f}_m", pl.lit(0).cast(contract.MONEY))
            for f in MONEY_ORDER_FIELDS
            if f not in STATED_MONEY_FIELDS
        },
        paid_amount=pl.col("paid_amount_m"),
        merchant_receivable=pl.col("merchant_receivable_m"),
        channel_user_id=pl.col("channel_user_id"),
        updated_at=pl.col("status_time_ts"),
    )


def _events(orders: pl.DataFrame, received_at: Any, batch_id: str) -> pl.DataFrame:
    """created and paid from their timestamps; a later status at the channel's status time."""
    origin = ("source_file", "source_line")
    base = orders.select("order_key", "created_at", "paid_at", "status", "status_time_ts", *origin)
    created = base.select(
        "order_key", pl.lit("created").alias("status"), pl.col("created_at").alias("event_time"), *origin
    )
    paid = base.filter(pl.col("paid_at").is_not_null()).select(
        "order_key", pl.lit("paid").alias("status"), pl.col("paid_at").alias("event_time"), *origin
    )
    later = base.filter(~pl.col("status").is_in(["created", "paid"])).select(
        "order_key",
        "status",
        pl.coalesce("status_time_ts", "paid_at", "created_at").alias("event_time"),
        *origin,
    )
    return pl.concat([created, paid, later]).with_columns(
        received_at=pl.lit(received_at).cast(contract.UTC_TS),
        source=pl.col("source_file"),
        batch_id=pl.lit(batch_id, dtype=pl.String),
    )
