"""Live operations page: the latest business day, refreshed every few seconds from the serving snapshot.

Streamlit runs this file as the page script (``__name__ == "__main__"``); importing it (as the tests do, for
the table builders) has no side effects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from dashboards import settings, snapshot
from dashboards.formatting import (
    format_age,
    format_count,
    format_money,
    format_pct,
    format_time,
    ratio,
)
from dashboards.i18n import Lang, label, t
from dashboards.masking import mask_cell
from dashboards.queries import RECENT_MINUTES, DayTotals, Row, SnapshotMeta
from dashboards.ui import current_lang


def render() -> None:
    lang = current_lang()
    st.title(t("page.live", lang))
    try:
        refresh = settings.refresh_seconds()
        stale_after = settings.stale_after_seconds()
    except settings.SettingsError as exc:
        st.error(str(exc))
        return
    path = settings.serving_path()

    @st.fragment(run_every=refresh)
    def live_panel() -> None:
        render_panel(path, lang, refresh=refresh, stale_after=stale_after)

    live_panel()


def render_panel(path: Path, lang: Lang, *, refresh: float, stale_after: float) -> None:
    """Everything below the title; re-rendered on every refresh."""
    try:
        data = snapshot.load_live(path)
    except duckdb.Error as exc:
        st.error(t("snapshot.unreadable", lang, path=path, error=exc))
        return
    if data is None:
        st.info(t("snapshot.missing", lang, path=path))
        return

    render_stamp(data.meta, lang, refresh=refresh, stale_after=stale_after, now=_utc_now())
    if data.business_date is None or data.totals is None:
        st.info(t("snapshot.no_orders", lang))
        return

    st.subheader(t("live.business_day", lang, date=data.business_date.isoformat()))
    render_tiles(data.totals, lang)

    st.subheader(t("section.orders_over_time", lang))
    hourly_col, recent_col = st.columns(2)
    with hourly_col:
        st.caption(t("chart.hourly", lang))
        _chart(hourly_chart_frame(data.hourly, lang), kind="bar", lang=lang)
    with recent_col:
        st.caption(t("chart.recent", lang, n=RECENT_MINUTES))
        _chart(recent_chart_frame(data.recent_minutely, lang), kind="line", lang=lang)

    st.subheader(t("section.channels", lang))
    _table(channel_table(data.channels, lang), lang)

    ingest_col, quarantine_col = st.columns(2)
    with ingest_col:
        st.subheader(t("section.ingest", lang))
        _table(ingest_table(data.ingest_by_channel, lang), lang)
        if data.reference_ingest:
            st.caption(reference_ingest_text(data.reference_ingest, lang))
    with quarantine_col:
        st.subheader(t("section.quarantine", lang))
        _table(quarantine_table(data.top_quarantine, lang), lang)

    st.subheader(t("section.exceptions", lang))
    _table(exceptions_table(data.newest_exceptions, lang), lang)


def render_stamp(
    meta: SnapshotMeta | None, lang: Lang, *, refresh: float, stale_after: float, now: datetime
) -> None:
    """"Last updated N s ago" from the snapshot's publish time; red once older than ``stale_after``."""
    published_at = meta.published_at if meta else None
    if published_at is None:
        st.markdown(f":red[{t('stamp.unknown', lang)}]")
    else:
        age = (now - published_at).total_seconds()
        text = t("stamp.updated", lang, age=format_age(age, lang))
        st.markdown(f":red[**{text}**]" if age > stale_after else text)
    run_id = (meta.run_id if meta else None) or "—"
    latest = meta.latest_order_at if meta else None
    st.caption(
        t(
            "stamp.details",
            lang,
            run_id=f"`{run_id.replace('`', '')}`",
            latest_order=format_time(_to_local(latest)),
            refresh=f"{refresh:g}",
        )
    )


def render_tiles(totals: DayTotals, lang: Lang) -> None:
    """The business day's metric tiles, and a warning when ingest batches do not balance."""
    tiles = [
        (t("tile.orders", lang), format_count(totals.orders), None),
        (t("tile.paid_amount", lang), format_money(totals.paid_amount), None),
        (
            t("tile.cancel_rate", lang),
            format_pct(ratio(totals.cancelled_orders, totals.orders)),
            t("help.cancel_rate", lang, n=format_count(totals.cancelled_orders)),
        ),
        (t("tile.exceptions", lang), format_count(totals.exceptions), t("help.exceptions", lang)),
        (
            t("tile.loaded", lang),
            format_count(totals.loaded),
            t(
                "help.loaded",
                lang,
                landed=format_count(totals.landed),
                duplicate=format_count(totals.duplicate),
            ),
        ),
        (
            t("tile.quarantined", lang),
            format_count(totals.quarantined),
            t("help.quarantined", lang, rate=format_pct(ratio(totals.quarantined, totals.landed))),
        ),
    ]
    # The money tile gets twice the width: ¥12,345,678.90 would otherwise be cut to "¥12,345,…".
    widths = [2 if i == 1 else 1 for i in range(len(tiles))]
    for column, (tile_label, value, help_text) in zip(st.columns(widths), tiles, strict=True):
        column.metric(tile_label, value, help=help_text, border=True)
    if totals.unbalanced_batches:
        st.warning(t("ingest.unbalanced", lang, n=format_count(totals.unbalanced_batches)))


# --- display frames (pure: rows in, formatted DataFrame out) -------------------------------------------------


def hourly_chart_frame(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    """Long format for a stacked bar chart: hour (``HH:00``, Shanghai), channel label, orders."""
    rows_ = list(rows)
    return pd.DataFrame(
        {
            t("col.hour", lang): [r["hour_start_local"].strftime("%H:%M") for r in rows_],
            t("col.channel", lang): [label("channel", r["channel"], lang) for r in rows_],
            t("col.orders", lang): [int(r["orders"]) for r in rows_],
        }
    )


def recent_chart_frame(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    """Long format for a line chart: minute (Shanghai), channel label, orders."""
    rows_ = list(rows)
    return pd.DataFrame(
        {
            t("col.minute", lang): pd.to_datetime([r["minute_local"] for r in rows_]),
            t("col.channel", lang): [label("channel", r["channel"], lang) for r in rows_],
            t("col.orders", lang): [int(r["orders"]) for r in rows_],
        }
    )


def channel_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return _frame(
        rows,
        lang,
        {
            "col.channel": lambda r: label("channel", r["channel"], lang),
            "col.orders": lambda r: format_count(r["orders"]),
            "col.paid_amount": lambda r: format_money(r["paid_amount"]),
            "col.cancelled": lambda r: format_count(r["cancelled_orders"]),
            "col.cancel_rate": lambda r: format_pct(ratio(r["cancelled_orders"], r["orders"])),
            "col.delivery": lambda r: format_count(r["delivery_orders"]),
            "col.self_pickup": lambda r: format_count(r["self_pickup_orders"]),
            "col.in_store": lambda r: format_count(r["in_store_orders"]),
        },
    )


def ingest_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return _frame(
        rows,
        lang,
        {
            "col.channel": lambda r: label("channel", r["channel"], lang),
            "col.batches": lambda r: format_count(r["batches"]),
            "col.landed": lambda r: format_count(r["landed"]),
            "col.loaded": lambda r: format_count(r["loaded"]),
            "col.quarantined": lambda r: format_count(r["quarantined"]),
            "col.duplicate": lambda r: format_count(r["duplicate"]),
            "col.quarantine_rate": lambda r: format_pct(ratio(r["quarantined"], r["landed"])),
        },
    )


def reference_ingest_text(totals: Row, lang: Lang) -> str:
    """One line for the reference-data batches, which are not an order channel."""
    return t(
        "ingest.reference",
        lang,
        **{key: format_count(totals[key]) for key in ("batches", "landed", "loaded", "quarantined", "duplicate")},
    )


def quarantine_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return _frame(
        rows,
        lang,
        {
            "col.error_code": lambda r: r["error_code"],
            "col.channel": lambda r: label("channel", r["channel"], lang),
            "col.records": lambda r: format_count(r["records"]),
            "col.first_at": lambda r: format_time(r["first_at_local"]),
            "col.last_at": lambda r: format_time(r["last_at_local"]),
        },
    )


def exceptions_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return _frame(
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
        },
    )


def _frame(rows: Iterable[Row], lang: Lang, columns: dict[str, Callable[[Row], object]]) -> pd.DataFrame:
    # Every cell is masked (phone numbers in exception details), as on every page.
    rows_ = list(rows)
    return pd.DataFrame(
        {t(key, lang): [mask_cell(cell(r)) for r in rows_] for key, cell in columns.items()}, dtype=object
    )


# --- rendering helpers ------------------------------------------------------------------------------------------


def _table(frame: pd.DataFrame, lang: Lang) -> None:
    if frame.empty:
        st.caption(t("no_data", lang))
        return
    st.dataframe(frame, hide_index=True, width="stretch")


def _chart(frame: pd.DataFrame, *, kind: str, lang: Lang) -> None:
    if frame.empty:
        st.caption(t("no_data", lang))
        return
    x, color, y = frame.columns
    if kind == "bar":
        st.bar_chart(frame, x=x, y=y, color=color, stack=True)
    else:
        st.line_chart(frame, x=x, y=y, color=color)


def _to_local(value: datetime | None) -> datetime | None:
    # snapshot_meta times are naive UTC; Asia/Shanghai is UTC+8 all year.
    return None if value is None else value + timedelta(hours=8)


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


if __name__ == "__main__":
    render()
