"""Settlement reconciliation page (finance): for a recon day, each statement channel's result (balanced,
variances, no statement), the variances to act on with the money at stake (drill down by statement channel and
category), the T+1 payout of the day's statements with its totals, the variance over the last days, and the
day's workbook as ``orderhub recon report`` writes it (download). Account names and phones are masked."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import components as ui
from dashboards import export, queries
from dashboards.formatting import format_count, format_money
from dashboards.i18n import Lang, label, t
from dashboards.masking import looks_like_name, mask_name
from dashboards.queries.reader import LIST_LIMIT, TREND_DAYS, Row, Source
from dashboards.queries.reconciliation import SETTLEMENT_CHANNELS, ReconData, ReconExport


def render() -> None:
    ui.run_page("page.reconciliation", body)


def body(source: Source, lang: Lang, refresh: float) -> None:
    recon_date = st.session_state.get("recon_date")
    channel = st.session_state.get("recon_channel")
    category = st.session_state.get("recon_category")
    data: ReconData | None = ui.load(
        source, "reconciliation", lang, recon_date=recon_date, channel=channel, category=category
    )
    if data is not None and category is not None and category not in data.categories:
        # The chosen category has no variance on this day or channel: show all categories instead.
        st.session_state.pop("recon_category", None)
        data = ui.load(source, "reconciliation", lang, recon_date=recon_date, channel=channel, category=None)
    if data is None:
        return
    ui.stamp(data.meta, lang, refresh)
    if ui.missing_tables(data.missing, "producer.reconciliation", lang):
        return
    if data.recon_date is None:
        st.info(t("no_data", lang))
        return
    date_col, export_col = st.columns([1, 2], vertical_alignment="bottom")
    with date_col:
        ui.choose("filter.recon_date", data.dates, lang, key="recon_date", format_option=lambda d: d.isoformat())
    with export_col:
        render_export(source, data.recon_date, lang)
    if not data.export_complete:
        st.caption(t("recon.export_partial", lang, date=data.recon_date.isoformat()))
    st.subheader(t("recon.day", lang, date=data.recon_date.isoformat()))
    render_tiles(data.channels, lang)
    st.subheader(t("recon.channels", lang))
    ui.table(channel_table(data.channels, lang), lang)
    st.subheader(t("recon.variances", lang))
    channel_col, category_col = st.columns(2)
    with channel_col:
        ui.choose(
            "filter.settlement_channel",
            SETTLEMENT_CHANNELS,
            lang,
            key="recon_channel",
            all_key="filter.all_channels",
            format_option=lambda c: label("settlement_channel", c, lang),
        )
    with category_col:
        ui.choose(
            "filter.category",
            data.categories,
            lang,
            key="recon_category",
            all_key="filter.all_categories",
            format_option=lambda c: label("recon_category", c, lang),
        )
    totals = data.variance_totals
    if data.variances and totals is not None:
        st.caption(
            t(
                "recon.variance_totals",
                lang,
                n=format_count(totals["lines"]),
                net=format_money(totals["variance_amount"]),
                abs=format_money(totals["variance_abs_amount"]),
            )
        )
        ui.table(variance_table(data.variances, lang), lang, limit=LIST_LIMIT)
    else:
        st.caption(t("recon.no_variances", lang))
    settlement_col, trend_col = st.columns([3, 2])
    with settlement_col:
        st.subheader(t("recon.settlement", lang))
        ui.table(settlement_table(data.settlement, lang), lang)
    with trend_col:
        st.subheader(t("recon.trend", lang, n=TREND_DAYS))
        ui.bar_chart(trend_frame(data.trend, lang), lang)


def render_export(source: Source, day: date, lang: Lang) -> None:
    """The download button for the day's workbook. It is built when clicked (a callable), from the snapshot
    published at that moment; a day whose lines the snapshot no longer holds in full gets a note."""
    st.download_button(
        t("recon.export", lang),
        data=workbook_builder(source, day),
        file_name=export.file_name(day),
        mime=export.MIME,
        help=t("recon.export_help", lang),
        icon=":material/download:",
        on_click="ignore",
        key="recon_export",
    )


def workbook_builder(source: Source, day: date) -> Callable[[], bytes]:
    """A callable returning the workbook of ``day`` from ``source`` (read when called)."""

    def build() -> bytes:
        rows: ReconExport = queries.read_page(source, "recon_export", recon_date=day)
        return workbook_bytes(rows, source.name)

    return build


def workbook_bytes(rows: ReconExport, source: str, now: datetime | None = None) -> bytes:
    """The workbook for the rows read from a snapshot (``source`` names it on the summary sheet)."""
    generated = ui.to_local(now or datetime.now(UTC).replace(tzinfo=None))
    run = rows.meta.run_id if rows.meta and rows.meta.run_id else "—"
    note = "" if rows.complete_lines else " · 仅差异行 variance lines only"
    return export.recon_workbook(rows, source=f"{source} (run {run}){note}", generated=generated)


def render_tiles(channels: Iterable[Row], lang: Lang) -> None:
    rows = list(channels)
    statuses = [r["day_status"] for r in rows]
    variance_abs = sum((r["variance_abs_amount"] or Decimal(0) for r in rows), Decimal("0.00"))
    variance_net = sum((r["variance_amount"] or Decimal(0) for r in rows), Decimal("0.00"))
    cols = st.columns(5)
    cols[0].metric(t("tile.balanced", lang), format_count(statuses.count("balanced")))
    cols[1].metric(t("tile.with_variances", lang), format_count(statuses.count("variances")))
    # A statement that arrived with records that could not be loaded is as far from balanced as none at all.
    unusable = statuses.count("no_statement") + statuses.count("statement_incomplete")
    cols[2].metric(t("tile.no_statement", lang), format_count(unusable))
    cols[3].metric(
        t("tile.variance_abs", lang),
        format_money(variance_abs),
        help=t(
            "help.variance_net",
            lang,
            amount=format_money(variance_net),
            n=format_count(sum(r["variances"] or 0 for r in rows)),
        ),
    )
    cols[4].metric(
        t("tile.settled_net", lang),
        format_money(sum((r["settled_net"] or Decimal(0) for r in rows), Decimal("0.00"))),
        help=t(
            "help.cleared",
            lang,
            amount=format_money(sum((r["cleared_amount"] or Decimal(0) for r in rows), Decimal("0.00"))),
        ),
    )


def channel_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.settlement_channel": lambda r: label("settlement_channel", r["settlement_channel"], lang),
            "col.day_status": lambda r: label("day_status", r["day_status"], lang),
            "col.statement_lines": lambda r: format_count(r["statement_lines"]),
            "col.items": lambda r: format_count(r["items"]),
            "col.matched": lambda r: format_count(r["matched"]),
            "col.timing": lambda r: format_count(r["timing_differences"]),
            "col.awaiting": lambda r: format_count(r["awaiting"]),
            "col.variances": lambda r: format_count(r["variances"]),
            "col.settled_net": lambda r: format_money(r["settled_net"]),
            "col.variance_amount": lambda r: format_money(r["variance_amount"]),
            "col.variance_abs": lambda r: format_money(r["variance_abs_amount"]),
        },
    )


def account(r: Row) -> str | None:
    """The statement's account: merchant and shop codes as they are; a person's name (a group-buy leader
    sheet may name the leader instead of a code) masked."""
    value = r["account_id"]
    return mask_name(value) if looks_like_name(value) else value


def explanation(r: Row) -> str:
    """The explanation, with the account holder's name masked wherever the sentence repeats it."""
    text = r["explanation"] or ""
    value = r["account_id"]
    if looks_like_name(value):
        text = text.replace(value, mask_name(value) or "")
    return text


def variance_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.recon_category": lambda r: label("recon_category", r["category"], lang),
            "col.settlement_channel": lambda r: label("settlement_channel", r["settlement_channel"], lang),
            "col.order_key": lambda r: r["order_key"] or r["channel_order_id"] or r["transaction_id"] or "—",
            "col.store": lambda r: r["store_id"] or "—",
            "col.account": lambda r: account(r) or "—",
            "col.expected_net": lambda r: format_money(r["expected_net"]),
            "col.net_amount": lambda r: format_money(r["net_amount"]),
            "col.variance_amount": lambda r: format_money(r["variance_amount"]),
            "col.explanation": explanation,
            "col.source_file": lambda r: f"{r['source_file']}:{r['source_line']}" if r["source_file"] else "—",
        },
    )


def settlement_total(rows: Iterable[Row]) -> Row | None:
    """The T+1 totals over the statements: sums of the lines and amounts; the stated net only when every
    statement states one; totals agree when all do (no when any does not, unknown otherwise)."""
    rows_ = list(rows)
    if not rows_:
        return None

    def money(key: str) -> Decimal:
        return sum((r[key] or Decimal(0) for r in rows_), Decimal("0.00"))

    agree = [r["totals_agree"] for r in rows_]
    return {
        "settlement_channel": None,
        "payout_date": None,
        "payment_lines": sum(r["payment_lines"] or 0 for r in rows_),
        "refund_lines": sum(r["refund_lines"] or 0 for r in rows_),
        "gross_amount": money("gross_amount"),
        "refund_amount": money("refund_amount"),
        "fee_amount": money("fee_amount"),
        "net_amount": money("net_amount"),
        "stated_net": money("stated_net") if all(r["stated_net"] is not None for r in rows_) else None,
        "totals_agree": False if False in agree else (None if None in agree else True),
    }


def settlement_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    """One row per statement channel, then the totals row."""
    rows_ = list(rows)
    total = settlement_total(rows_)
    return ui.frame(
        rows_ + ([total] if total else []),
        lang,
        {
            "col.settlement_channel": lambda r: (
                t("recon.settlement_total", lang)
                if r["settlement_channel"] is None
                else label("settlement_channel", r["settlement_channel"], lang)
            ),
            "col.payout_date": lambda r: r["payout_date"].isoformat() if r["payout_date"] else "—",
            "col.payment_lines": lambda r: format_count(r["payment_lines"]),
            "col.refund_lines": lambda r: format_count(r["refund_lines"]),
            "col.gross": lambda r: format_money(r["gross_amount"]),
            "col.refund_amount": lambda r: format_money(r["refund_amount"]),
            "col.fee": lambda r: format_money(r["fee_amount"]),
            "col.net": lambda r: format_money(r["net_amount"]),
            "col.stated_net": lambda r: format_money(r["stated_net"]),
            "col.totals_agree": lambda r: ui.yes_no(r["totals_agree"], lang),
        },
    )


def trend_frame(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    rows_ = list(rows)
    return pd.DataFrame(
        {
            t("col.date", lang): [r["recon_date"].isoformat() for r in rows_],
            t("col.series", lang): [t("col.variance_abs", lang)] * len(rows_),
            t("col.variance_abs", lang): [float(r["variance_abs_amount"] or 0) for r in rows_],
        }
    )


if __name__ == "__main__":
    render()
