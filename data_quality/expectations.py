"""The building blocks of the data-quality suites: severities, the value sets and patterns the rules use, the
rules' parameters (`SuiteParams`, from config/rules.yml), what a suite is (`Suite`) and the expectation
builders (each expectation carries its severity and the rule in words).

This module imports great_expectations (slow): import it lazily, through `data_quality.runner`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import great_expectations.expectations as gxe
import polars as pl

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
