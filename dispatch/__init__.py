"""Rider routing for store waves: PyVRP with OR-Tools and greedy baselines, an independent plan validator,
and a VRPLIB benchmark runner. Imports nothing else of orderhub.

Public API:
    Parcel, Rider, Store, RoutingConfig, Plan, Route, Stop   (dispatch.model)
    plan_routes, plan_pyvrp, plan_ortools, plan_greedy        (dispatch.planner)
    validate_plan                                             (dispatch.validate)
    dispatch.waves.plan_day (fixed waves), dispatch.rolling.plan_day_rolling / plan_tick / RiderState
    (rolling horizon; same DayPlan), dispatch.rolling.validate_day
    dispatch.vrplib_runner.solve_instance, read_best_known    (VRPLIB / Solomon benchmarks)
"""

from dispatch.model import (
    NO_COLD_BOX,
    NO_RIDER,
    NOT_SELECTED,
    OVERWEIGHT,
    UNREACHABLE,
    Parcel,
    Plan,
    Rider,
    Route,
    RoutingConfig,
    Stop,
    Store,
)
from dispatch.planner import plan_greedy, plan_ortools, plan_pyvrp, plan_routes
from dispatch.validate import validate_plan

__all__ = [
    "NO_COLD_BOX",
    "NO_RIDER",
    "NOT_SELECTED",
    "OVERWEIGHT",
    "UNREACHABLE",
    "Parcel",
    "Plan",
    "Rider",
    "Route",
    "RoutingConfig",
    "Stop",
    "Store",
    "plan_greedy",
    "plan_ortools",
    "plan_pyvrp",
    "plan_routes",
    "validate_plan",
]
