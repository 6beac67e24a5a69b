"""Rolling-horizon dispatch: at every tick, plan all parcels not yet out with every rider of the store as
they are then (at the store, or out and back at a known time), send out only the routes that must leave now,
and keep the rest open so that the next tick's orders can join better bundles.

Commit rule, per route of the tick's plan (`plan_tick`): a route leaves now only if its rider is at the
store now and its parcels are ready (it departs at `now`), and one of
  * waiting one more tick would leave a stop with less than `commit_slack_minutes` to its promise (or the
    rider back with less than that before its shift end) — the route must leave now;
  * the route is full (`full_ratio` of the rider's weight or cold-box capacity): nothing could join it;
  * the store is short of riders (`commit_when_short`): the plan left a parcel out or needs a rider who is
    not back yet, so a free rider standing idle is lost capacity;
  * it carries a parcel without a promise: there is no deadline to hold it against.
Everything else is held: its parcels wait and are re-planned from scratch at the next tick. A rider who is
out is offered from the first tick after it is back (commitments happen at ticks), so the tentative plan
never counts on a departure between ticks.

Final outcomes: a parcel ends in exactly one committed route, or unassigned with the screening's reason at
the first tick where no rider of the store can deliver it any more (`cannot reach within promise` once its
promise is out of reach of every rider, counting riders still out and shifts not begun).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch.encoding import decode, encode, rider_ready_at_store
from dispatch.model import NO_RIDER, Parcel, Plan, Rider, Route, RoutingConfig, SolverName, Store
from dispatch.planner import SOLVERS, run_backend
from dispatch.problem import check_solution
from dispatch.validate import validate_plan
from dispatch.waves import DayPlan, WavePlan, wave_times

DEFAULT_COMMIT_SLACK_MINUTES = 0.0
DEFAULT_FULL_RATIO = 0.9


@dataclass(frozen=True)
class RiderState:
    """Where and when a rider is free: at its store from `free_at` (back from a trip, or shift start plus
    the ride in), until `shift_end`, by which every trip must be back. Capacity is what the rider can load."""

    rider_id: str
    store_id: str
    free_at: datetime
    shift_end: datetime
    capacity_g: int
    cold_box_ml: int = 0

    def __post_init__(self) -> None:
        if self.capacity_g < 0 or self.cold_box_ml < 0:
            raise ValueError(f"rider {self.rider_id}: capacity and cold box must be >= 0")

    @classmethod
    def starting(cls, rider: Rider, store: Store, config: RoutingConfig) -> RiderState:
        """A rider at the start of its shift, wherever it is."""
        return cls(
            rider.rider_id,
            rider.store_id,
            rider_ready_at_store(rider, store, config),
            rider.shift_end,
            rider.free_capacity_g,
            rider.cold_box_capacity_ml,
        )

    def offered_at(self, store: Store, now: datetime, tick: timedelta) -> Rider | None:
        """The rider as this tick plans with it: at the store from the first tick at or after `free_at`;
        None when that is not before its shift end."""
        start = now
        if self.free_at > now:
            start = now + tick * -((now - self.free_at) // tick)
        if start >= self.shift_end:
            return None
        return Rider(
            self.rider_id, self.store_id, store.lat, store.lng, start, self.shift_end, self.capacity_g, self.cold_box_ml
        )


@dataclass
class TickDecision:
    now: datetime
    store_id: str
    leave_now: list[Route]  # committed: these riders leave the store now
    held: list[Route]  # the tentative rest of the plan, re-planned at the next tick
    waiting: list[str]  # parcel ids kept open: in a held route, or placed nowhere this tick but still deliverable
    unassignable: list[tuple[str, str]]  # final (parcel_id, reason)
    riders: list[Rider]  # the riders as this tick offered them (what `leave_now` is valid against)
    runtime_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def committed_plan(self, solver: str) -> Plan:
        return Plan(
            routes=list(self.leave_now),
            unassigned=[],
            objective=float(sum(r.distance_m for r in self.leave_now)),
            solver=solver,
            runtime_s=self.runtime_s,
            notes=list(self.notes),
        )


def _slack(route: Route, parcels: dict[str, Parcel], shift_end: datetime) -> timedelta | None:
    """Least margin of the route: to each stop's promise and to the rider's shift end. None when a parcel
    has no promise (nothing to hold it against)."""
    margins = [shift_end - route.return_at]
    for stop in route.stops:
        promised = parcels[stop.parcel_id].promised_to
        if promised is None:
            return None
        margins.append(promised - stop.arrival)
    return min(margins)


def _is_full(route: Route, rider: Rider, ratio: float) -> bool:
    if route.load_g >= ratio * rider.capacity_g:
        return True
    return rider.cold_box_capacity_ml > 0 and route.cold_ml >= ratio * rider.cold_box_capacity_ml


def plan_tick(
    now: datetime,
    waiting: list[Parcel],
    rider_states: list[RiderState],
    store: Store,
    config: RoutingConfig | None = None,
    solver: SolverName = "pyvrp",
    *,
    tick_minutes: float = 5,
    commit_slack_minutes: float = DEFAULT_COMMIT_SLACK_MINUTES,
    full_ratio: float = DEFAULT_FULL_RATIO,
    commit_when_short: bool = True,
) -> TickDecision:
    """One store's decision at `now`: which routes leave now, which are held, which parcels no rider can
    deliver any more (see the module docstring). Every committed route passes `validate_plan` against the
    riders as offered; a committed route that does not is a bug and raises."""
    config = config or RoutingConfig()
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; expected one of {SOLVERS}")
    if tick_minutes <= 0:
        raise ValueError("tick_minutes must be positive")
    foreign = sorted({x.store_id for x in [*waiting, *rider_states]} - {store.store_id})
    if foreign:
        raise ValueError(f"parcels or riders of other stores than {store.store_id}: {foreign}")
    if len({p.parcel_id for p in waiting}) != len(waiting):
        raise ValueError("duplicate parcel_id in waiting parcels")
    if len({r.rider_id for r in rider_states}) != len(rider_states):
        raise ValueError("duplicate rider_id in rider states")
    started = time.perf_counter()
    tick = timedelta(minutes=tick_minutes)
    riders = [r for r in (s.offered_at(store, now, tick) for s in rider_states) if r is not None]
    decision = TickDecision(now, store.store_id, [], [], [], [], riders)
    if not waiting:
        return decision
    if not riders:
        decision.unassignable = [(p.parcel_id, NO_RIDER) for p in waiting]
        return decision

    sp = encode(store, waiting, riders, config, now)
    decision.unassignable = list(sp.screened_out)
    decision.notes += sp.notes
    routes: list[Route] = []
    not_selected: list[str] = []
    if sp.parcels:
        raw = run_backend(sp, config, solver)
        errors = check_solution(sp.problem, raw)
        if errors:
            raise RuntimeError(f"{solver} returned an infeasible plan for store {store.store_id}: {errors[:5]}")
        decision.notes += raw.notes
        routes = decode(sp, raw)
        not_selected = [sp.parcels[v - 1].parcel_id for v in raw.unassigned]

    parcel_by_id = {p.parcel_id: p for p in waiting}
    rider_by_id = {r.rider_id: r for r in riders}
    short = bool(not_selected) or any(r.depart_at > now for r in routes)
    margin = tick + timedelta(minutes=commit_slack_minutes)
    for route in routes:
        rider = rider_by_id[route.rider_id]
        if route.depart_at == now:
            slack = _slack(route, parcel_by_id, rider.shift_end)
            must_go = slack is None or slack < margin
            if must_go or _is_full(route, rider, full_ratio) or (commit_when_short and short):
                decision.leave_now.append(route)
                continue
        decision.held.append(route)
    decision.waiting = [s.parcel_id for r in decision.held for s in r.stops] + not_selected

    committed = [parcel_by_id[s.parcel_id] for r in decision.leave_now for s in r.stops]
    errors = validate_plan(decision.committed_plan(solver), committed, riders, config, [store])
    if errors:
        raise RuntimeError(f"committed routes of store {store.store_id} at {now} are invalid: {errors[:5]}")
    decision.runtime_s = time.perf_counter() - started
    return decision


def plan_day_rolling(
    parcels: list[Parcel],
    riders: list[Rider],
    stores: list[Store],
    tick_minutes: int,
    config: RoutingConfig | None = None,
    solver: SolverName = "pyvrp",
    *,
    commit_slack_minutes: float = DEFAULT_COMMIT_SLACK_MINUTES,
    full_ratio: float = DEFAULT_FULL_RATIO,
    commit_when_short: bool = True,
    on_tick: Callable[[TickDecision], None] | None = None,
) -> DayPlan:
    """Replay a day tick by tick (every `tick_minutes` on the grid `waves.wave_times` uses). A parcel joins
    its store's waiting list at the first tick at or after `ready_at`. Each tick that sends routes out is
    one `WavePlan` (`wave_at` = the tick) holding exactly those routes; `DayPlan.unassigned` holds every
    parcel no rider could deliver, with its reason. Same return type as `waves.plan_day`. `on_tick`, if
    given, sees every store's decision (held routes, timings) as it is made."""
    config = config or RoutingConfig()
    store_by_id = {s.store_id: s for s in stores}
    unknown = sorted({x.store_id for x in [*parcels, *riders]} - store_by_id.keys())
    if unknown:
        raise ValueError(f"parcels or riders of unknown stores: {unknown}")
    if len({p.parcel_id for p in parcels}) != len(parcels):
        raise ValueError("duplicate parcel_id in input")
    if len({r.rider_id for r in riders}) != len(riders):
        raise ValueError("duplicate rider_id in input")
    day = DayPlan()
    grid = wave_times(parcels, tick_minutes)
    if not grid:
        return day
    tick = timedelta(minutes=tick_minutes)
    states: dict[str, dict[str, RiderState]] = defaultdict(dict)
    for r in riders:
        states[r.store_id][r.rider_id] = RiderState.starting(r, store_by_id[r.store_id], config)
    pending = sorted(parcels, key=lambda p: (p.ready_at, p.parcel_id))
    waiting: dict[str, list[Parcel]] = defaultdict(list)
    now, next_parcel = grid[0], 0
    while next_parcel < len(pending) or any(waiting.values()):
        while next_parcel < len(pending) and pending[next_parcel].ready_at <= now:
            waiting[pending[next_parcel].store_id].append(pending[next_parcel])
            next_parcel += 1
        for store_id in sorted(waiting):
            if not waiting[store_id]:
                continue
            decision = plan_tick(
                now,
                waiting[store_id],
                list(states[store_id].values()),
                store_by_id[store_id],
                config,
                solver,
                tick_minutes=tick_minutes,
                commit_slack_minutes=commit_slack_minutes,
                full_ratio=full_ratio,
                commit_when_short=commit_when_short,
            )
            if on_tick is not None:
                on_tick(decision)
            if decision.leave_now:
                day.waves.append(WavePlan(store_id, now, decision.committed_plan(solver)))
            for route in decision.leave_now:
                states[store_id][route.rider_id] = _back_at(states[store_id][route.rider_id], route.return_at)
            day.unassigned += decision.unassignable
            keep = set(decision.waiting)
            waiting[store_id] = [p for p in waiting[store_id] if p.parcel_id in keep]
        now += tick
        if not any(waiting.values()) and next_parcel < len(pending) and pending[next_parcel].ready_at > now:
            # Nothing waits: jump to the tick that releases the next parcel instead of ticking through idle hours.
            now += tick * -((now - pending[next_parcel].ready_at) // tick)
    return day


def _back_at(state: RiderState, when: datetime) -> RiderState:
    return RiderState(state.rider_id, state.store_id, when, state.shift_end, state.capacity_g, state.cold_box_ml)


def validate_day(
    day: DayPlan, parcels: list[Parcel], riders: list[Rider], config: RoutingConfig, stores: list[Store]
) -> list[str]:
    """A day of committed routes checked as a whole: every wave's routes by `validate_plan` against the
    riders (shift, capacity, cold box, promises), a rider's trips never overlapping, and every parcel either
    delivered once or unassigned once with a reason."""
    parcel_by_id = {p.parcel_id: p for p in parcels}
    errors: list[str] = []
    for wave in day.waves:
        served = [parcel_by_id[s.parcel_id] for r in wave.plan.routes for s in r.stops if s.parcel_id in parcel_by_id]
        errors += validate_plan(wave.plan, served, riders, config, stores)
    trips: dict[str, list[Route]] = defaultdict(list)
    for _, route in day.routes:
        trips[route.rider_id].append(route)
    for rider_id, routes in trips.items():
        routes.sort(key=lambda r: r.depart_at)
        for a, b in zip(routes, routes[1:]):
            if b.depart_at < a.return_at:
                errors.append(f"rider {rider_id}: leaves at {b.depart_at} before back from a trip at {a.return_at}")
    outcome = Counter(s.parcel_id for _, r in day.routes for s in r.stops) + Counter(p for p, _ in day.unassigned)
    errors += [f"parcel {pid} ends {k} times" for pid, k in outcome.items() if k > 1]
    errors += [f"parcel {pid} neither delivered nor unassigned" for pid in parcel_by_id.keys() - outcome.keys()]
    errors += [f"parcel {pid} is not an input parcel" for pid in outcome.keys() - parcel_by_id.keys()]
    return errors
