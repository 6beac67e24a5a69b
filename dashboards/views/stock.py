"""Stock page: positions per store and SKU (counted, reserved, released, available), what is out of stock or
oversold, the SKUs at risk of running out next, the order lines that took stock that was not there, and what
each channel is told it may sell."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import streamlit as st

from dashboards import components as ui
from dashboards.formatting import format_count, format_pct, format_time
from dashboards.i18n import Lang, label, t
from dashboards.queries.reader import LIST_LIMIT, Row, Source
from dashboards.queries.stock import RISK_COVER_HOURS, StockData


def render() -> None:
    ui.run_page("page.stock", body)


def body(source: Source, lang: Lang, refresh: float) -> None:
    store_id = st.session_state.get("stock_store")
    data: StockData | None = ui.load(source, "stock", lang, store_id=store_id)
    if data is None:
        return
    ui.stamp(data.meta, lang, refresh)
    if ui.missing_tables(data.missing, "producer.stock", lang):
        return
    ui.choose("filter.store", data.stores, lang, key="stock_store", all_key="filter.all_stores")
    if data.totals is None or not data.totals["positions"]:
        st.info(t("no_data", lang))
        return
    st.caption(t("stock.as_of", lang, time=format_time(data.totals["as_of_local"])))
    render_tiles(data.totals, lang, at_risk=data.at_risk_count)
    st.subheader(t("stock.by_store", lang))
    ui.table(store_table(data.by_store, lang), lang)
    short_col, feed_col = st.columns([3, 2])
    with short_col:
        st.subheader(t("stock.short", lang))
        ui.table(short_table(data.short_positions, lang), lang, limit=LIST_LIMIT)
    with feed_col:
        st.subheader(t("stock.feed", lang))
        ui.table(feed_table(data.feed, lang), lang)
    st.subheader(t("stock.oversells", lang))
    ui.table(oversell_table(data.oversells, lang), lang, limit=LIST_LIMIT)
    st.subheader(t("stock.at_risk", lang))
    st.caption(t("help.at_risk", lang, hours=RISK_COVER_HOURS))
    ui.table(at_risk_table(data.at_risk, lang), lang, limit=LIST_LIMIT)


def render_tiles(totals: Row, lang: Lang, *, at_risk: int) -> None:
    cols = st.columns(5)
    cols[0].metric(t("tile.positions", lang), format_count(totals["positions"]))
    cols[1].metric(t("tile.out_of_stock", lang), format_count(totals["out_of_stock_positions"]))
    cols[2].metric(
        t("tile.oversold_positions", lang),
        format_count(totals["oversold_positions"]),
        help=t("help.oversold_units", lang, n=format_count(totals["oversold_units"])),
    )
    cols[3].metric(t("tile.open_oversells", lang), format_count(totals["open_oversells"]))
    cols[4].metric(t("tile.at_risk", lang), format_count(at_risk), help=t("help.at_risk", lang, hours=RISK_COVER_HOURS))


def store_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.store": lambda r: r["store_id"],
            "col.positions": lambda r: format_count(r["positions"]),
            "col.on_hand": lambda r: format_count(r["on_hand"]),
            "col.net_reserved": lambda r: format_count(r["net_reserved"]),
            "col.out_of_stock": lambda r: format_count(r["out_of_stock_positions"]),
            "col.oversold_positions": lambda r: format_count(r["oversold_positions"]),
            "col.open_oversells": lambda r: format_count(r["open_oversells"]),
        },
    )


def short_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.store": lambda r: r["store_id"],
            "col.sku": lambda r: r["sku_id"],
            "col.product": lambda r: r["product_name"],
            "col.product_category": lambda r: r["category"],
            "col.on_hand": lambda r: format_count(r["on_hand"]),
            "col.reserved": lambda r: format_count(r["reserved_units"]),
            "col.released": lambda r: format_count(r["released_units"]),
            "col.available": lambda r: format_count(r["available_units"]),
            "col.oversold": lambda r: format_count(r["oversold_units"]),
            "col.last_movement": lambda r: format_time(r["last_movement_local"]),
        },
    )


def oversell_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    def status(r: Row) -> str:
        resolved = r["resolved_at_local"]
        return t("status.open", lang) if resolved is None else t("status.resolved_at", lang, time=format_time(resolved))

    return ui.frame(
        rows,
        lang,
        {
            "col.ordered_at": lambda r: format_time(r["ordered_at_local"]),
            "col.channel": lambda r: label("channel", r["channel"], lang),
            "col.store": lambda r: r["store_id"],
            "col.sku": lambda r: r["sku_id"],
            "col.order_key": lambda r: r["order_key"],
            "col.quantity": lambda r: format_count(r["quantity"]),
            "col.available_before": lambda r: format_count(r["available_before"]),
            "col.shortfall": lambda r: format_count(r["shortfall_units"]),
            "col.status": status,
        },
    )


def at_risk_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    def risk(r: Row) -> str:
        if r["below_safety_stock"]:
            return t("risk.below_safety", lang)
        return t("risk.low_cover", lang, hours=RISK_COVER_HOURS)

    return ui.frame(
        rows,
        lang,
        {
            "col.store": lambda r: r["store_id"],
            "col.sku": lambda r: r["sku_id"],
            "col.product": lambda r: r["product_name"],
            "col.product_category": lambda r: r["category"],
            "col.available": lambda r: format_count(r["available_units"]),
            "col.safety_stock": lambda r: format_count(r["safety_stock_units"]),
            "col.sold_since_count": lambda r: format_count(r["sold_since_count"]),
            "col.units_per_hour": lambda r: _one_decimal(r["units_per_hour"]),
            "col.hours_of_cover": lambda r: _one_decimal(r["hours_of_cover"]),
            "col.risk": risk,
        },
    )


def _one_decimal(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def feed_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    def allocation(r: Row) -> str:
        if r["allocation_mode"] == "fixed_share" and r["allocation_share"] is not None:
            return t("allocation.share", lang, pct=format_pct(r["allocation_share"]))
        return label("allocation", r["allocation_mode"], lang)

    return ui.frame(
        rows,
        lang,
        {
            "col.channel": lambda r: label("channel", r["channel"], lang),
            "col.allocation": allocation,
            "col.listings": lambda r: format_count(r["listings"]),
            "col.sold_out": lambda r: format_count(r["sold_out"]),
            "col.sellable": lambda r: format_count(r["sellable_units"]),
        },
    )


if __name__ == "__main__":
    render()
