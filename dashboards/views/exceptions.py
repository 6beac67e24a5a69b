"""Exceptions page: every open problem (from the order marts and from the dispatch plan), by type and action,
and the list to work through, filtered by type and store. Details are masked (phones)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import streamlit as st

from dashboards import components as ui
from dashboards.formatting import format_count, format_time
from dashboards.i18n import Lang, label, t
from dashboards.queries.exceptions import ExceptionData
from dashboards.queries.reader import LIST_LIMIT, Row, Source


def render() -> None:
    ui.run_page("page.exceptions", body)


def body(source: Source, lang: Lang, refresh: float) -> None:
    filter_col, store_col = st.columns(2)
    with filter_col:
        exception_type = ui.choose(
            "filter.type",
            _TYPES,
            lang,
            key="exc_type",
            all_key="filter.all_types",
            format_option=lambda code: label("exception_type", code, lang),
        )
    store_id = st.session_state.get("exc_store")
    data: ExceptionData | None = ui.load(source, "exceptions", lang, exception_type=exception_type, store_id=store_id)
    if data is None:
        return
    with store_col:
        ui.choose("filter.store", data.stores, lang, key="exc_store", all_key="filter.all_stores")
    ui.stamp(data.meta, lang, refresh)
    if ui.missing_tables(data.missing, "producer.exceptions", lang):
        return
    render_tiles(data.counts, lang)
    if data.includes_dispatch:
        st.caption(t("exc.dispatch_note", lang))
    st.subheader(t("exc.by_type", lang))
    ui.table(counts_table(data.counts, lang), lang)
    st.subheader(t("exc.list", lang))
    ui.table(exception_list(data.rows, lang), lang, limit=LIST_LIMIT)


# The types the marts and the dispatch plan raise (others in the data still show under "all types").
_TYPES = ("late_risk", "bad_address", "payment_missing", "out_of_stock", "price_mismatch", "dispatch_late_risk")


def render_tiles(counts: Iterable[Row], lang: Lang) -> None:
    rows = list(counts)
    cols = st.columns(3)
    cols[0].metric(t("exc.open_total", lang), format_count(sum(r["open"] for r in rows)))
    cols[1].metric(t("exc.high", lang), format_count(sum(r["high"] for r in rows)))
    cols[2].metric(t("exc.types", lang), format_count(len({r["exception_type"] for r in rows})))


def counts_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.exception_type": lambda r: label("exception_type", r["exception_type"], lang),
            "col.action": lambda r: label("action", r["action"], lang),
            "col.high": lambda r: format_count(r["high"]),
            "col.medium": lambda r: format_count(r["medium"]),
            "col.other": lambda r: format_count(r["other"]),
            "col.open": lambda r: format_count(r["open"]),
        },
    )


def exception_list(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.raised_at": lambda r: format_time(r["raised_at_local"]),
            "col.exception_type": lambda r: label("exception_type", r["exception_type"], lang),
            "col.severity": lambda r: label("severity", r["severity"], lang),
            "col.channel": lambda r: label("channel", r["channel"], lang),
            "col.store": lambda r: r["store_id"],
            "col.order_key": lambda r: r["order_key"],
            "col.action": lambda r: label("action", r["action"], lang),
            "col.detail": lambda r: r["detail"],
            "col.source": lambda r: label("source", r["source"], lang),
        },
    )


if __name__ == "__main__":
    render()
