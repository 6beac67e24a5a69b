"""Settlement reconciliation page (finance): for a recon day, each statement channel's result (balanced,
variances, no statement), the variances to act on with the money at stake, the T+1 payout of the day's
statements, and the variance over the last days. Account names and phones are masked."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards import components as ui
from dashboards.formatting import format_count, format_money
from dashboards.i18n import Lang, label, t
from dashboards.masking import looks_like_name, mask_name
from dashboards.queries import LIST_LIMIT, TREND_DAYS, ReconData, Row


def render() -> None:
    ui.run_page("page.reconciliation", body)


def body(path: Path, lang: Lang, refresh: float) -> None:
    recon_date = st.session_state.get("recon_date")
    data: ReconData | None = ui.load(path, "reconciliation", lang, recon_date=recon_date)
    if data is None:
        return
    ui.stamp(data.meta, lang, refresh)
    if ui.missing_tables(data.missing, "producer.reconciliation", lang):
        return
    if data.recon_date is None:
        st.info(t("no_data", lang))
        return
    ui.choose("filter.recon_date", data.dates, lang, key="recon_date", format_option=lambda d: d.isoformat())
    st.subheader(t("recon.day", lang, date=data.recon_date.isoformat()))
    render_tiles(data.channels, lang)
    st.subheader(t("recon.channels", lang))
    ui.table(channel_table(data.channels, lang), lang)
    st.subheader(t("recon.variances", lang))
    if data.variances:
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


def render_tiles(channels: Iterable[Row], lang: Lang) -> None:
    rows = list(channels)
    statuses = [r["day_status"] for r in rows]
    variance_abs = sum((r["variance_abs_amount"] or Decimal(0) for r in rows), Decimal("0.00"))
    variance_net = sum((r["variance_amount"] or Decimal(0) for r in rows), Decimal("0.00"))
    cols = st.columns(5)
    cols[0].metric(t("tile.balanced", lang), format_count(statuses.count("balanced")))
    cols[1].metric(t("tile.with_variances", lang), format_count(statuses.count("variances")))
    cols[2].metric(t("tile.no_statement", lang), format_count(statuses.count("no_statement")))
    cols[3].metric(
        t("tile.variance_abs", lang),
        format_money(variance_abs),
        help=t("help.variance_net", lang, amount=format_money(variance_net),
               n=format_count(sum(r["variances"] or 0 for r in rows))),
    )
    cols[4].metric(
        t("tile.settled_net", lang),
        format_money(sum((r["settled_net"] or Decimal(0) for r in rows), Decimal("0.00"))),
        help=t("help.cleared", lang, amount=format_money(sum((r["cleared_amount"] or Decimal(0) for r in rows),
                                                             Decimal("0.00")))),
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


def settlement_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.settlement_channel": lambda r: label("settlement_channel", r["settlement_channel"], lang),
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
