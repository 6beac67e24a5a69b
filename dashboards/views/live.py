"""Live operations page (the big screen): the latest business day, refreshed every few seconds from the
serving snapshot. Headline tiles (orders, parcels, merge savings, on-time fulfilment, exception rate), the
day's money and ingest tiles, orders per channel per minute and per hour, a map of stores, riders, destinations
and planned routes, and the newest exceptions. In big-screen mode (sidebar toggle, or ``?wall=true``) it is
one screen in large type: the five headline tiles, orders per minute over the map, per hour over the newest
exceptions; the money and ingest tiles and the detail tables stay on the desk view.

The page runs in the frame every page shares (``components.run_page``: title, settings, refresh); its stamp
is the large "last updated" one. Streamlit runs this file as the page script (``__name__ == "__main__"``);
importing it (as the tests do, for the table builders) has no side effects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from dashboards import components as ui
from dashboards import maps
from dashboards.formatting import format_count, format_money, format_pct, format_time, ratio
from dashboards.i18n import Lang, label, t
from dashboards.queries.intake_counters import SHOWN, IntakeCounters, fetch_intake_counters
from dashboards.queries.live import RECENT_MINUTES, DayTotals, Headline, LiveMap
from dashboards.queries.reader import KNOWN_CHANNELS, Row, Source
from dashboards.ui import wall_mode

# The live page's tiles are read from across the room: larger than Streamlit's default on every screen.
LIVE_CSS = """
<style>
[data-testid="stMetricValue"], [data-testid="stMetricValue"] p { font-size: 2.5rem; }
[data-testid="stMetricLabel"] p { font-size: 1.05rem; }
</style>
"""
WALL_EXCEPTIONS = 10  # newest exceptions beside the map in big-screen mode
MAP_HEIGHT = 480
WALL_MAP_HEIGHT = 430


def render() -> None:
    st.html(LIVE_CSS)
    ui.run_page("page.live", body)


def body(source: Source, lang: Lang, refresh: float) -> None:
    """Everything below the title; re-rendered on every refresh."""
    data = ui.load_live(source, lang)
    if data is None:
        return
    ui.live_stamp(data.meta, lang, refresh)
    if data.business_date is None or data.totals is None:
        st.info(t("snapshot.no_orders", lang))
        return

    st.subheader(t("live.business_day", lang, date=data.business_date.isoformat()))
    render_headline(data.totals, data.headline, lang)
    render_intake(fetch_intake_counters(), lang)
    if wall_mode():
        # One screen: the five headline tiles; orders per minute over the map, per hour over the newest
        # exceptions. The money and ingest tiles and the detail tables stay on the desk view.
        left, right = st.columns([3, 2])
        with left:
            st.caption(t("chart.recent", lang, n=RECENT_MINUTES))
            ui.bar_chart(recent_chart_frame(data.recent_minutely, lang), lang, height=260)
            render_map(data.live_map, lang, height=WALL_MAP_HEIGHT)
        with right:
            st.caption(t("chart.hourly", lang))
            ui.bar_chart(hourly_chart_frame(data.hourly, lang), lang, height=260)
            st.subheader(t("section.exceptions", lang))
            ui.table(exceptions_table(data.newest_exceptions[:WALL_EXCEPTIONS], lang), lang)
        if data.totals.unbalanced_batches:
            st.warning(t("ingest.unbalanced", lang, n=format_count(data.totals.unbalanced_batches)))
        return
    render_tiles(data.totals, lang)

    st.subheader(t("section.orders_over_time", lang))
    recent_col, hourly_col = st.columns([3, 2])
    with recent_col:
        st.caption(t("chart.recent", lang, n=RECENT_MINUTES))
        ui.bar_chart(recent_chart_frame(data.recent_minutely, lang), lang)
    with hourly_col:
        st.caption(t("chart.hourly", lang))
        ui.bar_chart(hourly_chart_frame(data.hourly, lang), lang)

    render_map(data.live_map, lang)
    st.subheader(t("section.channels", lang))
    ui.table(channel_table(data.channels, lang), lang)

    ingest_col, quarantine_col = st.columns(2)
    with ingest_col:
        st.subheader(t("section.ingest", lang))
        ui.table(ingest_table(data.ingest_by_channel, lang), lang)
        if data.reference_ingest:
            st.caption(reference_ingest_text(data.reference_ingest, lang))
        if data.settlement_ingest:
            st.caption(reference_ingest_text(data.settlement_ingest, lang, key="ingest.settlement"))
    with quarantine_col:
        st.subheader(t("section.quarantine", lang))
        ui.table(quarantine_table(data.top_quarantine, lang), lang)

    st.subheader(t("section.exceptions", lang))
    ui.table(exceptions_table(data.newest_exceptions, lang), lang)


def render_intake(counters: IntakeCounters | None, lang: Lang) -> None:
    """The gateway's last minutes, read from Redis: ahead of the snapshot, which waits for a micro-batch."""
    if counters is None:
        return
    st.caption(t("intake.title", lang, n=counters.minutes))
    tiles = st.columns(4)
    tiles[0].metric(t("intake.orders_minute", lang), format_count(counters.last_minute.get("orders", 0)))
    for tile, what in zip(tiles[1:], ("orders", "units_reserved", "refused_short"), strict=True):
        tile.metric(t(f"intake.{what}", lang), format_count(counters.window.get(what, 0)))
    if counters.by_channel and not wall_mode():
        ui.table(intake_table(counters, lang), lang)


def intake_table(counters: IntakeCounters, lang: Lang) -> pd.DataFrame:
    rows = [
        {
            t("intake.channel", lang): label("channel", channel, lang),
            **{t(f"intake.{w}", lang): counts.get(w, 0) for w in SHOWN},
        }
        for channel, counts in sorted(counters.by_channel.items())
    ]
    return pd.DataFrame(rows)


def render_headline(totals: DayTotals, headline: Headline | None, lang: Lang) -> None:
    """The big-screen row: orders, parcels, parcels saved by merging, on-time fulfilment, exception rate.
    A figure the snapshot cannot give yet is a dash, with the reason in the tile's help."""
    h = headline
    parcels = None if h is None else h.parcels
    due = None if h is None else h.due_orders
    on_time = None if h is None else h.on_time_orders
    exception_orders = 0 if h is None else h.exception_orders
    cols = st.columns(5)
    cols[0].metric(t("tile.orders", lang), format_count(totals.orders), border=True)
    cols[1].metric(
        t("tile.parcels", lang),
        format_count(parcels),
        help=t("help.no_parcels", lang)
        if parcels is None
        else t("help.parcels", lang, n=format_count(h.parcels_without_merge)),
        border=True,
    )
    if parcels is None:
        cols[2].metric(t("tile.merge_saved", lang), format_count(None), help=t("help.no_parcels", lang), border=True)
    else:
        cols[2].metric(
            t("tile.merge_saved", lang),
            format_count(h.parcels_saved_by_merge),
            delta=format_pct(ratio(h.parcels_saved_by_merge, h.parcels_without_merge)),
            delta_color="green",
            delta_arrow="off",
            delta_description=t("delta.merge_saved", lang),
            help=t(
                "help.saved_by_merge", lang, pct=format_pct(ratio(h.parcels_saved_by_merge, h.parcels_without_merge))
            ),
            border=True,
        )
    if due is None:
        cols[3].metric(t("tile.fulfilment", lang), format_pct(None), help=t("help.no_fulfilment", lang), border=True)
    else:
        cols[3].metric(
            t("tile.fulfilment", lang),
            format_pct(ratio(on_time, due)),
            delta=t("delta.fulfilment", lang, on_time=format_count(on_time), due=format_count(due)),
            delta_color="off",
            delta_arrow="off",
            help=t(
                "help.fulfilment",
                lang,
                due=format_count(due),
                on_time=format_count(on_time),
                late=format_count(h.late_delivered_orders),
                overdue=format_count(h.overdue_orders),
            ),
            border=True,
        )
    cols[4].metric(
        t("tile.exception_rate", lang),
        format_pct(ratio(exception_orders, totals.orders)),
        delta=t("delta.exception_orders", lang, n=format_count(exception_orders)),
        delta_color="off",
        delta_arrow="off",
        help=t(
            "help.exception_rate",
            lang,
            n=format_count(exception_orders),
            open=format_count(0 if h is None else h.open_exception_orders),
        ),
        border=True,
    )


def render_map(live_map: LiveMap | None, lang: Lang, *, height: int = MAP_HEIGHT) -> None:
    """Stores, riders (where the plan has them at the data's now), destinations and planned routes of the
    latest PyVRP plan; the dispatch page's map with the riders added and every store shown."""
    st.subheader(t("section.live_map", lang))
    if live_map is None or not live_map.routes:
        st.caption(t("live.no_plan", lang))
        return
    now = live_map.now_local
    current = now is not None and any(
        r["return_local"] is not None and r["return_local"] >= now for r in live_map.routes
    )
    caption_key = "live.map_current" if current else "live.map_latest_wave"
    st.caption(
        t(
            caption_key,
            lang,
            date=live_map.business_date.isoformat() if live_map.business_date else "—",
            now=format_time(now),
            routes=format_count(len(live_map.routes)),
            wave=maps.hhmm(
                max((r["wave_local"] for r in live_map.routes if r["wave_local"] is not None), default=None)
            ),
        )
        + " · "
        + t("live.map_legend", lang)
    )
    riders = maps.rider_points(live_map.routes, live_map.stops, live_map.stores, now, lang)
    deck = maps.route_map(live_map.routes, live_map.stops, live_map.stores, lang, riders=riders, all_stores=True)
    st.pydeck_chart(deck, height=height)


def render_tiles(totals: DayTotals, lang: Lang) -> None:
    """The business day's metric tiles, and a warning when ingest batches do not balance."""
    tiles = [
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
    widths = [2 if i == 0 else 1 for i in range(len(tiles))]
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


def recent_chart_frame(rows: Iterable[Row], lang: Lang, minutes: int = RECENT_MINUTES) -> pd.DataFrame:
    """Long format for a bar chart: minute (Shanghai), channel label, orders; every minute of the window
    (the ``minutes`` up to the newest one with orders, not before the day's midnight) for every channel that
    has orders in it, zeros included, so the time axis is the whole window and a quiet minute shows as one."""
    counts: dict[tuple[datetime, str], int] = {}
    for r in rows:
        key = (r["minute_local"], r["channel"])
        counts[key] = counts.get(key, 0) + int(r["orders"])
    cells: list[tuple[datetime, str]] = []
    if counts:
        last = max(minute for minute, _ in counts)
        first = max(last - timedelta(minutes=minutes - 1), last.replace(hour=0, minute=0, second=0, microsecond=0))
        present = {channel for _, channel in counts}
        channels = [c for c in KNOWN_CHANNELS if c in present] + sorted(present - set(KNOWN_CHANNELS))
        span = int((last - first).total_seconds() // 60)
        cells = [(first + timedelta(minutes=i), c) for i in range(span + 1) for c in channels]
    return pd.DataFrame(
        {
            t("col.minute", lang): pd.to_datetime([minute for minute, _ in cells]),
            t("col.channel", lang): [label("channel", channel, lang) for _, channel in cells],
            t("col.orders", lang): [counts.get(cell, 0) for cell in cells],
        }
    )


def channel_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
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
    return ui.frame(
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


def reference_ingest_text(totals: Row, lang: Lang, key: str = "ingest.reference") -> str:
    """One line for the reference-data (or, with ``key="ingest.settlement"``, settlement statement) batches,
    which are not an order channel."""
    return t(
        key,
        lang,
        **{key: format_count(totals[key]) for key in ("batches", "landed", "loaded", "quarantined", "duplicate")},
    )


def quarantine_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
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
        },
    )


if __name__ == "__main__":
    render()
