"""The plan as of its clock: where each rider is (idle at the store, out until T, off shift) and why each parcel
not yet out is still at the store (being picked, held for bundling, no rider free until T, no cold box, …).

A plan covers the whole day, past and future: trips that left by `as_of` are what happened (or, in a replay,
what would have happened); later ones are what the planner means to do and may change at the next run. These
functions read that plan at one instant, so the dispatch page can say "now" and the idle-rider audit
(audit.py) can check it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from dispatch.model import NO_COLD_BOX, NO_RIDER, NOT_SELECTED, OVERWEIGHT, UNREACHABLE, Parcel, Rider, Route

# Rider states.
IDLE, OUT, OFF_SHIFT = "idle", "out", "off_shift"
# Why a parcel is still at the store.
PICKING = "picking"  # not packed yet: ready at `until`
HELD = "held_for_bundling"  # planned on a trip that leaves at `until` with an idle rider
NO_RIDER_FREE = "no_rider_free"  # planned on a trip, or waiting, until a rider is back at `until`
NO_COLD = "no_cold_box"
TOO_HEAVY = "overweight"
CANNOT_REACH = "cannot_reach"
NO_COORDINATES = "no_coordinates"
WAITING_BY_UNASSIGNED = {
    NO_COLD_BOX: NO_COLD,
    OVERWEIGHT: TOO_HEAVY,
    UNREACHABLE: CANNOT_REACH,
    NOT_SELECTED: NO_RIDER_FREE,
    NO_RIDER: NO_RIDER_FREE,
    "no coordinates": NO_COORDINATES,
}


@dataclass(frozen=True)
class RiderState:
    rider_id: str
    store_id: str
    status: str
    until: datetime | None  # out: back at; idle: next planned departure; off shift: next shift start
    route_id: str | None  # out: the trip being ridden


@dataclass(frozen=True)
class Waiting:
    parcel_id: str
    store_id: str
    reason: str
    until: datetime | None
    rider_id: str | None


def rider_states(riders: list[Rider], routes: list[tuple[str, Route]], as_of: datetime) -> list[RiderState]:
    """Each rider at `as_of`, from the plan's `(route_id, route)` trips."""
    by_rider: dict[str, list[tuple[str, Route]]] = defaultdict(list)
    for route_id, route in routes:
        by_rider[route.rider_id].append((route_id, route))
    states = []
    for rider in riders:
        trips = sorted(by_rider.get(rider.rider_id, []), key=lambda item: item[1].depart_at)
        riding = next(((rid, r) for rid, r in trips if r.depart_at <= as_of < r.return_at), None)
        if riding is not None:
            states.append(RiderState(rider.rider_id, rider.store_id, OUT, riding[1].return_at, riding[0]))
        elif rider.shift_start <= as_of < rider.shift_end:
            upcoming = [r.depart_at for _, r in trips if r.depart_at > as_of]
            states.append(RiderState(rider.rider_id, rider.store_id, IDLE, min(upcoming, default=None), None))
        else:
            next_start = rider.shift_start if as_of < rider.shift_start else None
            states.append(RiderState(rider.rider_id, rider.store_id, OFF_SHIFT, next_start, None))
    return states


def waiting_parcels(
    parcels: list[Parcel],
    routes: list[tuple[str, Route]],
    unassigned: list[tuple[str, str]],
    no_coordinates: list[tuple[str, str]],
    states: list[RiderState],
    as_of: datetime,
) -> list[Waiting]:
    """Every parcel known at `as_of` that has not left the store by then, with why. `no_coordinates` are
    (parcel_id, store_id) of parcels the planner never saw."""
    state_by_rider = {s.rider_id: s for s in states}
    back_at: dict[str, list[datetime]] = defaultdict(list)
    for s in states:
        if s.status == OUT and s.until is not None:
            back_at[s.store_id].append(s.until)
    departure: dict[str, tuple[datetime, str]] = {}
    for _, route in routes:
        for stop in route.stops:
            departure[stop.parcel_id] = (route.depart_at, route.rider_id)
    reasons = dict(unassigned)
    waiting = []
    for p in parcels:
        if p.parcel_id in departure and departure[p.parcel_id][0] <= as_of:
            continue  # out
        if p.ready_at > as_of:
            rider = departure.get(p.parcel_id, (None, None))[1]
            waiting.append(Waiting(p.parcel_id, p.store_id, PICKING, p.ready_at, rider))
        elif p.parcel_id in departure:
            leaves, rider_id = departure[p.parcel_id]
            rider_state = state_by_rider.get(rider_id)
            busy = rider_state is not None and rider_state.status != IDLE
            waiting.append(Waiting(p.parcel_id, p.store_id, NO_RIDER_FREE if busy else HELD, leaves, rider_id))
        else:
            reason = WAITING_BY_UNASSIGNED.get(reasons.get(p.parcel_id, NOT_SELECTED), NO_RIDER_FREE)
            until = min(back_at[p.store_id], default=None) if reason == NO_RIDER_FREE else None
            waiting.append(Waiting(p.parcel_id, p.store_id, reason, until, None))
    waiting += [Waiting(pid, store, NO_COORDINATES, None, None) for pid, store in no_coordinates]
    return waiting
