"""Merging and parcels page: what merging the same customer's orders saved on the latest business day, per
store, and over the last days (from ``fct_merge_savings_daily``; the parcels themselves stay in the warehouse)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import streamlit as st

from dashboards import components as ui
from dashboards.formatting import format_count, format_pct, ratio
from dashboards.i18n import Lang, t
from dashboards.queries.parcels import ParcelData
from dashboards.queries.reader import TREND_DAYS, Row, Source


def render() -> None:
    ui.run_page("page.parcels", body)


def body(source: Source, lang: Lang, refresh: float) -> None:
    data: ParcelData | None = ui.load(source, "parcels", lang)
    if data is None:
        return
    ui.stamp(data.meta, lang, refresh)
    if ui.missing_tables(data.missing, "producer.parcels", lang):
        return
    if data.business_date is None or data.totals is None:
        st.info(t("snapshot.no_orders", lang))
        return
    st.subheader(t("parcels.day", lang, date=data.business_date.isoformat()))
    render_tiles(data.totals, lang)
    st.subheader(t("parcels.by_store", lang))
    ui.table(store_table(data.by_store, lang), lang)
    st.subheader(t("parcels.trend", lang, n=TREND_DAYS))
    ui.bar_chart(trend_frame(data.trend, lang), lang, stack=False)


def render_tiles(totals: Row, lang: Lang) -> None:
    cols = st.columns(5)
    cols[0].metric(t("tile.delivery_orders", lang), format_count(totals["delivery_orders"]))
    cols[1].metric(
        t("tile.merged_orders", lang),
        format_count(totals["merged_orders"]),
        help=t(
            "help.merged_orders",
            lang,
            rate=format_pct(ratio(totals["merged_orders"], totals["delivery_orders"])),
            groups=format_count(totals["merge_groups_of_two_or_more"]),
        ),
    )
    cols[2].metric(
        t("tile.parcels_sent", lang),
        format_count(totals["parcels_after_split"]),
        help=t("help.parcels_sent", lang, n=format_count(totals["parcels_split_without_merge"])),
    )
    cols[3].metric(
        t("tile.saved_by_merge", lang),
        format_count(totals["parcels_saved_by_merge"]),
        help=t("help.saved_by_merge", lang, pct=_saved_pct(totals)),
    )
    cols[4].metric(
        t("tile.split_groups", lang),
        format_count(totals["split_merge_groups"]),
        help=t(
            "help.split_groups",
            lang,
            zone=format_count(totals["split_by_zone_merge_groups"]),
            limits=format_count(totals["split_by_limits_merge_groups"]),
            oversize=format_count(totals["oversize_parcels"]),
        ),
    )


def _saved_pct(r: Row) -> str:
    return format_pct(ratio(r["parcels_saved_by_merge"], r["parcels_split_without_merge"]))


def store_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.store": lambda r: r["store_id"] or "—",
            "col.delivery": lambda r: format_count(r["delivery_orders"]),
            "col.merged_orders": lambda r: format_count(r["merged_orders"]),
            "col.parcels_split_without_merge": lambda r: format_count(r["parcels_split_without_merge"]),
            "col.parcels_after_split": lambda r: format_count(r["parcels_after_split"]),
            "col.saved_by_merge": lambda r: format_count(r["parcels_saved_by_merge"]),
            "col.saved_pct": _saved_pct,
            "col.split_groups": lambda r: format_count(r["split_merge_groups"]),
        },
    )


def trend_frame(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    """Long format: date, measure (parcels without merging / parcels sent), count."""
    series = (
        ("col.parcels_split_without_merge", "parcels_split_without_merge"),
        ("col.parcels_after_split", "parcels_after_split"),
    )
    rows_ = list(rows)
    return pd.DataFrame(
        {
            t("col.date", lang): [r["business_date"].isoformat() for r in rows_ for _ in series],
            t("col.series", lang): [t(key, lang) for _ in rows_ for key, _ in series],
            t("col.value", lang): [int(r[column]) for r in rows_ for _, column in series],
        }
    )


if __name__ == "__main__":
    render()
