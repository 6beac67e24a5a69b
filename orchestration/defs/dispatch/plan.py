"""Dispatch planning against the warehouse: the day's parcels and riders in, routes, stops, unassigned
parcels and late-risk exceptions out (schema `dispatch`). The routing itself is `dispatch.waves`.

Each run (re)plans, for the business day of the run's clock `as_of` (orchestration/clock.py), the waves of
the `horizon_minutes` before it, from the orders placed by then: a replayed day passes its own as_of and is
planned as it would have been live, and when orders stop arriving the horizon still moves on. A day's plan is
replaced idempotently: rerunning at the same as_of gives the same rows, and route ids carry the wave's date
and time, so the next day's waves never collide with this day's. With `replan_dispatched` (the default while the plan
is advisory) parcels the channels already report dispatched are planned too, so the plan can be compared
with what happened; only parcels not yet out raise late-risk exceptions. A greedy plan of the same waves is kept as
the baseline the dispatch page compares with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from dispatch.model import Parcel, Rider, RoutingConfig, Store
from dispatch.waves import DayPlan, plan_day
from orchestration.defs.dispatch.cadence import replan_interval

SCHEMA = "dispatch"
COLDEST_FIRST = ("frozen", "chilled", "ambient")

DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.dispatch_routes (
        route_id VARCHAR PRIMARY KEY, business_date DATE, store_id VARCHAR, wave_at TIMESTAMP, solver VARCHAR,
        rider_id VARCHAR, depart_at TIMESTAMP, return_at TIMESTAMP, stops INTEGER, distance_m BIGINT,
        duration_s BIGINT, load_g BIGINT, cold_ml BIGINT)""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.dispatch_stops (
        route_id VARCHAR, business_date DATE, store_id VARCHAR, wave_at TIMESTAMP, solver VARCHAR,
        rider_id VARCHAR, seq INTEGER, parcel_id VARCHAR, arrival TIMESTAMP, departure TIMESTAMP,
        lat DOUBLE, lng DOUBLE, promised_to TIMESTAMP, on_time BOOLEAN)""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.dispatch_unassigned (
        business_date DATE, store_id VARCHAR, solver VARCHAR, parcel_id VARCHAR, reason VARCHAR,
        ready_at TIMESTAMP, promised_to TIMESTAMP, planned_from TIMESTAMP)""",
    # Added after the first release; warehouses created before it get the column here.
    f"ALTER TABLE {SCHEMA}.dispatch_unassigned ADD COLUMN IF NOT EXISTS already_out BOOLEAN",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.dispatch_exceptions (
        exception_id VARCHAR, exception_type VARCHAR, severity VARCHAR, order_key VARCHAR, channel VARCHAR,
        store_id VARCHAR, raised_at TIMESTAMP, detail VARCHAR, action VARCHAR, business_date DATE)""",
)

# What a dispatcher does about a parcel no rider can take, by reason.
ACTIONS = {
    "no rider with cold box": "assign_cold_box_rider",
    "overweight for every rider": "split_or_van",
    "cannot reach within promise": "contact_customer",
    "not selected by solver": "add_rider",
    "no rider at store": "add_rider",
    "no coordinates": "geocode_address",
}


@dataclass(frozen=True)
class DispatchRules:
    wave_minutes: int
    pick_minutes: int
    asap_promise_minutes: int
    horizon_minutes: int
    time_limit_seconds: float
    cold_box_ml: int
    detour_factor: float
    rider_speed_kmh: float
    local_timezone: str
    replan_dispatched: bool
    # How old the plan may get, by the run's clock, before a micro-batch re-makes it (cadence.py).
    replan_every: timedelta = timedelta(0)

    @classmethod
    def from_rules(cls, rules: dict[str, Any]) -> DispatchRules:
        d = rules["dispatch"]
        return cls(
            int(d["wave_minutes"]),
            int(d["pick_minutes"]),
            int(d["asap_promise_minutes"]),
            int(d["horizon_minutes"]),
            float(d["time_limit_seconds"]),
            int(d["cold_box_ml"]),
            float(d["detour_factor"]),
            float(d["rider_speed_kmh"]),
            rules["local_timezone"],
            bool(d.get("replan_dispatched", False)),
            replan_interval(rules),
        )

    def routing(self) -> RoutingConfig:
        return RoutingConfig(
            detour_factor=self.detour_factor,
            speed_kmh=self.rider_speed_kmh,
            time_limit_s=self.time_limit_seconds,
            no_improvement_iters=500,
        )


@dataclass
class PlanInputs:
    business_date: date | None
    planned_from: datetime | None
    parcels: list[Parcel]
    parcel_orders: dict[str, list[tuple[str, str]]]  # parcel_id -> [(order_key, channel)]
    already_out: set[str]  # parcels the channels report dispatched or delivered
    no_coordinates: list[tuple[str, str, datetime, datetime]]  # parcel_id, store_id, ready_at, promised_to
    riders: list[Rider]
    stores: list[Store]


# Parameters: the business day, then as_of (orders placed after it have not happened yet in a replay).
PARCELS_SQL = """
with parcel_orders as (
    select p.parcel_id, p.store_id, p.weight_g, p.volume_ml, p.temp_zones,
           unnest(string_split(p.order_keys, ',')) as order_key
    from marts.fct_parcels p
    where p.business_date = ?
)
select
    po.parcel_id,
    any_value(po.store_id) as store_id,
    any_value(po.weight_g) as weight_g,
    any_value(po.volume_ml) as volume_ml,
    any_value(po.temp_zones) as temp_zones,
    max(o.created_at) as last_order_at,
    min(o.promised_to) as promised_to,
    avg(o.lat) as lat,
    avg(o.lng) as lng,
    bool_or(o.current_status in ('dispatched', 'delivered')) as already_out,
    list(o.order_key || '|' || o.channel) as orders
from parcel_orders po
join marts.fct_orders o using (order_key)
group by po.parcel_id
having max(o.created_at) <= ?
"""


def _coldest(temp_zones: str | None) -> str:
    zones = set((temp_zones or "ambient").split(","))
    return next(zone for zone in COLDEST_FIRST if zone in zones or zone == "ambient")


def business_day(as_of: datetime, tz: str) -> date:
    """The local business day an as_of (naive UTC) falls in."""
    return as_of.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(tz)).date()


def read_inputs(con: duckdb.DuckDBPyConnection, rules: DispatchRules, as_of: datetime) -> PlanInputs:
    business_date = business_day(as_of, rules.local_timezone)
    planned_from = as_of - timedelta(minutes=rules.horizon_minutes)
    rows = con.sql(PARCELS_SQL, params=[business_date, as_of]).pl()
    if rows.height == 0:
        return PlanInputs(business_date, planned_from, [], {}, set(), [], [], [])
    pick = timedelta(minutes=rules.pick_minutes)
    asap = timedelta(minutes=rules.asap_promise_minutes)
    rows = rows.filter(pl.col("last_order_at") + pick >= planned_from)
    if not rules.replan_dispatched:
        rows = rows.filter(~pl.col("already_out"))
    already_out = set(rows.filter(pl.col("already_out"))["parcel_id"].to_list())

    parcels, no_coordinates, parcel_orders = [], [], {}
    for r in rows.iter_rows(named=True):
        ready_at = r["last_order_at"] + pick
        promised_to = r["promised_to"] or r["last_order_at"] + asap
        parcel_orders[r["parcel_id"]] = [tuple(item.split("|", 1)) for item in r["orders"]]
        if r["lat"] is None or r["lng"] is None:
            no_coordinates.append((r["parcel_id"], r["store_id"], ready_at, promised_to))
            continue
        parcels.append(
            Parcel(
                r["parcel_id"],
                r["store_id"],
                r["lat"],
                r["lng"],
                int(r["weight_g"]),
                int(r["volume_ml"]),
                _coldest(r["temp_zones"]),
                ready_at,
                None,
                promised_to,
            )
        )

    stores = [Store(s, lat, lng) for s, lat, lng in con.execute("select store_id, lat, lng from raw.stores").fetchall()]
    riders = [
        _rider(row, business_date, rules)
        for row in con.execute(
            "select rider_id, store_id, capacity_kg, cold_box, shift_start, shift_end from raw.riders order by rider_id"
        ).fetchall()
    ]
    store_coords = {s.store_id: s for s in stores}
    riders = [r for r in riders if r is not None and r.store_id in store_coords]
    riders = [
        Rider(
            r.rider_id,
            r.store_id,
            store_coords[r.store_id].lat,
            store_coords[r.store_id].lng,
            r.shift_start,
            r.shift_end,
            r.capacity_g,
            r.cold_box_capacity_ml,
        )
        for r in riders
    ]
    parcels = [p for p in parcels if p.store_id in store_coords]
    return PlanInputs(business_date, planned_from, parcels, parcel_orders, already_out, no_coordinates, riders, stores)


def _rider(row: tuple, business_date: date, rules: DispatchRules) -> Rider | None:
    rider_id, store_id, capacity_kg, cold_box, shift_start, shift_end = row
    try:
        start = _utc_on(business_date, shift_start, rules.local_timezone)
        end = _utc_on(business_date, shift_end, rules.local_timezone)
    except ValueError:
        return None  # an unreadable shift is a data problem for the riders feed, not a reason to stop dispatch
    if end <= start:
        end += timedelta(days=1)
    return Rider(
        rider_id, store_id, 0.0, 0.0, start, end, int((capacity_kg or 0) * 1000), rules.cold_box_ml if cold_box else 0
    )


def _utc_on(day: date, hhmm: str, tz: str) -> datetime:
    hours, minutes = (int(x) for x in str(hhmm).split(":")[:2])
    local = datetime(day.year, day.month, day.day, hours, minutes, tzinfo=ZoneInfo(tz))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def plan(inputs: PlanInputs, rules: DispatchRules) -> dict[str, DayPlan]:
    config = rules.routing()
    return {
        solver: plan_day(inputs.parcels, inputs.riders, inputs.stores, rules.wave_minutes, config, solver)
        for solver in ("pyvrp", "greedy")
    }


def write(con: duckdb.DuckDBPyConnection, inputs: PlanInputs, plans: dict[str, DayPlan]) -> dict[str, int]:
    """Replace the planned horizon of the day in one transaction; earlier waves of the day stay as planned."""
    for statement in DDL:
        con.execute(statement)
    if inputs.business_date is None or inputs.planned_from is None:
        return {"routes": 0, "stops": 0, "unassigned": 0, "exceptions": 0}
    parcel_by_id = {p.parcel_id: p for p in inputs.parcels}
    routes, stops, unassigned, exceptions = [], [], [], []
    for solver, day in plans.items():
        for wave, route in day.routes:
            # The wave's full UTC time, date included: one warehouse holds every day's plans.
            route_id = f"{solver}/{wave.store_id}/{wave.wave_at:%Y%m%dT%H%M}/{route.rider_id}"
            routes.append(
                (
                    route_id,
                    inputs.business_date,
                    wave.store_id,
                    wave.wave_at,
                    solver,
                    route.rider_id,
                    route.depart_at,
                    route.return_at,
                    len(route.stops),
                    route.distance_m,
                    route.duration_s,
                    route.load_g,
                    route.cold_ml,
                )
            )
            for stop in route.stops:
                promised_to = parcel_by_id[stop.parcel_id].promised_to
                stops.append(
                    (
                        route_id,
                        inputs.business_date,
                        wave.store_id,
                        wave.wave_at,
                        solver,
                        route.rider_id,
                        stop.seq,
                        stop.parcel_id,
                        stop.arrival,
                        stop.departure,
                        stop.lat,
                        stop.lng,
                        promised_to,
                        promised_to is None or stop.arrival <= promised_to,
                    )
                )
        failed = [(pid, reason, parcel_by_id[pid]) for pid, reason in day.unassigned]
        failed_rows = [(pid, p.store_id, reason, p.ready_at, p.promised_to) for pid, reason, p in failed]
        failed_rows += [
            (pid, store, "no coordinates", ready, promised) for pid, store, ready, promised in inputs.no_coordinates
        ]
        for pid, store_id, reason, ready_at, promised_to in failed_rows:
            unassigned.append(
                (
                    inputs.business_date,
                    store_id,
                    solver,
                    pid,
                    reason,
                    ready_at,
                    promised_to,
                    inputs.planned_from,
                    pid in inputs.already_out,
                )
            )
            if solver == "pyvrp" and pid not in inputs.already_out:
                for order_key, channel in inputs.parcel_orders.get(pid, []):
                    exception_id = hashlib.md5(f"dispatch_late_risk|{order_key}".encode()).hexdigest()
                    exceptions.append(
                        (
                            exception_id,
                            "dispatch_late_risk",
                            "high",
                            order_key,
                            channel,
                            store_id,
                            ready_at,
                            f"parcel {pid} not dispatched: {reason}",
                            ACTIONS.get(reason, "manual_review"),
                            inputs.business_date,
                        )
                    )

    # The replanned waves start at planned_from, or earlier should the wave grid put one there: what is
    # replaced is everything from the earliest replanned wave on, so no id can be written twice.
    replace_from = min([inputs.planned_from, *(r[3] for r in routes)])
    con.execute("BEGIN TRANSACTION")
    try:
        for table in ("dispatch_routes", "dispatch_stops"):
            con.execute(
                f"DELETE FROM {SCHEMA}.{table} WHERE business_date = ? AND wave_at >= ?",
                [inputs.business_date, replace_from],
            )
        # What is unassigned, and the exceptions it raises, are the latest run's view of the day.
        con.execute(f"DELETE FROM {SCHEMA}.dispatch_unassigned WHERE business_date = ?", [inputs.business_date])
        con.execute(f"DELETE FROM {SCHEMA}.dispatch_exceptions WHERE business_date = ?", [inputs.business_date])
        for table, rows in (
            ("dispatch_routes", routes),
            ("dispatch_stops", stops),
            ("dispatch_unassigned", unassigned),
            ("dispatch_exceptions", exceptions),
        ):
            _insert(con, table, rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"routes": len(routes), "stops": len(stops), "unassigned": len(unassigned), "exceptions": len(exceptions)}


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    if not rows:
        return
    columns = [r[0] for r in con.execute(f"DESCRIBE {SCHEMA}.{table}").fetchall()]
    con.register("_rows", pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None).to_arrow())
    try:
        con.execute(f"INSERT INTO {SCHEMA}.{table} BY NAME SELECT * FROM _rows")
    finally:
        con.unregister("_rows")
