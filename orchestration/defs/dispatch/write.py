"""The day's plan into schema `dispatch`: trips and their stops (both solvers), parcels no rider can take with
the late-risk exceptions they raise, and the plan as of its clock — each rider's state and each parcel still at
the store, with why (status.py) — plus the parcels that are not ours to plan.

A run replaces its business day in every table in one transaction: rerunning at the same as_of gives the same
rows, and route ids carry the trip's tick date and time, so one day's trips never collide with another's.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import duckdb
import polars as pl

from dispatch.waves import DayPlan
from ingestion.faults import fail_point
from orchestration.defs.dispatch import plan as planning
from orchestration.defs.dispatch.plan import BEFORE_PLAN_START, DispatchRules, PlanInputs
from orchestration.defs.dispatch.resume import Resume, record, resume_point
from orchestration.defs.dispatch.status import rider_states, waiting_parcels

SCHEMA = "dispatch"

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
    # The plan as of its clock (added with rolling dispatch; older warehouses get the tables here).
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.dispatch_riders (
        business_date DATE, as_of TIMESTAMP, solver VARCHAR, rider_id VARCHAR, store_id VARCHAR, status VARCHAR,
        until_at TIMESTAMP, route_id VARCHAR, shift_start TIMESTAMP, shift_end TIMESTAMP, capacity_g BIGINT,
        cold_box_ml BIGINT)""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.dispatch_waiting (
        business_date DATE, as_of TIMESTAMP, solver VARCHAR, store_id VARCHAR, parcel_id VARCHAR, reason VARCHAR,
        until_at TIMESTAMP, rider_id VARCHAR, ready_at TIMESTAMP, promised_to TIMESTAMP, weight_g BIGINT,
        cold_ml BIGINT)""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.dispatch_skipped (
        business_date DATE, as_of TIMESTAMP, store_id VARCHAR, parcel_id VARCHAR, reason VARCHAR,
        order_keys VARCHAR)""",
)
TABLES = (
    "dispatch_routes",
    "dispatch_stops",
    "dispatch_unassigned",
    "dispatch_exceptions",
    "dispatch_riders",
    "dispatch_waiting",
    "dispatch_skipped",
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


def route_id(solver: str, store_id: str, wave_at: datetime, rider_id: str) -> str:
    # The tick's full UTC time, date included: one warehouse holds every day's plans.
    return f"{solver}/{store_id}/{wave_at:%Y%m%dT%H%M}/{rider_id}"


def rows_for(inputs: PlanInputs, plans: dict[str, DayPlan], resume: Resume) -> dict[str, list[tuple]]:
    """The rows the run writes, in each table's column order: the new trips and their stops (kept ones stay in
    place), and the whole day's rows of the other tables, the riders' and parcels' states counting kept trips."""
    out: dict[str, list[tuple]] = {table: [] for table in TABLES}
    day, as_of = inputs.business_date, inputs.as_of
    parcel_by_id = {p.parcel_id: p for p in inputs.parcels}
    times = {p.parcel_id: (p.ready_at, p.promised_to) for p in inputs.parcels}
    times |= {pid: (ready, promised) for pid, _, ready, promised in inputs.no_coordinates}
    for solver, plan in plans.items():
        trips = list(resume.kept.get(solver, []))
        for wave, route in plan.routes:
            rid = route_id(solver, wave.store_id, wave.wave_at, route.rider_id)
            trips.append((rid, route))
            out["dispatch_routes"].append(
                (
                    rid,
                    day,
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
                on_time = promised_to is None or stop.arrival <= promised_to
                out["dispatch_stops"].append(
                    (
                        rid,
                        day,
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
                        on_time,
                    )
                )
        _unassigned(out, inputs, solver, plan)
        states = rider_states(inputs.riders, trips, as_of)
        rider_by_id = {r.rider_id: r for r in inputs.riders}
        for s in states:
            r = rider_by_id[s.rider_id]
            out["dispatch_riders"].append(
                (
                    day,
                    as_of,
                    solver,
                    s.rider_id,
                    s.store_id,
                    s.status,
                    s.until,
                    s.route_id,
                    r.shift_start,
                    r.shift_end,
                    r.capacity_g,
                    r.cold_box_capacity_ml,
                )
            )
        no_coordinates = [(pid, store) for pid, store, *_ in inputs.no_coordinates]
        planned = [p for p in inputs.parcels if p.ready_at >= resume.plan_start]
        for w in waiting_parcels(planned, trips, plan.unassigned, no_coordinates, states, as_of):
            p = parcel_by_id.get(w.parcel_id)
            ready, promised = times[w.parcel_id]
            out["dispatch_waiting"].append(
                (
                    day,
                    as_of,
                    solver,
                    w.store_id,
                    w.parcel_id,
                    w.reason,
                    w.until,
                    w.rider_id,
                    ready,
                    promised,
                    p.weight_g if p else None,
                    p.cold_ml if p else None,
                )
            )
    out["dispatch_skipped"] = [(day, as_of, store, pid, reason, keys) for pid, store, reason, keys in inputs.skipped]
    out["dispatch_skipped"] += [
        (
            day,
            as_of,
            p.store_id,
            p.parcel_id,
            BEFORE_PLAN_START,
            ",".join(k for k, _ in inputs.parcel_orders.get(p.parcel_id, [])),
        )
        for p in inputs.parcels
        if p.ready_at < resume.plan_start
    ]
    return out


def _unassigned(out: dict[str, list[tuple]], inputs: PlanInputs, solver: str, plan: DayPlan) -> None:
    parcel_by_id = {p.parcel_id: p for p in inputs.parcels}
    failed = [
        (pid, parcel_by_id[pid].store_id, reason, parcel_by_id[pid].ready_at, parcel_by_id[pid].promised_to)
        for pid, reason in plan.unassigned
    ]
    failed += [(pid, store, "no coordinates", ready, promised) for pid, store, ready, promised in inputs.no_coordinates]
    for pid, store_id, reason, ready_at, promised_to in failed:
        out["dispatch_unassigned"].append(
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
        if solver != "pyvrp" or pid in inputs.already_out:
            continue
        for order_key, channel in inputs.parcel_orders.get(pid, []):
            out["dispatch_exceptions"].append(
                (
                    # Per order and parcel: an order split by temperature zone can leave two parcels behind.
                    hashlib.md5(f"dispatch_late_risk|{order_key}|{pid}".encode()).hexdigest(),
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


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def write(
    con: duckdb.DuckDBPyConnection, inputs: PlanInputs, plans: dict[str, DayPlan], resume: Resume | None = None
) -> dict[str, int]:
    """Replace the business day's plan after the resume point in one transaction: trips and stops from
    `resume.base` on (all of them when planning from scratch), every other table's rows for the day."""
    ensure_tables(con)
    resume = resume or Resume(None, {})
    if inputs.business_date is None:
        return {table.removeprefix("dispatch_"): 0 for table in TABLES}
    rows = rows_for(inputs, plans, resume)
    day = inputs.business_date
    con.execute("BEGIN TRANSACTION")
    try:
        for table in TABLES:
            if table in ("dispatch_routes", "dispatch_stops") and resume.base is not None:
                con.execute(f"DELETE FROM {SCHEMA}.{table} WHERE business_date = ? AND wave_at > ?", [day, resume.base])
            else:
                con.execute(f"DELETE FROM {SCHEMA}.{table} WHERE business_date = ?", [day])
            _insert(con, table, rows[table])
        record(con, day, inputs.as_of, resume)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {table.removeprefix("dispatch_"): len(rows[table]) for table in TABLES}


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    if not rows:
        return
    columns = [r[0] for r in con.execute(f"DESCRIBE {SCHEMA}.{table}").fetchall()]
    con.register("_rows", pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None).to_arrow())
    try:
        con.execute(f"INSERT INTO {SCHEMA}.{table} BY NAME SELECT * FROM _rows")
    finally:
        con.unregister("_rows")


def replan(
    con: duckdb.DuckDBPyConnection, rules: DispatchRules, as_of: datetime, *, forced: bool = False
) -> tuple[PlanInputs, dict[str, DayPlan], dict[str, int]]:
    """One dispatch run, as the asset runs it and a replay repeats it: read the day as of `as_of`, plan what is
    still open since the last run (both solvers), write it. `forced` plans the day from scratch."""
    ensure_tables(con)
    inputs = planning.read_inputs(con, rules, as_of)
    resume = Resume(None, {})
    if inputs.business_date is not None:
        resume = resume_point(
            con,
            inputs.business_date,
            as_of,
            forced=forced,
            day_start=inputs.planned_from,
            cold_start=timedelta(minutes=rules.cold_start_minutes),
        )
    plans = planning.plan(inputs, rules, resume)
    fail_point("dispatch.plan")
    return inputs, plans, write(con, inputs, plans, resume)
