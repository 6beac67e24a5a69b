"""Rider dispatch page: the latest planned day's routes on a map (stores, each rider's path from the store
through its stops in delivery order, the destinations coloured by on-time), the plan against the greedy
baseline, the routes and the parcels no rider could take. Rider names are masked.

The map is drawn without a base map: no tiles are fetched (the platform runs offline), and pydeck's
``map_style`` is left at its placeholder, which Streamlit renders as a blank background. (``map_style=None``
would make Streamlit fetch CARTO tiles.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd
import pydeck as pdk
import streamlit as st

from dashboards import components as ui
from dashboards.formatting import MISSING, format_count, format_pct, format_time, ratio
from dashboards.i18n import Lang, label, t
from dashboards.masking import mask_name
from dashboards.queries import LIST_LIMIT, DispatchData, Row

SOLVERS = ("pyvrp", "greedy")
STORE_COLOR = [30, 41, 59]
ON_TIME_COLOR = [22, 163, 74]
LATE_COLOR = [220, 38, 38]
# Distinguishable route colours (Tableau 10), cycled over the routes.
ROUTE_COLORS = (
    [78, 121, 167], [242, 142, 43], [225, 87, 89], [118, 183, 178], [89, 161, 79],
    [237, 201, 72], [176, 122, 161], [255, 157, 167], [156, 117, 95], [186, 176, 172],
)


def render() -> None:
    ui.run_page("page.dispatch", body)


def body(path: Path, lang: Lang, refresh: float) -> None:
    solver_col, store_col, wave_col = st.columns(3)
    with solver_col:
        solver = ui.choose("filter.solver", SOLVERS, lang, key="dispatch_solver",
                           format_option=lambda code: label("solver", code, lang)) or "pyvrp"
    store_id = st.session_state.get("dispatch_store")
    wave_local = st.session_state.get("dispatch_wave")
    data: DispatchData | None = ui.load(path, "dispatch", lang, solver=solver, store_id=store_id, wave_local=wave_local)
    if data is not None and wave_local is not None and wave_local not in data.waves:
        # The chosen wave is not in this plan (another solver, a newer day): show all waves instead.
        st.session_state.pop("dispatch_wave", None)
        data = ui.load(path, "dispatch", lang, solver=solver, store_id=store_id, wave_local=None)
    if data is None:
        return
    with store_col:
        ui.choose("filter.store", data.store_ids, lang, key="dispatch_store", all_key="filter.all_stores")
    with wave_col:
        ui.choose("filter.wave", data.waves, lang, key="dispatch_wave", all_key="filter.all_waves",
                  format_option=lambda w: w.strftime("%H:%M"))
    ui.stamp(data.meta, lang, refresh)
    if ui.missing_tables(data.missing, "producer.dispatch", lang):
        return
    if data.business_date is None:
        st.info(t("no_data", lang))
        return
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


def render_tiles(solvers: Sequence[Row], solver: str, lang: Lang) -> None:
    by_solver = {r["solver"]: r for r in solvers}
    chosen = by_solver.get(solver)
    baseline = by_solver.get("greedy") if solver != "greedy" else None
    cols = st.columns(5)
    if chosen is None:
        for col, key in zip(cols, ("tile.routes", "tile.stops", "tile.distance", "tile.on_time", "tile.unassigned"),
                            strict=True):
            col.metric(t(key, lang), MISSING)
        return
    cols[0].metric(t("tile.routes", lang), format_count(chosen["routes"]))
    cols[1].metric(t("tile.stops", lang), format_count(chosen["stops"]))
    help_distance = None
    if baseline is not None and baseline["distance_m"]:
        saving = ratio(baseline["distance_m"] - chosen["distance_m"], baseline["distance_m"])
        help_distance = t("help.distance_vs_greedy", lang, baseline=format_km(baseline["distance_m"]),
                          saving=format_pct(saving))
    cols[2].metric(t("tile.distance", lang), format_km(chosen["distance_m"]), help=help_distance)
    cols[3].metric(
        t("tile.on_time", lang),
        format_pct(ratio(chosen["on_time_stops"], chosen["stops"])),
        help=t("help.late_stops", lang, n=format_count(chosen["late_stops"])),
    )
    cols[4].metric(t("tile.unassigned", lang), format_count(chosen["unassigned"]))


def format_km(metres: int | float | None) -> str:
    return MISSING if metres is None else f"{metres / 1000:,.1f} km"


# --- the map ----------------------------------------------------------------------------------------------------


def route_paths(routes: Iterable[Row], stops: Iterable[Row], stores: Iterable[Row], lang: Lang) -> list[dict]:
    """One path per route: the store first (where the rider starts), then the stops in ``seq`` order.
    A route whose store has no location starts at its first stop."""
    store_at = {s["store_id"]: [s["lng"], s["lat"]] for s in stores}
    route_info = {r["route_id"]: r for r in routes}
    by_route: dict[str, list[Row]] = {}
    for stop in stops:
        by_route.setdefault(stop["route_id"], []).append(stop)
    paths = []
    for index, (route_id, route_stops) in enumerate(sorted(by_route.items())):
        ordered = sorted(route_stops, key=lambda s: s["seq"])
        points = [[s["lng"], s["lat"]] for s in ordered if s["lat"] is not None and s["lng"] is not None]
        start = store_at.get(ordered[0]["store_id"])
        info = route_info.get(route_id, {})
        rider = mask_name(info.get("rider_name")) or info.get("rider_id") or ""
        paths.append({
            "route_id": route_id,
            "path": ([start] if start else []) + points,
            "color": ROUTE_COLORS[index % len(ROUTE_COLORS)],
            "title": f"{ordered[0]['store_id']} · {rider}",
            "detail": t("dispatch.route_tooltip", lang, stops=len(ordered),
                        distance=format_km(info.get("distance_m"))),
        })
    return paths


def destination_points(stops: Iterable[Row], lang: Lang) -> list[dict]:
    return [
        {
            "position": [s["lng"], s["lat"]],
            "color": ON_TIME_COLOR if s["on_time"] is not False else LATE_COLOR,
            "title": f"#{s['seq']} {s['parcel_id']}",
            "detail": t("dispatch.stop_tooltip", lang, arrival=format_time(s["arrival_local"]),
                        promised=format_time(s["promised_local"])),
        }
        for s in stops
        if s["lat"] is not None and s["lng"] is not None
    ]


def store_points(stores: Iterable[Row]) -> list[dict]:
    return [
        {"position": [s["lng"], s["lat"]], "title": s["store_id"], "detail": s["name"] or ""}
        for s in stores
    ]


def view_state(points: Sequence[Sequence[float]]) -> pdk.ViewState:
    """Centre on the points and zoom so that they all fit (roughly: the larger span sets the zoom)."""
    lngs = [p[0] for p in points]
    lats = [p[1] for p in points]
    # The map is about 1,100 px wide and 520 high; deck.gl shows 360° of longitude in 512 px at zoom 0.
    span = max(max(lngs) - min(lngs), (max(lats) - min(lats)) * 2.4, 0.005)
    zoom = max(3.0, min(16.0, math.log2(360 / span) + 0.6))
    return pdk.ViewState(latitude=(min(lats) + max(lats)) / 2, longitude=(min(lngs) + max(lngs)) / 2, zoom=zoom)


def route_map(routes: Sequence[Row], stops: Sequence[Row], stores: Sequence[Row], lang: Lang) -> pdk.Deck:
    store_ids = {s["store_id"] for s in stops}
    shown_stores = [s for s in stores if s["store_id"] in store_ids]
    paths = route_paths(routes, stops, shown_stores, lang)
    destinations = destination_points(stops, lang)
    store_layer_data = store_points(shown_stores)
    all_points = [p["position"] for p in destinations] + [p["position"] for p in store_layer_data]
    layers = [
        # Sizes in metres with a floor in pixels (pydeck turns every string argument into an accessor, so
        # the "pixels" units cannot be passed).
        pdk.Layer("PathLayer", id="routes", data=paths, get_path="path", get_color="color", get_width=30,
                  width_min_pixels=3, pickable=True, joint_rounded=True, cap_rounded=True),
        pdk.Layer("ScatterplotLayer", id="destinations", data=destinations, get_position="position",
                  get_fill_color="color", get_radius=40, radius_min_pixels=5, radius_max_pixels=12, pickable=True),
        pdk.Layer("ScatterplotLayer", id="stores", data=store_layer_data, get_position="position",
                  get_fill_color=STORE_COLOR, get_line_color=[255, 255, 255], get_radius=90, radius_min_pixels=10,
                  radius_max_pixels=24, stroked=True, line_width_min_pixels=2, pickable=True),
    ]
    # map_style is deliberately left unset (pydeck's placeholder): no base map, no tile requests.
    return pdk.Deck(
        layers=layers,
        initial_view_state=view_state(all_points),
        map_provider=None,
        tooltip={"html": "<b>{title}</b><br/>{detail}"},
    )


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


def route_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.wave": lambda r: _hhmm(r["wave_local"]),
            "col.store": lambda r: r["store_id"],
            "col.rider": lambda r: mask_name(r["rider_name"]) or r["rider_id"],
            "col.vehicle": lambda r: label("vehicle", r["vehicle"], lang),
            "col.depart": lambda r: _hhmm(r["depart_local"]),
            "col.return": lambda r: _hhmm(r["return_local"]),
            "col.stops": lambda r: format_count(r["stops"]),
            "col.distance_km": lambda r: f"{r['distance_m'] / 1000:,.1f}",
            "col.load_kg": lambda r: f"{(r['load_g'] or 0) / 1000:,.1f}",
            "col.late_stops": lambda r: format_count(r["late_stops"]),
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
            "col.ready_at": lambda r: _hhmm(r["ready_local"]),
            "col.promised": lambda r: _hhmm(r["promised_local"]),
        },
    )


def _hhmm(value: datetime | None) -> str:
    return MISSING if value is None else value.strftime("%H:%M")


if __name__ == "__main__":
    render()
