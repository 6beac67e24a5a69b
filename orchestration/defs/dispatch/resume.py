"""Where a run of the day's dispatch picks up: the trips the last run had already sent out stay as they are,
and only what came after its clock is planned again.

A run at clock `as_of` keeps, per solver, the routes the day's last run committed at ticks up to that run's own
clock (the `base`): riders left then, whatever arrived since. It plans the rest of the day from `base` on: every
parcel not on a kept trip, released no earlier than `base`, with each rider from the later of `base` and its
return from its last kept trip. So a run costs the ticks since the last run (plus the open tail), not the whole
day again, and each tick is decided only with the orders placed by then, as live.

A run starts over when there is no earlier run of the day, when every part is rebuilt, or when its clock is
before the last run's (a replay going back over the day). It then plans from `cold_start_minutes` before its
clock (or the day's start, if later): the plan's start, kept by the day's later runs. Parcels ready before it
are left out and listed as such: a run starting over at the end of a day would otherwise replay the whole day
tick by tick (minutes of solver time for a 5,000-order day), and a live day's first run is at its start anyway.
Rerunning at the last run's clock resumes from the same base (or starts over the same way), so it gives the
same rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import duckdb

from dispatch import geo
from dispatch.model import Parcel, Rider, Route, RoutingConfig, Stop, Store

SCHEMA = "dispatch"
# A late parcel's planning promise: a straight ride from the tick it must leave at, plus this much, so that
# leaving one tick later is out of the question (ticks are minutes apart; the planner rounds legs to seconds).
LATE_GRACE = timedelta(minutes=1)
CLOCK_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.dispatch_clock (
    business_date DATE PRIMARY KEY, as_of TIMESTAMP, resumed_from TIMESTAMP)""",
    f"ALTER TABLE {SCHEMA}.dispatch_clock ADD COLUMN IF NOT EXISTS plan_start TIMESTAMP",
)


@dataclass(frozen=True)
class Resume:
    base: datetime | None  # None: the run starts over
    kept: dict[str, list[tuple[str, Route]]]  # solver -> (route_id, route) sent out by `base`
    plan_start: datetime = datetime.min  # parcels ready before it are not planned


def resume_point(
    con: duckdb.DuckDBPyConnection,
    business_date: date,
    as_of: datetime,
    *,
    forced: bool,
    day_start: datetime,
    cold_start: timedelta,
) -> Resume:
    for statement in CLOCK_DDL:
        con.execute(statement)
    last = con.execute(
        f"SELECT as_of, resumed_from, plan_start FROM {SCHEMA}.dispatch_clock WHERE business_date = ?",
        [business_date],
    ).fetchone()
    starting_over = Resume(None, {}, max(day_start, as_of - cold_start))
    if forced or last is None or as_of < last[0]:
        return starting_over
    base = last[1] if as_of == last[0] else last[0]
    if base is None:
        return starting_over
    return Resume(base, _kept_routes(con, business_date, base), last[2] or day_start)


def record(con: duckdb.DuckDBPyConnection, business_date: date, as_of: datetime, resume: Resume) -> None:
    """The run's clock, base and plan start; called inside the write's transaction."""
    for statement in CLOCK_DDL:
        con.execute(statement)
    con.execute(f"DELETE FROM {SCHEMA}.dispatch_clock WHERE business_date = ?", [business_date])
    con.execute(
        f"INSERT INTO {SCHEMA}.dispatch_clock BY NAME SELECT ? AS business_date, ? AS as_of, ? AS resumed_from, "
        "? AS plan_start",
        [business_date, as_of, resume.base, resume.plan_start],
    )


def _kept_routes(con: duckdb.DuckDBPyConnection, business_date: date, base: datetime) -> dict:
    routes = con.execute(
        f"""SELECT route_id, solver, rider_id, distance_m, duration_s, load_g, cold_ml, depart_at, return_at
        FROM {SCHEMA}.dispatch_routes WHERE business_date = ? AND wave_at <= ? ORDER BY route_id""",
        [business_date, base],
    ).fetchall()
    stops: dict[str, list[Stop]] = defaultdict(list)
    for route_id, parcel_id, seq, arrival, departure, lat, lng in con.execute(
        f"""SELECT s.route_id, s.parcel_id, s.seq, s.arrival, s.departure, s.lat, s.lng
        FROM {SCHEMA}.dispatch_stops s JOIN {SCHEMA}.dispatch_routes r USING (route_id)
        WHERE r.business_date = ? AND r.wave_at <= ? ORDER BY s.route_id, s.seq""",
        [business_date, base],
    ).fetchall():
        stops[route_id].append(Stop(parcel_id, seq, arrival, departure, lat, lng))
    kept: dict[str, list[tuple[str, Route]]] = defaultdict(list)
    for route_id, solver, rider_id, distance, duration, load, cold, depart, back in routes:
        kept[solver].append((route_id, Route(rider_id, stops[route_id], distance, duration, load, cold, depart, back)))
    return dict(kept)


def still_open(
    parcels: list[Parcel],
    riders: list[Rider],
    kept: list[tuple[str, Route]],
    base: datetime | None,
    plan_start: datetime,
    as_of: datetime,
    store_by_id: dict[str, Store],
    config: RoutingConfig,
    tick: timedelta,
) -> tuple[list[Parcel], list[Rider]]:
    """The parcels and riders the planner gets when it resumes at `base`: parcels not on a kept trip, ready at
    or after the plan's start, never released before `base`; riders free from the later of `base` and their
    last kept trip's return, dropped when that is the end of their shift.

    A parcel whose promise has passed (by the run's clock; when starting over, by the plan's start) is
    re-promised for the planner: late already, it is to leave with the first rider free. Its planning promise
    is a ride straight to the door from the run's clock (its last tick; or the parcel's first tick, if later;
    when starting over, the parcel's first tick), plus a minute, so that it must leave then. Without this the
    planner's screening gives it up as "cannot reach within promise" and it waits at the store beside idle
    riders. The run's clock rather than an earlier tick since the last run: the riders free then are known
    for sure only now (a rider back early, a shift begun); runs are a minute apart live. Its stops are still
    judged against the real promise (write.py)."""
    out = {stop.parcel_id for _, route in kept for stop in route.stops}
    back: dict[str, datetime] = {}
    for _, route in kept:
        back[route.rider_id] = max(back.get(route.rider_id, route.return_at), route.return_at)
    # Released a second after the base: the planner's tick grid starts at the first tick after the earliest
    # ready time, and a release exactly on a tick (the base usually is one) would give it no tick at all
    # when every open parcel shares it (dispatch.waves.wave_times) — the parcels would be silently dropped.
    start = base + timedelta(seconds=1) if base is not None else datetime.min
    # Late by the run's clock when resuming (runs are a minute apart live); when starting over, late by the
    # plan's start: a parcel that was still on time at its own ticks is planned against its real promise.
    late_by = as_of if base is not None else plan_start
    open_parcels = []
    for p in parcels:
        if p.parcel_id in out or p.ready_at < plan_start:
            continue
        ready = max(p.ready_at, start)
        promised = p.promised_to
        if promised is not None and promised <= late_by:
            first_tick = _tick_after(ready, tick)
            if base is not None:
                first_tick = max(first_tick, _tick_before(as_of, tick))
            store = store_by_id[p.store_id]
            ride = geo.travel_s(geo.road_distance_m(store.lat, store.lng, p.lat, p.lng, config), config)
            promised = first_tick + timedelta(seconds=ride + p.service_s) + LATE_GRACE
        open_parcels.append(replace(p, ready_at=ready, promised_to=promised))
    if base is None:
        return open_parcels, riders
    open_riders = []
    for rider in riders:
        free = max(rider.shift_start, base, back.get(rider.rider_id, base))
        if free < rider.shift_end:
            open_riders.append(replace(rider, shift_start=free))
    return open_parcels, open_riders


def _tick_before(t: datetime, tick: timedelta) -> datetime:
    """The last tick of the planner's grid at or before `t`."""
    floor = t.replace(minute=0, second=0, microsecond=0)
    return floor + tick * ((t - floor) // tick)


def _tick_after(t: datetime, tick: timedelta) -> datetime:
    """The first tick of the planner's grid (whole multiples of `tick` in the hour) at or after `t`."""
    floor = t.replace(minute=0, second=0, microsecond=0)
    return floor + tick * -((floor - t) // tick)
