"""The dispatch page's queries: the plan as of its clock (riders' states, trips on the road with their ETAs,
parcels waiting and why, the day so far against the greedy baseline, what was not ours to plan), then the
latest planned day per solver, its ticks, routes, stops and parcels not dispatched, and the chosen solver's
plans next to the greedy baseline's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from dashboards.queries.reader import LIST_LIMIT, STORE_LOCATIONS, TO_LOCAL, Row, SnapshotMeta, page_state, rows

DISPATCH_PAGE_TABLES = ("dispatch_routes", "dispatch_stops", "dispatch_unassigned")

DISPATCH_LATEST_DATE = """
SELECT max(business_date) AS business_date
FROM (SELECT business_date FROM dispatch_routes UNION ALL SELECT business_date FROM dispatch_unassigned)
"""

# Per solver for the day: what the plan achieves. The greedy plan is the baseline PyVRP is compared with.
DISPATCH_SOLVERS = """
WITH routes AS (
    SELECT solver, count(*) AS routes, sum(stops) AS stops, sum(distance_m) AS distance_m,
           sum(duration_s) AS duration_s
    FROM dispatch_routes WHERE business_date = $business_date GROUP BY solver
),
stops AS (
    SELECT solver, count(*) FILTER (WHERE on_time) AS on_time_stops, count(*) FILTER (WHERE NOT on_time) AS late_stops
    FROM dispatch_stops WHERE business_date = $business_date GROUP BY solver
),
unassigned AS (
    SELECT solver, count(*) AS unassigned FROM dispatch_unassigned WHERE business_date = $business_date GROUP BY solver
),
solvers AS (SELECT solver FROM routes UNION SELECT solver FROM unassigned)
SELECT
    s.solver,
    coalesce(r.routes, 0)::BIGINT        AS routes,
    coalesce(r.stops, 0)::BIGINT         AS stops,
    coalesce(r.distance_m, 0)::BIGINT    AS distance_m,
    coalesce(r.duration_s, 0)::BIGINT    AS duration_s,
    coalesce(st.on_time_stops, 0)::BIGINT AS on_time_stops,
    coalesce(st.late_stops, 0)::BIGINT   AS late_stops,
    coalesce(u.unassigned, 0)::BIGINT    AS unassigned
FROM solvers AS s
LEFT JOIN routes AS r USING (solver)
LEFT JOIN stops AS st USING (solver)
LEFT JOIN unassigned AS u USING (solver)
ORDER BY s.solver = 'pyvrp' DESC, s.solver
"""

DISPATCH_WAVES = f"""
SELECT DISTINCT wave_at + {TO_LOCAL} AS wave_local
FROM dispatch_routes
WHERE business_date = $business_date AND solver = $solver
ORDER BY wave_local DESC
"""

DISPATCH_STORES = """
SELECT DISTINCT store_id FROM dispatch_routes WHERE business_date = $business_date AND store_id IS NOT NULL
UNION
SELECT DISTINCT store_id FROM dispatch_unassigned WHERE business_date = $business_date AND store_id IS NOT NULL
ORDER BY store_id
"""

_ROUTE_FILTER = f"""
    business_date = $business_date AND solver = $solver
    AND ($store_id IS NULL OR store_id = $store_id)
    AND ($wave_local IS NULL OR wave_at + {TO_LOCAL} = $wave_local)
"""


def _rider_names(with_riders: bool) -> tuple[str, str]:
    """(columns, join) naming each rider from the riders reference table; nulls when the snapshot has none."""
    if not with_riders:
        return "NULL AS rider_name, NULL AS vehicle", ""
    return (
        "rd.name AS rider_name, rd.vehicle AS vehicle",
        "LEFT JOIN (SELECT rider_id, any_value(name) AS name, any_value(vehicle) AS vehicle FROM riders "
        "GROUP BY rider_id) AS rd USING (rider_id)",
    )


def dispatch_routes_sql(with_riders: bool) -> str:
    rider, join = _rider_names(with_riders)
    return f"""
WITH late AS (
    SELECT route_id, count(*) FILTER (WHERE NOT on_time) AS late_stops
    FROM dispatch_stops WHERE business_date = $business_date AND solver = $solver GROUP BY route_id
)
SELECT r.route_id, r.store_id, r.wave_at + {TO_LOCAL} AS wave_local, r.rider_id, {rider},
       r.depart_at + {TO_LOCAL} AS depart_local, r.return_at + {TO_LOCAL} AS return_local, r.stops,
       r.distance_m, r.duration_s, r.load_g, r.cold_ml, coalesce(l.late_stops, 0)::BIGINT AS late_stops
FROM dispatch_routes AS r
LEFT JOIN late AS l USING (route_id)
{join}
WHERE r.business_date = $business_date AND r.solver = $solver
  AND ($store_id IS NULL OR r.store_id = $store_id)
  AND ($wave_local IS NULL OR r.wave_at + {TO_LOCAL} = $wave_local)
ORDER BY r.wave_at DESC, r.store_id, r.route_id
"""


DISPATCH_STOPS = f"""
SELECT route_id, store_id, seq, parcel_id, lat, lng, arrival + {TO_LOCAL} AS arrival_local,
       promised_to + {TO_LOCAL} AS promised_local, on_time
FROM dispatch_stops
WHERE {_ROUTE_FILTER}
ORDER BY route_id, seq
"""

DISPATCH_UNASSIGNED = f"""
SELECT store_id, parcel_id, reason, ready_at + {TO_LOCAL} AS ready_local, promised_to + {TO_LOCAL} AS promised_local
FROM dispatch_unassigned
WHERE business_date = $business_date AND solver = $solver AND ($store_id IS NULL OR store_id = $store_id)
ORDER BY promised_to NULLS LAST, parcel_id
LIMIT $limit
"""

# Per store and wave: the chosen solver's plan next to the greedy baseline's (distance, on-time stops).
DISPATCH_PLANS = f"""
WITH routes AS (
    SELECT store_id, wave_at, solver, count(*) AS routes, sum(stops) AS stops, sum(distance_m) AS distance_m
    FROM dispatch_routes WHERE business_date = $business_date GROUP BY store_id, wave_at, solver
),
stops AS (
    SELECT store_id, wave_at, solver, count(*) FILTER (WHERE on_time) AS on_time_stops
    FROM dispatch_stops WHERE business_date = $business_date GROUP BY store_id, wave_at, solver
),
plans AS (SELECT DISTINCT store_id, wave_at FROM routes)
SELECT
    p.store_id,
    p.wave_at + {TO_LOCAL}                     AS wave_local,
    coalesce(c.routes, 0)::BIGINT               AS routes,
    coalesce(c.stops, 0)::BIGINT                AS stops,
    coalesce(c.distance_m, 0)::BIGINT           AS distance_m,
    coalesce(cs.on_time_stops, 0)::BIGINT       AS on_time_stops,
    coalesce(g.stops, 0)::BIGINT                AS greedy_stops,
    g.distance_m::BIGINT                        AS greedy_distance_m,
    coalesce(gs.on_time_stops, 0)::BIGINT       AS greedy_on_time_stops
FROM plans AS p
LEFT JOIN routes AS c ON c.store_id = p.store_id AND c.wave_at = p.wave_at AND c.solver = $solver
LEFT JOIN stops AS cs ON cs.store_id = p.store_id AND cs.wave_at = p.wave_at AND cs.solver = $solver
LEFT JOIN routes AS g ON g.store_id = p.store_id AND g.wave_at = p.wave_at AND g.solver = 'greedy'
LEFT JOIN stops AS gs ON gs.store_id = p.store_id AND gs.wave_at = p.wave_at AND gs.solver = 'greedy'
WHERE ($store_id IS NULL OR p.store_id = $store_id)
  AND ($wave_local IS NULL OR p.wave_at + {TO_LOCAL} = $wave_local)
ORDER BY p.wave_at DESC, p.store_id
"""


# The plan as of now: written by the dispatch step since it plans the day rolling; older snapshots lack them.
DISPATCH_NOW_TABLES = ("dispatch_riders", "dispatch_waiting", "dispatch_skipped")

DISPATCH_AS_OF = f"""
SELECT max(as_of) AS as_of, max(as_of) + {TO_LOCAL} AS as_of_local
FROM dispatch_riders WHERE business_date = $business_date
"""


def dispatch_riders_now_sql(with_riders: bool) -> str:
    """Each rider at the plan's clock; a rider out has the trip's stops still to do and their ETAs."""
    rider, join = _rider_names(with_riders)
    return f"""
WITH ahead AS (
    SELECT route_id, count(*) AS stops_left, min(arrival) AS next_eta, max(arrival) AS last_eta
    FROM dispatch_stops
    WHERE business_date = $business_date AND solver = $solver AND arrival > $as_of
    GROUP BY route_id
)
SELECT r.rider_id, {rider}, r.store_id, r.status, r.until_at + {TO_LOCAL} AS until_local, r.route_id,
       coalesce(a.stops_left, 0)::BIGINT AS stops_left, a.next_eta + {TO_LOCAL} AS next_eta_local,
       a.last_eta + {TO_LOCAL} AS last_eta_local
FROM dispatch_riders AS r
LEFT JOIN ahead AS a USING (route_id)
{join}
WHERE r.business_date = $business_date AND r.solver = $solver AND r.as_of = $as_of
  AND ($store_id IS NULL OR r.store_id = $store_id)
ORDER BY r.status = 'out' DESC, r.status = 'idle' DESC, r.store_id, r.rider_id
"""


DISPATCH_WAITING_NOW = f"""
SELECT store_id, parcel_id, reason, until_at + {TO_LOCAL} AS until_local, rider_id,
       ready_at + {TO_LOCAL} AS ready_local, promised_to + {TO_LOCAL} AS promised_local,
       coalesce(promised_to < as_of, false) AS late
FROM dispatch_waiting
WHERE business_date = $business_date AND solver = $solver AND as_of = $as_of
  AND ($store_id IS NULL OR store_id = $store_id)
ORDER BY promised_to NULLS LAST, parcel_id
LIMIT $limit
"""

# Counts over every store (the tiles), not only the listed rows.
DISPATCH_NOW_COUNTS = """
SELECT
    (SELECT count(*) FROM dispatch_riders WHERE business_date = $business_date AND solver = $solver
        AND as_of = $as_of AND status = 'out')::BIGINT AS riders_out,
    (SELECT count(*) FROM dispatch_riders WHERE business_date = $business_date AND solver = $solver
        AND as_of = $as_of AND status = 'idle')::BIGINT AS riders_idle,
    (SELECT count(*) FROM dispatch_waiting WHERE business_date = $business_date AND solver = $solver
        AND as_of = $as_of)::BIGINT AS waiting,
    (SELECT count(*) FROM dispatch_waiting WHERE business_date = $business_date AND solver = $solver
        AND as_of = $as_of AND promised_to < as_of)::BIGINT AS waiting_late
"""

# The day so far, per solver: the trips that left by the plan's clock, their distance and on-time stops.
DISPATCH_SO_FAR = """
WITH gone AS (
    SELECT route_id, solver, distance_m FROM dispatch_routes
    WHERE business_date = $business_date AND depart_at <= $as_of
),
stops AS (
    SELECT s.solver, count(*) AS stops, count(*) FILTER (WHERE s.on_time) AS on_time_stops
    FROM dispatch_stops AS s JOIN gone AS g USING (route_id)
    WHERE s.business_date = $business_date
    GROUP BY s.solver
)
SELECT g.solver, count(*)::BIGINT AS routes, sum(g.distance_m)::BIGINT AS distance_m,
       coalesce(any_value(st.stops), 0)::BIGINT AS stops, coalesce(any_value(st.on_time_stops), 0)::BIGINT AS on_time_stops
FROM gone AS g LEFT JOIN stops AS st USING (solver)
GROUP BY g.solver
ORDER BY g.solver = 'pyvrp' DESC, g.solver
"""

DISPATCH_SKIPPED = """
SELECT reason, count(*)::BIGINT AS parcels FROM dispatch_skipped WHERE business_date = $business_date
GROUP BY reason ORDER BY parcels DESC, reason
"""


@dataclass(frozen=True)
class DispatchNow:
    """The plan as of its clock (`as_of`, UTC), for the chosen solver and store."""

    as_of: datetime | None
    as_of_local: datetime | None = None
    counts: Row | None = None
    riders: tuple[Row, ...] = ()
    waiting: tuple[Row, ...] = ()
    so_far: tuple[Row, ...] = ()
    skipped: tuple[Row, ...] = ()


def fetch_now(
    con: duckdb.DuckDBPyConnection, present: set[str], business_date: date, solver: str, store_id: str | None
) -> DispatchNow | None:
    """None for a snapshot made before the plan kept its view of now."""
    if any(table not in present for table in DISPATCH_NOW_TABLES):
        return None
    day = {"business_date": business_date}
    clock = rows(con, DISPATCH_AS_OF, day)[0]
    as_of = clock["as_of"]
    if as_of is None:
        return DispatchNow(None)
    now = {**day, "solver": solver, "as_of": as_of}
    return DispatchNow(
        as_of=as_of,
        as_of_local=clock["as_of_local"],
        counts=rows(con, DISPATCH_NOW_COUNTS, now)[0],
        riders=rows(con, dispatch_riders_now_sql("riders" in present), {**now, "store_id": store_id}),
        waiting=rows(con, DISPATCH_WAITING_NOW, {**now, "store_id": store_id, "limit": LIST_LIMIT}),
        so_far=rows(con, DISPATCH_SO_FAR, {**day, "as_of": as_of}),
        skipped=rows(con, DISPATCH_SKIPPED, day),
    )


@dataclass(frozen=True)
class DispatchData:
    """The dispatch page for one business day and solver (routes, their stops for the map, unassigned
    parcels), filtered to a store and a wave when asked. ``stores`` are the locations for the map."""

    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    business_date: date | None = None
    solvers: tuple[Row, ...] = ()
    waves: tuple[datetime, ...] = ()
    store_ids: tuple[str, ...] = ()
    routes: tuple[Row, ...] = ()
    stops: tuple[Row, ...] = ()
    unassigned: tuple[Row, ...] = ()
    stores: tuple[Row, ...] = ()
    plans: tuple[Row, ...] = ()
    now: DispatchNow | None = None


def fetch_dispatch(
    con: duckdb.DuckDBPyConnection,
    solver: str = "pyvrp",
    store_id: str | None = None,
    wave_local: datetime | None = None,
) -> DispatchData:
    present, meta, missing = page_state(con, DISPATCH_PAGE_TABLES)
    if missing:
        return DispatchData(meta, missing)
    business_date = rows(con, DISPATCH_LATEST_DATE)[0]["business_date"]
    if business_date is None:
        return DispatchData(meta, ())
    day = {"business_date": business_date}
    chosen = {**day, "solver": solver, "store_id": store_id, "wave_local": wave_local}
    return DispatchData(
        meta=meta,
        missing=(),
        business_date=business_date,
        solvers=rows(con, DISPATCH_SOLVERS, day),
        waves=tuple(r["wave_local"] for r in rows(con, DISPATCH_WAVES, {**day, "solver": solver})),
        store_ids=tuple(r["store_id"] for r in rows(con, DISPATCH_STORES, day)),
        routes=rows(con, dispatch_routes_sql("riders" in present), chosen),
        stops=rows(con, DISPATCH_STOPS, chosen),
        unassigned=rows(con, DISPATCH_UNASSIGNED, {**day, "solver": solver, "store_id": store_id, "limit": LIST_LIMIT}),
        stores=rows(con, STORE_LOCATIONS) if "stores" in present else (),
        plans=rows(con, DISPATCH_PLANS, chosen),
        now=fetch_now(con, present, business_date, solver, store_id),
    )
