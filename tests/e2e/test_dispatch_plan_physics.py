"""The dispatch plan's own `on_time` flag only restates the solver's time windows. This checks the plan from
outside: each trip is re-ridden from the store with an independent great-circle computation at the configured
detour and speed, and every stop's promise is re-derived from the orders in the marts. A plan that arrives
faster than a rider can ride, leaves before a parcel is packed, carries more than the rider can, or claims a
promise the orders do not make fails here, and only then do its stops count as on time."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
ROUNDING = timedelta(seconds=2)  # the planner rounds travel to whole seconds per leg


def _ride_seconds(a: tuple[float, float], b: tuple[float, float], detour: float, speed_kmh: float) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    metres = 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h)) * detour
    return metres / (speed_kmh / 3.6)


def test_every_trip_is_rideable_and_its_on_time_stops_keep_the_orders_promises(clean_pipeline_run):
    warehouse, *_ = clean_pipeline_run
    rules = yaml.safe_load((ROOT / "config" / "rules.yml").read_text(encoding="utf-8"))["dispatch"]
    detour, speed = rules["detour_factor"], rules["rider_speed_kmh"]
    pick, asap = timedelta(minutes=rules["pick_minutes"]), timedelta(minutes=rules["asap_promise_minutes"])
    tick = timedelta(minutes=rules["tick_minutes"])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        stores = {s: (lat, lng) for s, lat, lng in con.execute("select store_id, lat, lng from raw.stores").fetchall()}
        capacity = dict(con.execute("select rider_id, capacity_kg * 1000 from raw.riders").fetchall())
        routes = con.execute(
            "select route_id, store_id, rider_id, depart_at, return_at, load_g, wave_at from dispatch.dispatch_routes"
        ).fetchall()
        stops = con.execute(
            "select route_id, seq, parcel_id, arrival, departure, lat, lng, promised_to, on_time "
            "from dispatch.dispatch_stops order by route_id, seq"
        ).fetchall()
        parcels = {
            pid: (weight, promised, last_order)
            for pid, weight, promised, last_order in con.execute("""
                with parcel_orders as (
                    select parcel_id, weight_g, unnest(string_split(order_keys, ',')) as order_key
                    from marts.fct_parcels
                )
                select po.parcel_id, any_value(po.weight_g), min(o.promised_to), max(o.created_at)
                from parcel_orders po join marts.fct_orders o using (order_key)
                group by po.parcel_id""").fetchall()
        }
    finally:
        con.close()
    assert routes and stops, "the run planned no trips: nothing to check"

    by_route: dict[str, list[tuple]] = {}
    for stop in stops:
        by_route.setdefault(stop[0], []).append(stop)
    problems: list[str] = []
    on_time = 0
    late_when_sent = 0
    for route_id, store_id, rider_id, depart_at, return_at, load_g, wave_at in routes:
        trip = by_route.get(route_id, [])
        position, clock = stores[store_id], depart_at
        carried = 0
        for _, seq, parcel_id, arrival, departure, lat, lng, promised_to, claimed_on_time in trip:
            weight, promised, last_order = parcels[parcel_id]
            carried += weight
            if depart_at < last_order + pick:
                problems.append(f"{route_id} leaves at {depart_at} before {parcel_id} is packed")
            earliest = clock + timedelta(seconds=_ride_seconds(position, (lat, lng), detour, speed))
            if arrival < earliest - ROUNDING:
                problems.append(f"{route_id} stop {seq} arrives {arrival}, cannot be before {earliest}")
            promise = promised if promised is not None else last_order + asap
            if promised_to != promise:
                problems.append(f"{route_id} stop {seq} claims promise {promised_to}, the orders say {promise}")
            if claimed_on_time != (arrival <= promise):
                problems.append(f"{route_id} stop {seq} on_time={claimed_on_time} but arrives {arrival} for {promise}")
            on_time += arrival <= promise
            late_when_sent += arrival > promise and promise <= wave_at + tick
            position, clock = (lat, lng), max(departure, arrival)
        back = clock + timedelta(seconds=_ride_seconds(position, stores[store_id], detour, speed))
        if trip and return_at < back - ROUNDING:
            problems.append(f"{route_id} returns {return_at}, cannot be before {back}")
        if carried != load_g or carried > capacity[rider_id]:
            problems.append(f"{route_id} carries {carried} g (route says {load_g}), rider takes {capacity[rider_id]}")
    assert not problems, "\n".join(problems[:20])
    # Every stop the planner puts on a trip is within its promise (the deadline is a hard constraint of the plan),
    # except a parcel already late when its trip was sent: that one goes with the first free rider.
    assert on_time + late_when_sent == len(stops)
    assert on_time > late_when_sent
