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

The building blocks are in `expectations`, the orders' suites in `order_suites`; the settlement and mart
suites and the registry `SUITES` are here. These modules import great_expectations (slow): import them
lazily, through `data_quality.runner`.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
import polars as pl
from great_expectations.expectations.row_conditions import Column

from data_quality.expectations import (
    CRITICAL,
    FINDING_COLUMNS,
    RECON_CATEGORIES,
    RECON_ITEM_TYPES,
    RECON_STATUS_OF,
    RECON_STATUSES,
    SELF_CONTAINED_STATEMENTS,
    SETTLEMENT_MONEY,
    WARNING,
    Suite,
    SuiteParams,
    _as_float,
    _local_date,
    _rule,
    a_at_least_b,
    between,
    in_set,
    matches,
    not_null,
)
from data_quality.order_suites import (
    order_expectations,
    order_findings,
    order_line_expectations,
    order_line_findings,
    prepare_order_lines,
    prepare_orders,
)
from ingestion import contract

__all__ = ["SUITES", "Suite", "SuiteParams", "FINDING_COLUMNS"]


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
