"""Dispatch planning against the warehouse: the day's parcels and riders in, the day's plan out (schema
`dispatch`, written by write.py). The routing itself is the dispatch library's day planner.

Each run (re)plans, for the business day of the run's clock `as_of` (orchestration/clock.py), the whole day
from the orders placed by then: a replayed day passes its own as_of and is planned as it would have been live
(a parcel is never planned out before it is packed, and orders placed after as_of have not happened yet).
Trips that leave by as_of are the day so far; later ones are the plan for the rest of the day, remade at the
next run. Only parcels our riders carry are planned: every order of the parcel a delivery, and none of them
delivered by the platform's riders (Meituan's logistics_code, see ingestion/adapters/meituan.py); the others
are listed as skipped, with why. With `replan_dispatched` (the default while the plan is advisory) parcels the
channels already report dispatched are planned too, so the plan can be compared with what happened; only
parcels not yet out raise late-risk exceptions. A greedy plan of the same day is kept as the baseline the
dispatch page compares with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from dispatch.model import Parcel, Rider, RoutingConfig, Store
from dispatch.rolling import plan_day_rolling
from dispatch.waves import DayPlan
from orchestration.defs.dispatch.cadence import replan_interval
from orchestration.defs.dispatch.resume import Resume, still_open

COLDEST_FIRST = ("frozen", "chilled", "ambient")
# Why a parcel is not ours to plan (dispatch_skipped.reason).
PLATFORM_DELIVERS = "platform_delivers"
NOT_DELIVERY = "not_delivery"
BEFORE_PLAN_START = "before_plan_start"


@dataclass(frozen=True)
class DispatchRules:
    tick_minutes: int
    pick_minutes: int
    asap_promise_minutes: int
    # A parcel is committed to a trip only when it must leave within this many minutes to keep its promise.
    commit_slack_minutes: int
    # A run that starts the day over plans from this long before its clock (resume.py).
    cold_start_minutes: int
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
            int(d["tick_minutes"]),
            int(d["pick_minutes"]),
            int(d["asap_promise_minutes"]),
            int(d.get("commit_slack_minutes", 5)),
            int(d.get("cold_start_minutes", 120)),
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
    as_of: datetime
    planned_from: datetime | None  # the business day's start, UTC
    parcels: list[Parcel]
    parcel_orders: dict[str, list[tuple[str, str]]]  # parcel_id -> [(order_key, channel)]
    already_out: set[str]  # parcels the channels report dispatched or delivered
    no_coordinates: list[tuple[str, str, datetime, datetime]]  # parcel_id, store_id, ready_at, promised_to
    riders: list[Rider]
    stores: list[Store]
    skipped: list[tuple[str, str, str, str]]  # parcel_id, store_id, reason, order keys


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
    bool_and(o.fulfilment_type = 'delivery') as all_delivery,
    bool_or(o.delivered_by = 'platform') as platform_delivered,
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
    planned_from = _utc_on(business_date, "00:00", rules.local_timezone)
    rows = con.sql(PARCELS_SQL, params=[business_date, as_of]).pl()
    if rows.height == 0:
        return PlanInputs(business_date, as_of, planned_from, [], {}, set(), [], [], [], [])
    pick = timedelta(minutes=rules.pick_minutes)
    asap = timedelta(minutes=rules.asap_promise_minutes)
    ours = pl.col("all_delivery").fill_null(False) & ~pl.col("platform_delivered").fill_null(False)
    skipped = [
        (
            r["parcel_id"],
            r["store_id"],
            PLATFORM_DELIVERS if r["platform_delivered"] else NOT_DELIVERY,
            ",".join(item.split("|", 1)[0] for item in r["orders"]),
        )
        for r in rows.filter(~ours).iter_rows(named=True)
    ]
    rows = rows.filter(ours)
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
    return PlanInputs(
        business_date, as_of, planned_from, parcels, parcel_orders, already_out, no_coordinates, riders, stores, skipped
    )


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


def plan(inputs: PlanInputs, rules: DispatchRules, resume: Resume | None = None) -> dict[str, DayPlan]:
    """The rest of the day from the resume point (resume.py), tick by tick (dispatch.rolling), by the chosen
    solver and by the greedy baseline."""
    config = rules.routing()
    resume = resume or Resume(None, {})
    plans = {}
    for solver in ("pyvrp", "greedy"):
        parcels, riders = still_open(
            inputs.parcels,
            inputs.riders,
            resume.kept.get(solver, []),
            resume.base,
            resume.plan_start,
            inputs.as_of,
            {s.store_id: s for s in inputs.stores},
            config,
            timedelta(minutes=rules.tick_minutes),
        )
        plans[solver] = plan_day_rolling(
            parcels,
            riders,
            inputs.stores,
            rules.tick_minutes,
            config,
            solver,
            commit_slack_minutes=rules.commit_slack_minutes,
        )
    return plans
