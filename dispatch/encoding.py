"""Translating one store's parcels and riders into a `RoutingProblem`, and a solver's answer back into
routes with real times.

Node 0 is the store; every parcel that passes screening is a client with load dimensions
[weight g, cold-box ml]. Ambient parcels need 0 cold-box ml and chilled/frozen ones at least 1 (even a
parcel recorded with volume 0), so a rider without a cold box — capacity 0 on that dimension — can never
carry one. Every client is optional with the configured penalty as prize: the solvers serve all they can
and never fail for want of riders. Each rider is its own vehicle type: its free capacity, its cold box,
and a time window from the moment it can be at the store (shift start plus the ride back from where it
is) to its shift end, by which it must be back at the store.

Times are whole seconds from `origin`: earliest moments are rounded up and deadlines down, so a plan that
is feasible in seconds is feasible in real time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from dispatch import geo
from dispatch.model import Parcel, Rider, Route, RoutingConfig, Stop, Store
from dispatch.problem import HORIZON, RawSolution, RoutingProblem, VehicleSpec, schedule
from dispatch.screening import ParcelNeeds, RiderOffer, screen

_US = timedelta(microseconds=1)


def seconds_ceil(t: datetime, origin: datetime) -> int:
    us = (t - origin) // _US
    return -((-us) // 1_000_000)


def seconds_floor(t: datetime, origin: datetime) -> int:
    return ((t - origin) // _US) // 1_000_000


def at(origin: datetime, seconds: int) -> datetime:
    return origin + timedelta(seconds=seconds)


def rider_ready_at_store(rider: Rider, store: Store, config: RoutingConfig) -> datetime:
    """When the rider can leave the store: shift start, plus the ride back if it starts elsewhere."""
    d = geo.road_distance_m(rider.lat, rider.lng, store.lat, store.lng, config)
    return rider.shift_start + timedelta(seconds=geo.travel_s(d, config))


@dataclass
class StoreProblem:
    store: Store
    origin: datetime
    parcels: list[Parcel]  # client i is parcels[i - 1]
    riders: list[Rider]  # vehicle type t is riders[t]
    problem: RoutingProblem
    screened_out: list[tuple[str, str]]
    notes: list[str]


def encode(
    store: Store, parcels: list[Parcel], riders: list[Rider], config: RoutingConfig, origin: datetime
) -> StoreProblem:
    notes: list[str] = []
    usable: list[Rider] = []
    offers: list[RiderOffer] = []
    for r in riders:
        available = seconds_ceil(rider_ready_at_store(r, store, config), origin)
        shift_end = seconds_floor(r.shift_end, origin)
        if shift_end < available:
            notes.append(f"rider {r.rider_id} cannot reach store {store.store_id} before its shift ends")
            continue
        usable.append(r)
        offers.append(RiderOffer(r.free_capacity_g, r.cold_box_capacity_ml, available, shift_end))

    kept: list[Parcel] = []
    screened_out: list[tuple[str, str]] = []
    needs_of: list[ParcelNeeds] = []
    for p in parcels:
        d = geo.road_distance_m(store.lat, store.lng, p.lat, p.lng, config)
        t = geo.travel_s(d, config)
        needs = ParcelNeeds(
            weight_g=p.weight_g,
            cold_ml=max(1, p.volume_ml) if p.is_cold else 0,
            release=max(0, seconds_ceil(p.ready_at, origin)),
            tw_early=max(0, seconds_ceil(p.promised_from, origin)) if p.promised_from else 0,
            tw_late=seconds_floor(p.promised_to, origin) if p.promised_to else HORIZON,
            service=p.service_s,
            out_s=t,
            back_s=t,
        )
        reason = screen(needs, offers)
        if reason is None:
            kept.append(p)
            needs_of.append(needs)
        else:
            screened_out.append((p.parcel_id, reason))

    points = [(store.lat, store.lng)] + [(p.lat, p.lng) for p in kept]
    distance, duration = geo.matrices(points, config)
    n = len(kept)
    demand = np.zeros((n + 1, 2), dtype=np.int64)
    service = np.zeros(n + 1, dtype=np.int64)
    tw_early = np.zeros(n + 1, dtype=np.int64)
    tw_late = np.full(n + 1, HORIZON, dtype=np.int64)
    release = np.zeros(n + 1, dtype=np.int64)
    for i, needs in enumerate(needs_of, start=1):
        demand[i] = (needs.weight_g, needs.cold_ml)
        service[i] = needs.service
        tw_early[i] = needs.tw_early
        tw_late[i] = needs.tw_late
        release[i] = needs.release
    vehicles = [
        VehicleSpec(
            capacity=(o.capacity_g, o.cold_ml),
            tw_early=o.available,
            tw_late=o.shift_end,
            name=r.rider_id,
            unit_duration_cost=config.unit_duration_cost,
            trip_cap=config.trip_cap_s if config.trip_cap_s is not None else HORIZON,
            overtime_cost=config.trip_overtime_cost,
        )
        for r, o in zip(usable, offers)
    ]
    problem = RoutingProblem(
        distance=distance,
        duration=duration,
        demand=demand,
        service=service,
        tw_early=tw_early,
        tw_late=tw_late,
        release=release,
        required=np.zeros(n + 1, dtype=bool),
        prize=config.unassigned_penalty,
        vehicles=vehicles,
        # PyVRP only uses coordinates for display; scale degrees so they are not all ~0 apart.
        coords=np.array([[lng * 1e5, lat * 1e5] for lat, lng in points]),
    )
    return StoreProblem(store, origin, kept, usable, problem, screened_out, notes)


def decode(sp: StoreProblem, raw: RawSolution) -> list[Route]:
    routes: list[Route] = []
    for rr in raw.routes:
        if not rr.visits:
            continue
        sched = schedule(sp.problem, rr.vehicle_type, rr.visits)
        parcels = [sp.parcels[v - 1] for v in rr.visits]
        stops = [
            Stop(p.parcel_id, seq, at(sp.origin, arr), at(sp.origin, dep), p.lat, p.lng)
            for seq, (p, arr, dep) in enumerate(zip(parcels, sched.arrivals, sched.departures), start=1)
        ]
        routes.append(
            Route(
                rider_id=sp.riders[rr.vehicle_type].rider_id,
                stops=stops,
                distance_m=sched.distance,
                duration_s=sched.return_time - sched.depart,
                load_g=sum(p.weight_g for p in parcels),
                cold_ml=sum(p.cold_ml for p in parcels),
                depart_at=at(sp.origin, sched.depart),
                return_at=at(sp.origin, sched.return_time),
            )
        )
    return routes
