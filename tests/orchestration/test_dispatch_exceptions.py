"""The dispatch plan's late-risk exceptions: one per order in each parcel no rider takes. An order split into
a cold and an ambient parcel can have both left behind; each is its own problem to act on, with its own id,
and a rerun of the same plan gives the same ids (the dashboard lists them by id; ClickHouse keys them by it)."""

from __future__ import annotations

import datetime as dt

from dispatch.waves import DayPlan
from orchestration.defs.dispatch.plan import PlanInputs
from orchestration.defs.dispatch.resume import Resume
from orchestration.defs.dispatch.write import rows_for

DAY = dt.date(2026, 11, 26)
DAY_START = dt.datetime(2026, 11, 25, 16, 0)
NOON = dt.datetime(2026, 11, 26, 4, 0)
READY, PROMISED = NOON - dt.timedelta(hours=1), NOON + dt.timedelta(hours=1)


def _exceptions(no_coordinates: list[str]) -> list[tuple]:
    order = [("groupbuy:GB1", "groupbuy")]
    parcel_orders = {pid: order for pid in ["p/cold/1", "p/ambient/1"]}
    inputs = PlanInputs(
        DAY,
        NOON,
        DAY_START,
        [],
        parcel_orders,
        set(),
        [(pid, "S1", READY, PROMISED) for pid in no_coordinates],
        [],
        [],
        [],
    )
    return rows_for(inputs, {"pyvrp": DayPlan()}, Resume(None, {}))["dispatch_exceptions"]


def test_an_order_whose_cold_and_ambient_parcels_both_stay_behind_has_two_exceptions():
    rows = _exceptions(["p/cold/1", "p/ambient/1"])
    assert [(r[3], r[7]) for r in rows] == [
        ("groupbuy:GB1", "parcel p/cold/1 not dispatched: no coordinates"),
        ("groupbuy:GB1", "parcel p/ambient/1 not dispatched: no coordinates"),
    ]
    assert len({r[0] for r in rows}) == 2


def test_the_same_plan_gives_the_same_exception_ids():
    assert [r[0] for r in _exceptions(["p/cold/1"])] == [r[0] for r in _exceptions(["p/cold/1"])]
    assert [r[0] for r in _exceptions(["p/cold/1"])] != [r[0] for r in _exceptions(["p/ambient/1"])]
