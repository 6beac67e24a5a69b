"""The suites of one channel's normalised batch: orders (with their lines' totals) and order lines, and the
per-order findings (an order whose amounts do not add up is loaded and flagged, not a broken batch; see
data_quality/suites.py).
"""

from __future__ import annotations

import great_expectations.expectations as gxe
import polars as pl
from great_expectations.expectations.row_conditions import Column

from data_quality.expectations import (
    CHINA_LAT,
    CHINA_LNG,
    CRITICAL,
    FINDING_COLUMNS,
    MONEY_LINE_COLUMNS,
    MONEY_ORDER_COLUMNS,
    PHONE_PATTERN,
    WARNING,
    SuiteParams,
    _as_float,
    _landing_date,
    _local_date,
    _rule,
    a_at_least_b,
    between,
    in_set,
    matches,
    not_null,
)
from ingestion import contract

# ---------------------------------------------------------------------------------------------------
# Orders: one channel's normalised batch (raw.orders rows of the batch, with their lines' totals)


def _order_gaps(frame: pl.DataFrame, params: SuiteParams) -> pl.DataFrame:
    if "lines_goods_total" not in frame.columns:
        frame = frame.with_columns(lines_goods_total=pl.lit(None, dtype=pl.Float64))
    return frame.with_columns(
        *_as_float(*MONEY_ORDER_COLUMNS), pl.col("lines_goods_total").cast(pl.Float64)
    ).with_columns(
        amount_gap=(
            pl.col("paid_amount")
            - (
                pl.col("goods_amount")
                - pl.col("merchant_discount")
                - pl.col("platform_discount")
                + pl.col("delivery_fee")
                + pl.col("packaging_fee")
            )
        ).round(4),
        lines_goods_gap=(pl.col("goods_amount") - pl.col("lines_goods_total")).round(4),
    )


def prepare_orders(frame: pl.DataFrame, params: SuiteParams) -> pl.DataFrame:
    """Derived columns: the amount identity's gap, the lines' list-price total against goods, the day offset
    of created_at from the landing folder's day, the key as it should be built, phone kind consistency, and
    `broken_channel_order`: the key of an order breaking a money rule in a channel whose batch is broken."""
    frame = _order_gaps(frame, params)
    flagged = set(order_findings(frame, params)["order_key"].to_list())
    is_flagged = pl.col("order_key").is_in(list(flagged))
    flagged_in_channel = is_flagged.sum().over("channel")
    broken = (flagged_in_channel >= params.broken_channel_min_orders) & (
        flagged_in_channel >= params.broken_channel_share * pl.len().over("channel")
    )
    return frame.with_columns(
        order_key_expected=pl.col("channel") + pl.lit(":") + pl.col("channel_order_id"),
        created_day_offset=(_local_date("created_at", params.local_timezone) - _landing_date()).dt.total_days(),
        phone_kind_consistent=pl.col("phone").is_null() == (pl.col("phone_kind") == "missing"),
        coordinates_paired=pl.col("lat").is_null() == pl.col("lng").is_null(),
        broken_channel_order=pl.when(broken & is_flagged).then(pl.col("order_key")).otherwise(None),
    )


def amount_identity_rule(p: SuiteParams) -> str:
    return f"paid = goods − merchant and platform discounts + delivery and packaging fees (±¥{p.amount_tolerance_yuan})"


def lines_goods_rule(p: SuiteParams) -> str:
    return f"goods = Σ lines' list price × quantity (±¥{p.amount_tolerance_yuan})"


def broken_channel_rule(p: SuiteParams) -> str:
    return (
        f"a channel's batch is not broken: fewer than {p.broken_channel_share:.0%} of its orders "
        f"(or fewer than {p.broken_channel_min_orders}) break a money rule"
    )


def _money(column: str | pl.Expr) -> pl.Expr:
    """An amount as finance writes it (30.00), whatever float it was computed as."""
    value = pl.col(column) if isinstance(column, str) else column
    return value.round(2).cast(pl.Decimal(18, 2)).cast(pl.String)


def _findings(frame: pl.DataFrame, key: list[str], rules: list[tuple[str, str, pl.Expr, pl.Expr]]) -> pl.DataFrame:
    """One row per (row, rule broken): rules are (rule_id, rule in words, broken?, the values in words)."""
    parts = [
        frame.filter(broken.fill_null(False)).select(
            *[pl.col(k) for k in key],
            rule_id=pl.lit(rule_id),
            rule=pl.lit(rule),
            detail=detail.fill_null("(values missing)"),
        )
        for rule_id, rule, broken, detail in rules
    ]
    out = pl.concat(parts, how="vertical_relaxed")
    if "line_no" not in out.columns:
        out = out.with_columns(line_no=pl.lit(None, dtype=pl.Int64))
    return out.select([pl.col(c).cast(t) for c, t in FINDING_COLUMNS.items()])


def order_findings(frame: pl.DataFrame, p: SuiteParams) -> pl.DataFrame:
    """The per-order money rules each order breaks, with the amounts that break them."""
    if "amount_gap" not in frame.columns:
        frame = _order_gaps(frame, p)
    tol = p.amount_tolerance_yuan
    parts = ("paid_amount", "goods_amount", "merchant_discount", "platform_discount", "delivery_fee", "packaging_fee")
    identity = pl.format(
        "paid {} ≠ goods {} − merchant discount {} − platform discount {} + delivery {} + packaging {} = {} (gap {})",
        *[_money(c) for c in parts],
        _money(pl.col("paid_amount") - pl.col("amount_gap")),
        _money("amount_gap"),
    )
    rules = [
        ("amount_identity", amount_identity_rule(p), pl.col("amount_gap").abs() > tol, identity),
        (
            "lines_sum_to_goods",
            lines_goods_rule(p),
            pl.col("lines_goods_gap").abs() > tol,
            pl.format(
                "goods {} ≠ Σ lines {} (gap {})",
                _money("goods_amount"),
                _money("lines_goods_total"),
                _money("lines_goods_gap"),
            ),
        ),
        *[
            (f"{c}_present", f"{c} is present", pl.col(c).is_null(), pl.lit(f"{c} is missing"))
            for c in MONEY_ORDER_COLUMNS
        ],
        *[
            (f"{c}_not_negative", f"{c} is not negative", pl.col(c) < 0, pl.format(f"{c} {{}}", _money(c)))
            for c in MONEY_ORDER_COLUMNS
        ],
    ]
    return _findings(frame, ["order_key"], rules)


def order_expectations(p: SuiteParams) -> list[gxe.Expectation]:
    tol = p.amount_tolerance_yuan
    key_columns = ("order_key", "channel", "channel_order_id", "store_id", "created_at", "status")
    exps: list[gxe.Expectation] = [not_null(c, CRITICAL) for c in key_columns]
    exps += [not_null(c, WARNING) for c in MONEY_ORDER_COLUMNS]
    exps += [
        _rule(gxe.ExpectColumnValuesToBeUnique(column="order_key"), CRITICAL, "an order is loaded once per batch"),
        _rule(
            gxe.ExpectColumnPairValuesToBeEqual(column_A="order_key", column_B="order_key_expected"),
            CRITICAL,
            "order_key = channel:channel_order_id",
        ),
        in_set("channel", contract.CHANNELS, CRITICAL),
        in_set("status", contract.ORDER_STATUSES, CRITICAL),
        *[between(c, 0, None, WARNING, f"{c} is not negative") for c in MONEY_ORDER_COLUMNS],
        between("amount_gap", -tol, tol, WARNING, amount_identity_rule(p)),
        between("lines_goods_gap", -tol, tol, WARNING, lines_goods_rule(p)),
        _rule(gxe.ExpectColumnValuesToBeNull(column="broken_channel_order"), CRITICAL, broken_channel_rule(p)),
        in_set("fulfilment_type", contract.FULFILMENT_TYPES, WARNING),
        in_set("phone_kind", contract.PHONE_KINDS, WARNING),
        matches("phone", PHONE_PATTERN, WARNING, "phone is a mobile, a masked, privacy relay or landline number"),
        in_set("phone_kind_consistent", [True], WARNING, "phone_kind is 'missing' exactly when there is no phone"),
        _rule(
            gxe.ExpectColumnValuesToNotBeInSet(
                column="phone_kind", value_set=["missing"], row_condition=Column("fulfilment_type") == "delivery"
            ),
            WARNING,
            "a delivery order has a phone number",
        ),
        not_null(
            "address_raw",
            WARNING,
            "a delivery order has an address",
            row_condition=Column("fulfilment_type") == "delivery",
        ),
        matches("phone_last4", r"^\d{4}$", WARNING, "phone_last4 is four digits"),
        between("lat", *CHINA_LAT, WARNING, "latitude is inside China (GCJ-02)"),
        between("lng", *CHINA_LNG, WARNING, "longitude is inside China (GCJ-02)"),
        in_set("coordinates_paired", [True], WARNING, "latitude and longitude come together"),
        matches("admin_code", r"^\d{6}$", WARNING, "admin_code is a 6-digit division code"),
        between("created_day_offset", 0, 0, WARNING, "created_at falls on the landing folder's business day (local)"),
        a_at_least_b("paid_at", "created_at", WARNING, "paid_at is not before created_at"),
        a_at_least_b("promised_to", "created_at", WARNING, "promised_to is not before created_at"),
        not_null("source_file", WARNING, "every row names its landing file"),
        between("source_line", 1, None, WARNING, "source_line is a line number"),
        matches("raw_hash", r"^[0-9a-f]{32}$", WARNING, "raw_hash is the record's 128-bit hash"),
    ]
    return exps


def prepare_order_lines(frame: pl.DataFrame, params: SuiteParams) -> pl.DataFrame:
    return frame.with_columns(*_as_float(*MONEY_LINE_COLUMNS)).with_columns(
        line_gap=(pl.col("paid_amount") - pl.col("unit_price") * pl.col("quantity")).round(4),
    )


def order_line_findings(frame: pl.DataFrame, p: SuiteParams) -> pl.DataFrame:
    """The per-line money rules each line breaks (the order is flagged, not the batch)."""
    prices = ("unit_price", "original_price", "paid_amount")
    rules = [
        (
            "line_quantity_positive",
            "quantity is a positive whole number",
            pl.col("quantity") < 1,
            pl.format("line {}: quantity {}", "line_no", "quantity"),
        ),
        *[
            (
                f"line_{c}_present",
                f"{c} is present",
                pl.col(c).is_null(),
                pl.format(f"line {{}}: {c} is missing", "line_no"),
            )
            for c in prices
        ],
        *[
            (
                f"line_{c}_not_negative",
                f"{c} is not negative",
                pl.col(c) < 0,
                pl.format(f"line {{}}: {c} {{}}", "line_no", _money(c)),
            )
            for c in prices
        ],
    ]
    return _findings(frame, ["order_key", "line_no"], rules)


def order_line_expectations(p: SuiteParams) -> list[gxe.Expectation]:
    tol = p.amount_tolerance_yuan
    return [
        not_null("order_key", CRITICAL),
        between("line_no", 1, None, CRITICAL, "line_no counts from 1"),
        _rule(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["order_key", "line_no"]),
            CRITICAL,
            "(order_key, line_no) is unique",
        ),
        between("quantity", 1, None, WARNING, "quantity is a positive whole number"),
        *[not_null(c, WARNING) for c in ("unit_price", "original_price", "paid_amount")],
        *[
            between(c, 0, None, WARNING, f"{c} is not negative")
            for c in ("unit_price", "original_price", "paid_amount")
        ],
        between("line_gap", -tol, tol, WARNING, f"a line's paid amount = unit price × quantity (±¥{tol})"),
        a_at_least_b("original_price", "unit_price", WARNING, "unit price is not above the list price"),
        not_null("sku_id", WARNING, "every line names an internal SKU"),
        in_set("temp_zone", contract.TEMP_ZONES, WARNING),
        between("weight_g", 0, None, WARNING, "weight is not negative"),
        between("volume_ml", 0, None, WARNING, "volume is not negative"),
    ]
