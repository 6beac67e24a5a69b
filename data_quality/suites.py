"""The data-quality suites, as code (Great Expectations 1.x): what must hold for each channel's normalised
batch (orders and their lines), for settlement lines, and for the key marts (parcels, stock positions,
reconciliation).

A suite is a list of expectations plus a `prepare` step that derives, in polars, the columns a rule needs
but GX cannot express (paid − (goods − discounts + fees), the local day of a UTC time against the landing
folder's day, conservation of stock…). The frame is then handed to GX as pandas (GX 1.x does not read
polars).

Severity is per expectation: `critical` where a failure means the batch itself is broken (keys, the value sets
amounts are grouped by, a whole channel whose amounts do not add up), `warning` elsewhere. A check that sees a
critical failure reports ERROR, which blocks what is downstream of it in the run; warnings never block.

Money rules one order can break (its amounts do not add up, its lines do not sum to its goods, an amount is
missing or negative) are *per-order findings*, not batch failures: a real order whose amounts are off was still
sold and must still be delivered, so it is loaded and flagged (docs/decisions.md, "A bad order is flagged, the
batch loads"). Their expectations are warnings, each failing order is a finding (`Suite.findings`: order key,
rule, values), and only when a large share of one channel's orders break them (`broken_channel_share`, at
least `broken_channel_min_orders` orders) does a critical expectation fail: then the adapter or the channel
is wrong, not an order.

This module imports great_expectations (slow): import it lazily, through `data_quality.runner`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import great_expectations.expectations as gxe
import polars as pl
from great_expectations.expectations.row_conditions import Column

from ingestion import contract

CRITICAL = "critical"
WARNING = "warning"

# GCJ-02 bounding box of mainland China (the adapters null coordinates outside it).
CHINA_LAT = (3.8, 53.6)
CHINA_LNG = (73.5, 135.1)
# Phones as the adapters keep them (ingestion/phones.py, which has the sources): a mobile, a masked number
# (138*****678, 138****5678, 手机尾号1234), a platform privacy relay (13812345678_1234, 13020146407,227) or a landline.
PHONE_PATTERN = (
    r"^(?:1[3-9]\d{9}|1\d{2}\*{1,8}\d{3,4}|(?:手机)?尾号\d{4}|1\d{2}[\d*]{8}(?:[_,#]|转)\d{1,6}"
    r"|0\d{2,3}-?\d{7,8})$"
)
MONEY_ORDER_COLUMNS = (
    "goods_amount",
    "merchant_discount",
    "platform_discount",
    "delivery_fee",
    "packaging_fee",
    "paid_amount",
)
MONEY_LINE_COLUMNS = ("unit_price", "original_price", "line_discount", "paid_amount")
SETTLEMENT_MONEY = ("gross_amount", "fee_amount", "net_amount", "refund_amount")
# Statements that carry every component of what they pay: net = gross − fee − refund on each line. Platform
# statements (Meituan, Eleme) also settle delivery fees and subsidies the line does not itemise.
SELF_CONTAINED_STATEMENTS = ("wechatpay", "alipay", "pos", "groupbuy")
RECON_CATEGORIES = (
    "matched",
    "timing_difference",
    "awaiting_settlement",
    "missing_settlement",
    "unknown_order",
    "amount_mismatch",
    "fee_mismatch",
    "duplicate_settlement",
    "unexpected_refund",
    "unexpected_settlement",
    "tender_total_mismatch",
    "unallocated_adjustment",
)
RECON_STATUS_OF = {"matched": "matched", "timing_difference": "cleared", "awaiting_settlement": "open"}
RECON_STATUSES = ("matched", "cleared", "open", "variance")
RECON_ITEM_TYPES = ("statement_line", "expected_order", "tender_total")


@dataclass(frozen=True)
class SuiteParams:
    """The rules a suite depends on (config/rules.yml, passed in by orchestration)."""

    amount_tolerance_yuan: float = 0.01
    parcel_max_weight_g: int = 15000
    parcel_max_volume_ml: int = 40000
    travel_groups: tuple[str, ...] = ("ambient", "cold")
    local_timezone: str = contract.LOCAL_TIMEZONE
    # A channel's batch is broken (ERROR) when at least this share of its orders, and at least this many,
    # break a per-order money rule: one misread field breaks every order of a channel, a bad order breaks one.
    broken_channel_share: float = 0.5
    broken_channel_min_orders: int = 5

    @classmethod
    def from_rules(cls, rules: dict) -> SuiteParams:
        groups = tuple(sorted(set((rules.get("temp_zone_travel_groups") or {}).values()))) or cls.travel_groups
        return cls(
            amount_tolerance_yuan=float(rules.get("recon_amount_tolerance_yuan", cls.amount_tolerance_yuan)),
            parcel_max_weight_g=int(rules.get("parcel_max_weight_g", cls.parcel_max_weight_g)),
            parcel_max_volume_ml=int(rules.get("parcel_max_volume_ml", cls.parcel_max_volume_ml)),
            travel_groups=groups,
            local_timezone=str(rules.get("local_timezone", cls.local_timezone)),
            broken_channel_share=float(rules.get("dq_broken_channel_share", cls.broken_channel_share)),
            broken_channel_min_orders=int(rules.get("dq_broken_channel_min_orders", cls.broken_channel_min_orders)),
        )


Prepare = Callable[[pl.DataFrame, SuiteParams], pl.DataFrame]
# (prepared frame, params) -> one row per order and rule broken: FINDING_COLUMNS.
Findings = Callable[[pl.DataFrame, SuiteParams], pl.DataFrame]
FINDING_COLUMNS: dict[str, pl.DataType] = {
    "order_key": pl.String,
    "line_no": pl.Int64,
    "rule_id": pl.String,
    "rule": pl.String,
    "detail": pl.String,
}


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    expectations: Callable[[SuiteParams], list[gxe.Expectation]]
    prepare: Prepare = field(default=lambda frame, params: frame)
    findings: Findings | None = None


# ---------------------------------------------------------------------------------------------------
# Building blocks


def _rule(expectation: gxe.Expectation, severity: str, rule: str) -> gxe.Expectation:
    expectation.severity = severity  # type: ignore[assignment]
    expectation.meta = {"rule": rule}
    return expectation


def not_null(column: str, severity: str, rule: str | None = None, **kw) -> gxe.Expectation:
    return _rule(gxe.ExpectColumnValuesToNotBeNull(column=column, **kw), severity, rule or f"{column} is present")


def in_set(column: str, values, severity: str, rule: str | None = None, **kw) -> gxe.Expectation:
    return _rule(
        gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values), **kw),
        severity,
        rule or f"{column} is one of {', '.join(map(str, values))}",
    )


def between(column: str, low, high, severity: str, rule: str, **kw) -> gxe.Expectation:
    return _rule(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high, **kw), severity, rule)


def matches(column: str, regex: str, severity: str, rule: str, **kw) -> gxe.Expectation:
    return _rule(gxe.ExpectColumnValuesToMatchRegex(column=column, regex=regex, **kw), severity, rule)


def a_at_least_b(a: str, b: str, severity: str, rule: str) -> gxe.Expectation:
    return _rule(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=a, column_B=b, or_equal=True, ignore_row_if="either_value_is_missing"
        ),
        severity,
        rule,
    )


def _as_float(*columns: str) -> list[pl.Expr]:
    return [pl.col(c).cast(pl.Float64) for c in columns]


def _landing_date(column: str = "source_file") -> pl.Expr:
    """The business day of a landing path (`<kind>/<source>/<YYYY-MM-DD>/<name>`)."""
    return pl.col(column).str.split("/").list.get(2, null_on_oob=True).str.to_date("%Y-%m-%d", strict=False)


def _local_date(column: str, tz: str) -> pl.Expr:
    return pl.col(column).dt.replace_time_zone("UTC").dt.convert_time_zone(tz).dt.date()


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


# ---------------------------------------------------------------------------------------------------
# Settlement lines (raw.settlement_lines of a batch, or of a statement day)

DETAIL = Column("line_type") != "summary"


def prepare_settlement_lines(frame: pl.DataFrame, params: SuiteParams) -> pl.DataFrame:
    return frame.with_columns(*_as_float(*SETTLEMENT_MONEY)).with_columns(
        net_gap=(
            pl.col("net_amount") - (pl.col("gross_amount") - pl.col("fee_amount") - pl.col("refund_amount"))
        ).round(4),
        settled_day_offset=(
            _local_date("settled_at", params.local_timezone) - pl.col("statement_date")
        ).dt.total_days(),
    )


def settlement_expectations(p: SuiteParams) -> list[gxe.Expectation]:
    tol = p.amount_tolerance_yuan
    payment, refund = Column("line_type") == "payment", Column("line_type") == "refund"
    order_lines = Column("line_type").is_in(["payment", "refund"]) & (Column("channel") != "pos")
    return [
        in_set("channel", contract.SETTLEMENT_CHANNELS, CRITICAL),
        in_set("line_type", contract.SETTLEMENT_LINE_TYPES, CRITICAL),
        not_null("statement_date", CRITICAL),
        _rule(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["channel", "statement_date", "raw_hash"]),
            CRITICAL,
            "a statement line is loaded once",
        ),
        *[not_null(c, CRITICAL, f"a detail line has {c}", row_condition=DETAIL) for c in SETTLEMENT_MONEY],
        between("gross_amount", 0, None, CRITICAL, "gross is not negative"),
        between("refund_amount", 0, None, CRITICAL, "refund_amount is not negative"),
        between("fee_amount", 0, None, CRITICAL, "a payment's fee is not negative", row_condition=payment),
        # Not critical: a platform's minimum commission plus its delivery service fee can exceed a small order's
        # goods, so the platform legitimately pays us less than nothing for it; finance looks, the day still closes.
        between("net_amount", 0, None, WARNING, "a payment usually pays us (net ≥ 0)", row_condition=payment),
        between("net_amount", None, 0, CRITICAL, "a refund takes money back (net ≤ 0)", row_condition=refund),
        between(
            "net_gap",
            -tol,
            tol,
            CRITICAL,
            f"net = gross − fee − refund (±¥{tol}) on bills that itemise it",
            row_condition=Column("channel").is_in(list(SELF_CONTAINED_STATEMENTS)),
        ),
        not_null("channel_order_id", CRITICAL, "a payment or refund names its order", row_condition=order_lines),
        not_null(
            "transaction_id",
            CRITICAL,
            "a payment or refund carries the channel's transaction id",
            row_condition=order_lines,
        ),
        between("settled_day_offset", 0, 0, WARNING, "settled_at falls on the statement's day (local)"),
        between("txn_count", 1, None, WARNING, "txn_count is positive"),
        between("source_line", 1, None, WARNING, "source_line is a line number"),
    ]


# ---------------------------------------------------------------------------------------------------
# Marts


def prepare_parcels(frame: pl.DataFrame, params: SuiteParams) -> pl.DataFrame:
    return frame.with_columns(oversize_unit=pl.col("oversize_unit").fill_null(False))


def parcel_expectations(p: SuiteParams) -> list[gxe.Expectation]:
    fits = Column("oversize_unit") == False  # noqa: E712 - a GX condition, not a Python comparison
    groups = "|".join(p.travel_groups)
    return [
        not_null("parcel_id", WARNING),
        _rule(gxe.ExpectColumnValuesToBeUnique(column="parcel_id"), WARNING, "parcel_id is unique"),
        not_null("merge_group_id", WARNING),
        matches("travel_group", rf"^(?:{groups}|only:.+)$", WARNING, "travel_group is a rules travel group"),
        between("parcel_no", 1, None, WARNING, "parcel_no counts from 1"),
        a_at_least_b("parcels_in_travel_group", "parcel_no", WARNING, "parcel_no ≤ parcels in its travel group"),
        between(
            "weight_g",
            0,
            p.parcel_max_weight_g,
            WARNING,
            f"a parcel weighs at most {p.parcel_max_weight_g} g",
            row_condition=fits,
        ),
        between(
            "volume_ml",
            0,
            p.parcel_max_volume_ml,
            WARNING,
            f"a parcel holds at most {p.parcel_max_volume_ml} ml",
            row_condition=fits,
        ),
        between("item_count", 1, None, WARNING, "a parcel holds at least one item"),
        between("order_count", 1, None, WARNING, "a parcel serves at least one order"),
        not_null("business_date", WARNING),
    ]


def _units(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A count column, 0 where the frame predates it (positions built before the stock_movements feed)."""
    return pl.col(column).fill_null(0) if column in frame.columns else pl.lit(0)


def prepare_stock_positions(frame: pl.DataFrame, params: SuiteParams) -> pl.DataFrame:
    return frame.with_columns(
        ledger_gap=pl.col("available_units")
        - (
            pl.col("on_hand")
            + _units(frame, "moved_in_units")
            - _units(frame, "moved_out_units")
            - pl.col("reserved_units")
            + pl.col("released_units")
        ),
        reservation_gap=pl.col("reserved_units")
        - (pl.col("open_units") + pl.col("fulfilled_units") + pl.col("released_units")),
    )


def stock_expectations(p: SuiteParams) -> list[gxe.Expectation]:
    counts = ("on_hand", "reserved_units", "released_units", "open_units", "fulfilled_units", "oversold_units")
    return [
        not_null("store_id", WARNING),
        not_null("sku_id", WARNING),
        _rule(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["store_id", "sku_id"]),
            WARNING,
            "one position per store and SKU",
        ),
        *[between(c, 0, None, WARNING, f"{c} is not negative") for c in counts],
        between("ledger_gap", 0, 0, WARNING, "available = on hand + moved in − moved out − reserved + released"),
        between("reservation_gap", 0, 0, WARNING, "reserved = open + fulfilled + released"),
        a_at_least_b("reserved_units", "released_units", WARNING, "no more released than reserved"),
    ]


def prepare_reconciliation(frame: pl.DataFrame, params: SuiteParams) -> pl.DataFrame:
    return frame.with_columns(pl.col("variance_amount").cast(pl.Float64)).with_columns(
        expected_status=pl.col("category").replace_strict(RECON_STATUS_OF, default="variance", return_dtype=pl.String),
    )


def reconciliation_expectations(p: SuiteParams) -> list[gxe.Expectation]:
    settled = Column("category").is_in(["matched", "awaiting_settlement"])
    return [
        not_null("recon_line_id", CRITICAL),
        _rule(gxe.ExpectColumnValuesToBeUnique(column="recon_line_id"), CRITICAL, "recon_line_id is unique"),
        not_null("recon_date", CRITICAL),
        in_set("settlement_channel", contract.SETTLEMENT_CHANNELS, CRITICAL),
        in_set("item_type", RECON_ITEM_TYPES, CRITICAL),
        in_set("category", RECON_CATEGORIES, CRITICAL),
        in_set("recon_status", RECON_STATUSES, CRITICAL),
        _rule(
            gxe.ExpectColumnPairValuesToBeEqual(column_A="recon_status", column_B="expected_status"),
            CRITICAL,
            "recon_status follows the category (matched, cleared, open, else variance)",
        ),
        not_null("variance_amount", CRITICAL),
        between(
            "variance_amount",
            0,
            0,
            CRITICAL,
            "nothing is at stake on a matched or awaiting item",
            row_condition=settled,
        ),
        not_null(
            "source_file",
            WARNING,
            "a statement line names its file",
            row_condition=Column("item_type") == "statement_line",
        ),
        not_null("explanation", WARNING, "every item is explained in words"),
    ]


SUITES: dict[str, Suite] = {
    suite.name: suite
    for suite in (
        Suite(
            "orders",
            "A channel's normalised orders of one batch (or day).",
            order_expectations,
            prepare_orders,
            order_findings,
        ),
        Suite(
            "order_lines",
            "The lines of those orders.",
            order_line_expectations,
            prepare_order_lines,
            order_line_findings,
        ),
        Suite(
            "settlement_lines",
            "Statement lines of one batch (or statement day).",
            settlement_expectations,
            prepare_settlement_lines,
        ),
        Suite("parcels", "marts.fct_parcels.", parcel_expectations, prepare_parcels),
        Suite("stock_positions", "marts.fct_stock_positions.", stock_expectations, prepare_stock_positions),
        Suite(
            "reconciliation_lines",
            "marts.fct_reconciliation_lines of the recon day(s).",
            reconciliation_expectations,
            prepare_reconciliation,
        ),
    )
}
