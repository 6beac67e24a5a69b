"""The route map (pydeck), shared by the dispatch page and the live page: stores, each rider's planned path
from the store through its stops in delivery order, the destinations coloured by on-time and, on the live
page, where each rider is by the plan at the data's "now". Rider names are masked.

The map is drawn without a base map: no tiles are fetched (the platform runs offline), and pydeck's
``map_style`` is left at its placeholder, which Streamlit renders as a blank background. (``map_style=None``
would make Streamlit fetch CARTO tiles.) Sizes are in metres with pixel floors: pydeck turns every string
argument (the ``"pixels"`` unit included) into a data accessor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime

import pydeck as pdk

from dashboards.formatting import MISSING, format_time
from dashboards.i18n import Lang, t
from dashboards.masking import mask_name
from dashboards.queries.reader import Row

STORE_COLOR = [30, 41, 59]
RIDER_COLOR = [37, 99, 235]
ON_TIME_COLOR = [22, 163, 74]
LATE_COLOR = [220, 38, 38]
# Distinguishable route colours (Tableau 10), cycled over the routes.
ROUTE_COLORS = (
    [78, 121, 167],
    [242, 142, 43],
    [225, 87, 89],
    [118, 183, 178],
    [89, 161, 79],
    [237, 201, 72],
    [176, 122, 161],
    [255, 157, 167],
    [156, 117, 95],
    [186, 176, 172],
)


def format_km(metres: int | float | None) -> str:
    return MISSING if metres is None else f"{metres / 1000:,.1f} km"


def hhmm(value: datetime | None) -> str:
    return MISSING if value is None else value.strftime("%H:%M")


def rider_label(route: Row) -> str:
    """A route's rider as it may be shown: the masked name, else the rider id."""
    return mask_name(route.get("rider_name")) or route.get("rider_id") or ""


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
        paths.append(
            {
                "route_id": route_id,
                "path": ([start] if start else []) + points,
                "color": ROUTE_COLORS[index % len(ROUTE_COLORS)],
                "title": f"{ordered[0]['store_id']} · {rider_label(info)}",
                "detail": t(
                    "dispatch.route_tooltip", lang, stops=len(ordered), distance=format_km(info.get("distance_m"))
                ),
            }
        )
    return paths


def destination_points(stops: Iterable[Row], lang: Lang) -> list[dict]:
    return [
        {
            "position": [s["lng"], s["lat"]],
            "color": ON_TIME_COLOR if s["on_time"] is not False else LATE_COLOR,
            "title": f"#{s['seq']} {s['parcel_id']}",
            "detail": t(
                "dispatch.stop_tooltip",
                lang,
                arrival=format_time(s["arrival_local"]),
                promised=format_time(s["promised_local"]),
            ),
        }
        for s in stops
        if s["lat"] is not None and s["lng"] is not None
    ]


def store_points(stores: Iterable[Row]) -> list[dict]:
    return [{"position": [s["lng"], s["lat"]], "title": s["store_id"], "detail": s["name"] or ""} for s in stores]


def planned_position(
    route: Row, stops: Sequence[Row], store: Sequence[float] | None, now: datetime
) -> tuple[list[float], str] | None:
    """Where the plan has the rider of ``route`` at ``now`` (local time), and what it is doing: ``waiting`` at
    the store before departure, ``delivering`` between leaving the store and the last stop (at a stop from
    its arrival to its departure, in between moved along the straight line), ``returning`` to the store,
    ``back`` once returned. None when the route has neither a store location nor a located stop.

    Positions are linear interpolations in time between the plan's points: a planned position, not a GPS fix.
    """
    located = [s for s in sorted(stops, key=lambda s: s["seq"]) if s["lat"] is not None and s["lng"] is not None]
    home = list(store) if store else ([located[0]["lng"], located[0]["lat"]] if located else None)
    if home is None:
        return None
    timeline: list[tuple[datetime, list[float]]] = []
    if route.get("depart_local") is not None:
        timeline.append((route["depart_local"], home))
    for stop in located:
        point = [stop["lng"], stop["lat"]]
        for moment in (stop.get("arrival_local"), stop.get("departure_local")):
            if moment is not None:
                timeline.append((moment, point))
    if route.get("return_local") is not None:
        timeline.append((route["return_local"], home))
    timeline.sort(key=lambda item: item[0])
    if not timeline or now < timeline[0][0]:
        return home, "waiting"
    if now >= timeline[-1][0]:
        return (home, "back") if route.get("return_local") is not None else (timeline[-1][1], "delivering")
    last_stop_departure = max(
        (s.get("departure_local") or s.get("arrival_local") for s in located if s.get("arrival_local")), default=None
    )
    state = "returning" if last_stop_departure is not None and now >= last_stop_departure else "delivering"
    for (t0, p0), (t1, p1) in zip(timeline, timeline[1:], strict=False):
        if t0 <= now < t1:
            share = (now - t0).total_seconds() / max((t1 - t0).total_seconds(), 1e-9)
            return [p0[0] + (p1[0] - p0[0]) * share, p0[1] + (p1[1] - p0[1]) * share], state
    return timeline[-1][1], state


def rider_points(
    routes: Iterable[Row], stops: Iterable[Row], stores: Iterable[Row], now: datetime | None, lang: Lang
) -> list[dict]:
    """One point per route whose rider the plan has out (or about to leave) at ``now``: its planned
    position, tooltip with the masked rider name and what the rider is doing."""
    if now is None:
        return []
    store_at = {s["store_id"]: [s["lng"], s["lat"]] for s in stores}
    by_route: dict[str, list[Row]] = {}
    for stop in stops:
        by_route.setdefault(stop["route_id"], []).append(stop)
    points = []
    for route in sorted(routes, key=lambda r: r["route_id"]):
        placed = planned_position(route, by_route.get(route["route_id"], []), store_at.get(route["store_id"]), now)
        if placed is None:
            continue
        position, state = placed
        points.append(
            {
                "route_id": route["route_id"],
                "position": position,
                "state": state,
                "title": f"{rider_label(route)} · {route['store_id']}",
                "detail": t(
                    f"rider.{state}", lang, depart=hhmm(route.get("depart_local")), back=hhmm(route.get("return_local"))
                ),
            }
        )
    return points


def view_state(points: Sequence[Sequence[float]]) -> pdk.ViewState:
    """Centre on the points and zoom so that they all fit (roughly: the larger span sets the zoom)."""
    lngs = [p[0] for p in points]
    lats = [p[1] for p in points]
    # The map is about 1,100 px wide and 520 high; deck.gl shows 360° of longitude in 512 px at zoom 0.
    span = max(max(lngs) - min(lngs), (max(lats) - min(lats)) * 2.4, 0.005)
    zoom = max(3.0, min(16.0, math.log2(360 / span) + 0.6))
    return pdk.ViewState(latitude=(min(lats) + max(lats)) / 2, longitude=(min(lngs) + max(lngs)) / 2, zoom=zoom)


def route_map(
    routes: Sequence[Row],
    stops: Sequence[Row],
    stores: Sequence[Row],
    lang: Lang,
    *,
    riders: Sequence[dict] = (),
    all_stores: bool = False,
) -> pdk.Deck:
    """The deck: routes, destinations, stores (those with stops, or ``all_stores``) and, when given, the
    riders' planned positions (layer order: routes, destinations, stores, riders)."""
    store_ids = {s["store_id"] for s in stops}
    shown_stores = list(stores) if all_stores else [s for s in stores if s["store_id"] in store_ids]
    paths = route_paths(routes, stops, shown_stores, lang)
    destinations = destination_points(stops, lang)
    store_layer_data = store_points(shown_stores)
    all_points = (
        [p["position"] for p in destinations]
        + [p["position"] for p in store_layer_data]
        + [p["position"] for p in riders]
    )
    layers = [
        pdk.Layer(
            "PathLayer",
            id="routes",
            data=paths,
            get_path="path",
            get_color="color",
            get_width=30,
            width_min_pixels=3,
            pickable=True,
            joint_rounded=True,
            cap_rounded=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="destinations",
            data=destinations,
            get_position="position",
            get_fill_color="color",
            get_radius=40,
            radius_min_pixels=5,
            radius_max_pixels=12,
            pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="stores",
            data=store_layer_data,
            get_position="position",
            get_fill_color=STORE_COLOR,
            get_line_color=[255, 255, 255],
            get_radius=90,
            radius_min_pixels=10,
            radius_max_pixels=24,
            stroked=True,
            line_width_min_pixels=2,
            pickable=True,
        ),
    ]
    if riders:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="riders",
                data=list(riders),
                get_position="position",
                get_fill_color=RIDER_COLOR,
                get_line_color=[255, 255, 255],
                get_radius=60,
                radius_min_pixels=7,
                radius_max_pixels=16,
                stroked=True,
                line_width_min_pixels=2,
                pickable=True,
            )
        )
    # map_style is deliberately left unset (pydeck's placeholder): no base map, no tile requests.
    return pdk.Deck(
        layers=layers,
        initial_view_state=view_state(all_points or [[121.47, 31.23]]),
        map_provider=None,
        tooltip={"html": "<b>{title}</b><br/>{detail}"},
    )
