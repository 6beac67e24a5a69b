"""Data quality page: row accounting over every ingest batch (landed = loaded + quarantined + duplicate), per
channel and batch by batch, and every quarantine reason. The live page shows the business day; this page
shows everything the snapshot holds."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards import components as ui
from dashboards.formatting import format_count, format_pct, format_time, ratio
from dashboards.i18n import Lang, label, t
from dashboards.queries import LIST_LIMIT, QualityData, Row


def render() -> None:
    ui.run_page("page.quality", body)


def body(path: Path, lang: Lang, refresh: float) -> None:
    data: QualityData | None = ui.load(path, "quality", lang)
    if data is None:
        return
    ui.stamp(data.meta, lang, refresh)
    if ui.missing_tables(data.missing, "producer.quality", lang):
        return
    render_tiles(data.by_channel, lang)
    st.subheader(t("dq.by_channel", lang))
    ui.table(channel_table(data.by_channel, lang), lang)
    batches_col, quarantine_col = st.columns([3, 2])
    with batches_col:
        st.subheader(t("dq.batches", lang))
        ui.table(batch_table(data.recent_batches, lang), lang, limit=LIST_LIMIT)
    with quarantine_col:
        st.subheader(t("dq.quarantine", lang))
        ui.table(quarantine_table(data.quarantine, lang), lang)


def render_tiles(by_channel: Iterable[Row], lang: Lang) -> None:
    rows = list(by_channel)
    landed = sum(r["landed"] for r in rows)
    quarantined = sum(r["quarantined"] for r in rows)
    unbalanced = sum(r["unbalanced_batches"] for r in rows)
    cols = st.columns(4)
    cols[0].metric(t("tile.landed_all", lang), format_count(landed))
    cols[1].metric(t("tile.quarantine_rate", lang), format_pct(ratio(quarantined, landed)),
                   help=t("help.quarantined_n", lang, n=format_count(quarantined)))
    cols[2].metric(t("tile.duplicates", lang), format_count(sum(r["duplicate"] for r in rows)))
    cols[3].metric(t("tile.unbalanced", lang), format_count(unbalanced))
    if unbalanced:
        st.warning(t("ingest.unbalanced", lang, n=format_count(unbalanced)))
    elif rows:
        st.success(t("dq.balance_ok", lang, n=format_count(sum(r["batches"] for r in rows))))


def _channel(code: str, lang: Lang) -> str:
    return code if code.startswith(("reference/", "settlement/")) else label("channel", code, lang)


def channel_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.channel": lambda r: _channel(r["channel"], lang),
            "col.batches": lambda r: format_count(r["batches"]),
            "col.landed": lambda r: format_count(r["landed"]),
            "col.loaded": lambda r: format_count(r["loaded"]),
            "col.quarantined": lambda r: format_count(r["quarantined"]),
            "col.duplicate": lambda r: format_count(r["duplicate"]),
            "col.quarantine_rate": lambda r: format_pct(ratio(r["quarantined"], r["landed"])),
            "tile.unbalanced": lambda r: format_count(r["unbalanced_batches"]),
        },
    )


def batch_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.started": lambda r: format_time(r["started_local"]),
            "col.batch": lambda r: r["batch_id"],
            "col.channel": lambda r: _channel(r["channel"], lang),
            "col.files": lambda r: format_count(r["files"]),
            "col.landed": lambda r: format_count(r["landed"]),
            "col.loaded": lambda r: format_count(r["loaded"]),
            "col.quarantined": lambda r: format_count(r["quarantined"]),
            "col.duplicate": lambda r: format_count(r["duplicate"]),
            "col.balanced": lambda r: ui.yes_no(r["is_balanced"], lang),
            "col.seconds": lambda r: "—" if r["seconds"] is None else f"{r['seconds']:,.1f}",
        },
    )


def quarantine_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.error_code": lambda r: r["error_code"],
            "col.channel": lambda r: _channel(r["channel"], lang),
            "col.records": lambda r: format_count(r["records"]),
            "col.first_at": lambda r: format_time(r["first_at_local"]),
            "col.last_at": lambda r: format_time(r["last_at_local"]),
        },
    )


if __name__ == "__main__":
    render()
