"""Wave planning: a day's parcels released to riders every few minutes, as a dispatcher works.

At each wave time T (every `wave_minutes` from the first parcel), each store plans the parcels ready by T
that are not yet planned, with the riders who are on shift at T and back from their previous trip. A
rider on the road is unavailable until the route's `return_at`. Parcels the solver did not select (riders
ran out) are carried to the next wave; parcels no rider could ever take (cold box, weight, promise) are
final. Waves go on while parcels wait and riders are on shift; what is still waiting at the end is
reported as 'not selected by solver'.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dispatch.model import NO_RIDER, NOT_SELECTED, Parcel, Plan, Rider, Route, RoutingConfig, SolverName, Store
from dispatch.planner import plan_routes


@dataclass
class WavePlan:
    store_id: str
    wave_at: datetime
    plan: Plan


@dataclass
class DayPlan:
    waves: list[WavePlan] = field(default_factory=list)
    unassigned: list[tuple[str, str]] = field(default_factory=list)  # (parcel_id, reason), final

    @property
    def routes(self) -> list[tuple[WavePlan, Route]]:
        return [(wave, route) for wave in self.waves for route in wave.plan.routes]


def wave_times(parcels: list[Parcel], wave_minutes: int) -> list[datetime]:
    """Every wave from the first ready parcel to the last, on a fixed grid of `wave_minutes`."""
    if not parcels:
        return []
    step = timedelta(minutes=wave_minutes)
    first = min(p.ready_at for p in parcels)
    last = max(p.ready_at for p in parcels)
    grid_start = first.replace(minute=(first.minute // wave_minutes) * wave_minutes, second=0, microsecond=0)
    times, t = [], grid_start + step
    # At least one wave: parcels all ready exactly on a grid point would otherwise get none, and vanish.
    while not times or t < last + step:
        times.append(t)
        t += step
    return times


def plan_day(
    parcels: list[Parcel],
    riders: list[Rider],
    stores: list[Store],
    wave_minutes: int,
    config: RoutingConfig | None = None,
    solver: SolverName = "pyvrp",
) -> DayPlan:
    config = config or RoutingConfig()
    busy_until: dict[str, datetime] = {}
    day = DayPlan()
    waiting: dict[str, list[Parcel]] = defaultdict(list)
    pending = sorted(parcels, key=lambda p: (p.ready_at, p.parcel_id))
    store_by_id = {s.store_id: s for s in stores}
    next_parcel = 0
    grid = wave_times(parcels, wave_minutes)
    # Carried parcels keep waves coming after the last release, until riders' shifts are over.
    last_shift_end = max((r.shift_end for r in riders), default=None)
    wave_index = 0
    while wave_index < len(grid):
        wave_at = grid[wave_index]
        wave_index += 1
        while next_parcel < len(pending) and pending[next_parcel].ready_at <= wave_at:
            waiting[pending[next_parcel].store_id].append(pending[next_parcel])
            next_parcel += 1
        for store_id in sorted(waiting):
            batch = waiting[store_id]
            if not batch:
                continue
            available = [
                replace(
                    r,
                    shift_start=max(wave_at, busy_until.get(r.rider_id, wave_at)),
                    lat=store_by_id[store_id].lat,
                    lng=store_by_id[store_id].lng,
                )
                for r in riders
                if r.store_id == store_id
                and r.shift_start <= wave_at < r.shift_end
                and busy_until.get(r.rider_id, wave_at) <= wave_at
            ]
            if not available:
                continue  # everyone is on the road or off shift: the batch waits for the next wave
            # A parcel cannot leave before the wave that releases it.
            released = [replace(p, ready_at=max(p.ready_at, wave_at)) for p in batch]
            plan = plan_routes(released, available, [store_by_id[store_id]], config, solver)
            day.waves.append(WavePlan(store_id, wave_at, plan))
            for route in plan.routes:
                busy_until[route.rider_id] = route.return_at
            # Riders ran out this wave: try again next wave. Anything else no rider will ever fix.
            retry = (NOT_SELECTED, NO_RIDER)
            carried = {pid for pid, reason in plan.unassigned if reason in retry}
            day.unassigned.extend((pid, reason) for pid, reason in plan.unassigned if reason not in retry)
            waiting[store_id] = [p for p in batch if p.parcel_id in carried]
        if wave_index == len(grid) and any(waiting.values()) and last_shift_end and wave_at < last_shift_end:
            grid.append(wave_at + timedelta(minutes=wave_minutes))
    day.unassigned.extend((p.parcel_id, NOT_SELECTED) for batch in waiting.values() for p in batch)
    return day
