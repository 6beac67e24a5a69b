"""Independent check of a `Plan` against its inputs.

Recomputes everything from the parcels, riders and stores with `geo` alone — not from any solver's
matrices or schedule — and reports each broken rule as a sentence: load over capacity, cold box over
capacity, a cold parcel on a rider without a cold box, leaving before the rider or a parcel is ready,
moving faster than the travel-time model allows, arriving after `promised_to`, returning after the
shift end, a parcel served twice or missing from both the routes and the unassigned list, and reported
totals (distance, duration, load) that do not match the stops.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from dispatch import geo
from dispatch.model import REASONS, Parcel, Plan, Rider, Route, RoutingConfig, Stop, Store


def validate_plan(
    plan: Plan, parcels: list[Parcel], riders: list[Rider], config: RoutingConfig, stores: list[Store] | None = None
) -> list[str]:
    """Violations of `plan`; [] when it is valid. Without `stores` the legs from and to the store (first
    and last leg, departure, return, distance) cannot be recomputed and are not checked."""
    errors: list[str] = []
    parcel_by_id = {p.parcel_id: p for p in parcels}
    rider_by_id = {r.rider_id: r for r in riders}
    store_by_id = {s.store_id: s for s in stores} if stores is not None else None

    served = Counter(s.parcel_id for route in plan.routes for s in route.stops)
    left = Counter(pid for pid, _ in plan.unassigned)
    for pid, k in served.items():
        if k > 1:
            errors.append(f"parcel {pid} served {k} times")
    for pid, k in left.items():
        if k > 1:
            errors.append(f"parcel {pid} listed unassigned {k} times")
        if pid in served:
            errors.append(f"parcel {pid} both served and unassigned")
    for pid in (served.keys() | left.keys()) - parcel_by_id.keys():
        errors.append(f"parcel {pid} in the plan is not an input parcel")
    for pid in parcel_by_id.keys() - served.keys() - left.keys():
        errors.append(f"parcel {pid} missing from both routes and unassigned")
    for pid, reason in plan.unassigned:
        if reason not in REASONS:
            errors.append(f"parcel {pid} unassigned with unknown reason {reason!r}")

    riders_used = Counter(route.rider_id for route in plan.routes)
    for rid, k in riders_used.items():
        if k > 1:
            errors.append(f"rider {rid} has {k} routes")
    for route in plan.routes:
        rider = rider_by_id.get(route.rider_id)
        if rider is None:
            errors.append(f"route of unknown rider {route.rider_id}")
            continue
        stops = [s for s in route.stops if s.parcel_id in parcel_by_id]
        store = store_by_id.get(rider.store_id) if store_by_id is not None else None
        if store_by_id is not None and store is None:
            errors.append(f"rider {rider.rider_id}: store {rider.store_id} not given")
        errors += _check_route(route, stops, rider, [parcel_by_id[s.parcel_id] for s in stops], store, config)
    return errors


def _check_route(
    route: Route, stops: list[Stop], rider: Rider, parcels: list[Parcel], store: Store | None, config: RoutingConfig
) -> list[str]:
    who = f"rider {rider.rider_id}"
    errors: list[str] = []
    if not route.stops:
        errors.append(f"{who}: route without stops")
        return errors
    if [s.seq for s in route.stops] != list(range(1, len(route.stops) + 1)):
        errors.append(f"{who}: stop sequence numbers are not 1..{len(route.stops)}")

    weight = sum(p.weight_g for p in parcels)
    cold = sum(p.cold_ml for p in parcels)
    if weight + rider.current_load_g > rider.capacity_g:
        errors.append(
            f"{who}: capacity exceeded ({weight} g + {rider.current_load_g} g already on board > {rider.capacity_g} g)"
        )
    cold_parcels = [p.parcel_id for p in parcels if p.is_cold]
    if cold_parcels and rider.cold_box_capacity_ml <= 0:
        errors.append(f"{who}: cold parcel(s) {cold_parcels} on a rider without a cold box")
    elif cold > rider.cold_box_capacity_ml:
        errors.append(f"{who}: cold box over capacity ({cold} ml > {rider.cold_box_capacity_ml} ml)")
    if route.load_g != weight or route.cold_ml != cold:
        errors.append(
            f"{who}: reported load {route.load_g} g / {route.cold_ml} ml, stops add up to {weight} g / {cold} ml"
        )

    for p in parcels:
        if p.store_id != rider.store_id:
            errors.append(f"{who}: parcel {p.parcel_id} of store {p.store_id} on a rider of {rider.store_id}")
        if route.depart_at < p.ready_at:
            errors.append(f"{who}: leaves at {route.depart_at} before parcel {p.parcel_id} is ready ({p.ready_at})")

    if route.depart_at < rider.shift_start:
        errors.append(f"{who}: leaves at {route.depart_at}, before its shift starts ({rider.shift_start})")
    if store is not None:
        d = geo.road_distance_m(rider.lat, rider.lng, store.lat, store.lng, config)
        at_store = rider.shift_start + timedelta(seconds=geo.travel_s(d, config))
    if store is not None and route.depart_at < at_store:
        errors.append(f"{who}: leaves the store at {route.depart_at}, before it can be there")

    distance = 0
    prev: tuple[float, float] | None = (store.lat, store.lng) if store else None
    prev_time = route.depart_at
    for stop, p in zip(stops, parcels):
        if (stop.lat, stop.lng) != (p.lat, p.lng):
            errors.append(f"{who}: stop {stop.seq} is not at parcel {p.parcel_id}'s address")
        if prev is not None:
            d = geo.road_distance_m(prev[0], prev[1], p.lat, p.lng, config)
            distance += d
            earliest = prev_time + timedelta(seconds=geo.travel_s(d, config))
            if stop.arrival < earliest:
                errors.append(f"{who}: arrives at parcel {p.parcel_id} at {stop.arrival}, cannot before {earliest}")
        if p.promised_to is not None and stop.arrival > p.promised_to:
            errors.append(f"{who}: parcel {p.parcel_id} arrives at {stop.arrival}, after promised_to {p.promised_to}")
        start = max(stop.arrival, p.promised_from) if p.promised_from is not None else stop.arrival
        if stop.departure < start + timedelta(seconds=p.service_s):
            errors.append(f"{who}: leaves parcel {p.parcel_id} at {stop.departure}, before service can end")
        prev, prev_time = (p.lat, p.lng), stop.departure

    if store is not None and prev is not None:
        d = geo.road_distance_m(prev[0], prev[1], store.lat, store.lng, config)
        distance += d
        back = prev_time + timedelta(seconds=geo.travel_s(d, config))
        if route.return_at < back:
            errors.append(f"{who}: back at {route.return_at}, cannot before {back}")
        if route.distance_m != distance:
            errors.append(f"{who}: reported distance {route.distance_m} m, stops add up to {distance} m")
    if route.return_at > rider.shift_end:
        errors.append(f"{who}: back at the store at {route.return_at}, after shift end {rider.shift_end}")
    if route.duration_s != int((route.return_at - route.depart_at).total_seconds()):
        errors.append(f"{who}: reported duration {route.duration_s} s does not match depart/return times")
    return errors
