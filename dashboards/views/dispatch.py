"""Rider dispatch page. First the plan as of its clock: riders out (their stops left and ETAs), idle or off
shift; the parcels still at the store and why; the day so far (trips already out) on time and in km against
the greedy baseline; and what was not ours to plan (the platform's riders deliver it). Then the latest planned
day's routes on a map (stores, each rider's path from the store through its stops in delivery order, the
destinations coloured by on-time), the plan against the greedy baseline (whole day, and per store and tick),
the routes and the parcels no rider could take. Rider names are masked. The map itself is built in
:mod:`dashboards.maps` (the live page shows it too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
import streamlit as st

from dashboards import components as ui
from dashboards.formatting import MISSING, format_count, format_pct, ratio
from dashboards.i18n import Lang, label, t
from dashboards.maps import format_km, hhmm, route_map
from dashboards.masking import mask_name
from dashboards.queries.dispatch import DispatchData, DispatchNow
from dashboards.queries.reader import LIST_LIMIT, Row, Source

SOLVERS = ("pyvrp", "greedy")


def render() -> None:
    ui.run_page("page.dispatch", body)


def body(source: Source, lang: Lang, refresh: float) -> None:
    solver_col, store_col, wave_col = st.columns(3)
    with solver_col:
        solver = (
            ui.choose(
                "filter.solver",
                SOLVERS,
                lang,
                key="dispatch_solver",
                format_option=lambda code: label("solver", code, lang),
            )
            or "pyvrp"
        )
    store_id = st.session_state.get("dispatch_store")
    wave_local = st.session_state.get("dispatch_wave")
    data: DispatchData | None = ui.load(
        source, "dispatch", lang, solver=solver, store_id=store_id, wave_local=wave_local
    )
    if data is not None and wave_local is not None and wave_local not in data.waves:
        # The chosen wave is not in this plan (another solver, a newer day): show all waves instead.
        st.session_state.pop("dispatch_wave", None)
        data = ui.load(source, "dispatch", lang, solver=solver, store_id=store_id, wave_local=None)
    if data is None:
        return
    with store_col:
        ui.choose("filter.store", data.store_ids, lang, key="dispatch_store", all_key="filter.all_stores")
    with wave_col:
        ui.choose(
            "filter.wave",
            data.waves,
            lang,
            key="dispatch_wave",
            all_key="filter.all_waves",
            format_option=lambda w: w.strftime("%H:%M"),
        )
    ui.stamp(data.meta, lang, refresh)
    if ui.missing_tables(data.missing, "producer.dispatch", lang):
        return
    if data.business_date is None:
        st.info(t("no_data", lang))
        return
    render_now(data.now, solver, lang)
    st.subheader(t("dispatch.day", lang, date=data.business_date.isoformat()))
    render_tiles(data.solvers, solver, lang)

    st.subheader(t("dispatch.map", lang))
    st.caption(t("dispatch.map_legend", lang))
    if data.stops:
        st.pydeck_chart(route_map(data.routes, data.stops, data.stores, lang), height=520)
    else:
        st.caption(t("dispatch.no_stops", lang))

    st.subheader(t("dispatch.solvers", lang))
    ui.table(solver_table(data.solvers, lang), lang)
    routes_col, unassigned_col = st.columns([3, 2])
    with routes_col:
        st.subheader(t("dispatch.routes", lang))
        ui.table(route_table(data.routes, lang), lang)
    with unassigned_col:
        st.subheader(t("dispatch.unassigned", lang))
        ui.table(unassigned_table(data.unassigned, lang), lang, limit=LIST_LIMIT)
    st.subheader(t("dispatch.plans", lang))
    ui.table(plan_table(data.plans, lang), lang)


def render_now(now: DispatchNow | None, solver: str, lang: Lang) -> None:
    """The plan as of its clock: tiles, riders, waiting parcels, and what was skipped."""
    if now is None or now.as_of is None or now.counts is None:
        st.caption(t("dispatch.no_now", lang))
        return
    st.subheader(t("dispatch.now", lang, time=hhmm(now.as_of_local)))
    counts = now.counts
    cols = st.columns(5)
    cols[0].metric(t("tile.riders_out", lang), format_count(counts["riders_out"]))
    cols[1].metric(t("tile.riders_idle", lang), format_count(counts["riders_idle"]))
    cols[2].metric(
        t("tile.waiting", lang),
        format_count(counts["waiting"]),
        help=t("help.waiting_late", lang, n=format_count(counts["waiting_late"])),
    )
    by_solver = {r["solver"]: r for r in now.so_far}
    chosen, greedy = by_solver.get(solver), by_solver.get("greedy")
    help_so_far = None
    if greedy is not None and solver != "greedy":
        help_so_far = t(
            "help.so_far_vs_greedy",
            lang,
            on_time=format_pct(ratio(greedy["on_time_stops"], greedy["stops"])),
            km=format_km(greedy["distance_m"]),
        )
    on_time = format_pct(ratio(chosen["on_time_stops"], chosen["stops"])) if chosen else MISSING
    cols[3].metric(t("tile.on_time_so_far", lang), on_time, help=help_so_far)
    cols[4].metric(t("tile.km_so_far", lang), format_km(chosen["distance_m"]) if chosen else MISSING, help=help_so_far)
    if now.skipped:
        parts = ", ".join(
            f"{format_count(r['parcels'])} × {label('skipped_reason', r['reason'], lang)}" for r in now.skipped
        )
        st.caption(t("dispatch.skipped", lang, parts=parts))
    riders_col, waiting_col = st.columns([3, 2])
    with riders_col:
        st.subheader(t("dispatch.riders_now", lang))
        ui.table(riders_now_table(now.riders, lang), lang)
    with waiting_col:
        st.subheader(t("dispatch.waiting_now", lang))
        ui.table(waiting_table(now.waiting, lang), lang, limit=LIST_LIMIT)


def render_tiles(solvers: Sequence[Row], solver: str, lang: Lang) -> None:
    by_solver = {r["solver"]: r for r in solvers}
    chosen = by_solver.get(solver)
    baseline = by_solver.get("greedy") if solver != "greedy" else None
    cols = st.columns(5)
    if chosen is None:
        for col, key in zip(
            cols, ("tile.routes", "tile.stops", "tile.distance", "tile.on_time", "tile.unassigned"), strict=True
        ):
            col.metric(t(key, lang), MISSING)
        return
    cols[0].metric(t("tile.routes", lang), format_count(chosen["routes"]))
    cols[1].metric(t("tile.stops", lang), format_count(chosen["stops"]))
    help_distance = None
    if baseline is not None and baseline["distance_m"]:
        saving = ratio(baseline["distance_m"] - chosen["distance_m"], baseline["distance_m"])
        help_distance = t(
            "help.distance_vs_greedy", lang, baseline=format_km(baseline["distance_m"]), saving=format_pct(saving)
        )
    cols[2].metric(t("tile.distance", lang), format_km(chosen["distance_m"]), help=help_distance)
    cols[3].metric(
        t("tile.on_time", lang),
        format_pct(ratio(chosen["on_time_stops"], chosen["stops"])),
        help=t("help.late_stops", lang, n=format_count(chosen["late_stops"])),
    )
    cols[4].metric(t("tile.unassigned", lang), format_count(chosen["unassigned"]))


# --- tables -----------------------------------------------------------------------------------------------------


def solver_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.solver": lambda r: label("solver", r["solver"], lang),
            "col.routes": lambda r: format_count(r["routes"]),
            "col.stops": lambda r: format_count(r["stops"]),
            "col.distance_km": lambda r: f"{r['distance_m'] / 1000:,.1f}",
            "col.duration": lambda r: f"{r['duration_s'] / 60:,.0f}",
            "col.on_time_rate": lambda r: format_pct(ratio(r["on_time_stops"], r["stops"])),
            "col.unassigned": lambda r: format_count(r["unassigned"]),
        },
    )


def riders_now_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    """Each rider at the plan's clock: out (back at, stops left, next and last ETA), idle (next planned
    departure, if any) or off shift (next shift start, if later today)."""
    return ui.frame(
        rows,
        lang,
        {
            "col.store": lambda r: r["store_id"],
            "col.rider": lambda r: mask_name(r["rider_name"]) or r["rider_id"],
            "col.status": lambda r: label("rider_status", r["status"], lang),
            "col.until": lambda r: hhmm(r["until_local"]),
            "col.stops_left": lambda r: format_count(r["stops_left"]) if r["status"] == "out" else MISSING,
            "col.next_eta": lambda r: hhmm(r["next_eta_local"]),
            "col.last_eta": lambda r: hhmm(r["last_eta_local"]),
        },
    )


def waiting_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    """Parcels still at the store at the plan's clock, soonest promise first, with why and until when."""
    return ui.frame(
        rows,
        lang,
        {
            "col.store": lambda r: r["store_id"],
            "col.parcel": lambda r: r["parcel_id"],
            "col.reason": lambda r: label("waiting_reason", r["reason"], lang),
            "col.until": lambda r: hhmm(r["until_local"]),
            "col.ready_at": lambda r: hhmm(r["ready_local"]),
            "col.promised": lambda r: hhmm(r["promised_local"]),
            "col.late": lambda r: "●" if r["late"] else "",
        },
    )


def route_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.wave": lambda r: hhmm(r["wave_local"]),
            "col.store": lambda r: r["store_id"],
            "col.rider": lambda r: mask_name(r["rider_name"]) or r["rider_id"],
            "col.vehicle": lambda r: label("vehicle", r["vehicle"], lang),
            "col.depart": lambda r: hhmm(r["depart_local"]),
            "col.return": lambda r: hhmm(r["return_local"]),
            "col.stops": lambda r: format_count(r["stops"]),
            "col.distance_km": lambda r: f"{r['distance_m'] / 1000:,.1f}",
            "col.load_kg": lambda r: f"{(r['load_g'] or 0) / 1000:,.1f}",
            "col.late_stops": lambda r: format_count(r["late_stops"]),
        },
    )


def plan_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    """Per store and wave: the chosen plan's trips, stops, distance and on-time rate next to the greedy
    baseline's distance and on-time rate, and how much shorter the plan is."""

    def saving(r: Row) -> str:
        baseline = r["greedy_distance_m"]
        return format_pct(ratio(baseline - r["distance_m"], baseline)) if baseline else MISSING

    return ui.frame(
        rows,
        lang,
        {
            "col.store": lambda r: r["store_id"],
            "col.wave": lambda r: hhmm(r["wave_local"]),
            "col.routes": lambda r: format_count(r["routes"]),
            "col.stops": lambda r: format_count(r["stops"]),
            "col.distance_km": lambda r: f"{r['distance_m'] / 1000:,.1f}",
            "col.greedy_distance_km": lambda r: (
                MISSING if r["greedy_distance_m"] is None else f"{r['greedy_distance_m'] / 1000:,.1f}"
            ),
            "col.saving": saving,
            "col.on_time_rate": lambda r: format_pct(ratio(r["on_time_stops"], r["stops"])),
            "col.greedy_on_time_rate": lambda r: format_pct(ratio(r["greedy_on_time_stops"], r["greedy_stops"])),
        },
    )


def unassigned_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.store": lambda r: r["store_id"],
            "col.parcel": lambda r: r["parcel_id"],
            "col.reason": lambda r: label("unassigned_reason", r["reason"], lang),
            "col.ready_at": lambda r: hhmm(r["ready_local"]),
            "col.promised": lambda r: hhmm(r["promised_local"]),
        },
    )


if __name__ == "__main__":
    render()
