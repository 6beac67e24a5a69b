"""The idle-rider audit of a dispatch plan, read from the dispatch tables as the plan left them: no parcel may
still be at the store past its promise while a rider of that store, on shift, idle there at the plan's clock,
could have taken it (enough capacity, and a cold box big enough when the parcel is chilled or frozen).

It reads only what the page reads (`dispatch_riders`, `dispatch_waiting`, both as of the plan's own as_of), so
it judges the plan as it stood at that instant; a replay runs it after every tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

IDLE_RIDER_VIOLATIONS = """
select w.business_date, w.as_of, w.solver, w.store_id, w.parcel_id, w.reason, w.promised_to, r.rider_id
from dispatch.dispatch_waiting w
join dispatch.dispatch_riders r
  on r.business_date = w.business_date and r.solver = w.solver and r.as_of = w.as_of and r.store_id = w.store_id
where w.solver = $solver
  and ($business_date is null or w.business_date = $business_date)
  and w.reason <> 'no_coordinates'  -- no rider can ride to an unknown place
  and w.ready_at <= w.as_of
  and w.promised_to <= w.as_of
  and r.status = 'idle'
  and coalesce(r.capacity_g, 0) >= coalesce(w.weight_g, 0)
  and coalesce(r.cold_box_ml, 0) >= coalesce(w.cold_ml, 0)
order by w.business_date, w.store_id, w.parcel_id, r.rider_id
"""


@dataclass(frozen=True)
class IdleRiderViolation:
    business_date: date
    as_of: datetime
    solver: str
    store_id: str
    parcel_id: str
    reason: str
    promised_to: datetime
    rider_id: str

    def describe(self) -> str:
        return (
            f"{self.as_of:%H:%M} UTC, store {self.store_id}: parcel {self.parcel_id} ({self.reason}) promised by "
            f"{self.promised_to:%H:%M} still waits while rider {self.rider_id} is idle there"
        )


def idle_rider_violations(
    con: duckdb.DuckDBPyConnection, solver: str = "pyvrp", business_date: date | None = None
) -> list[IdleRiderViolation]:
    """Every (late parcel, idle rider who could carry it) pair of the plan as of its clock."""
    rows = con.execute(IDLE_RIDER_VIOLATIONS, {"solver": solver, "business_date": business_date}).fetchall()
    return [IdleRiderViolation(*row) for row in rows]
