"""PyVRP backend: solves a `RoutingProblem` with PyVRP's iterated local search (pyvrp 0.14 API).

The `ProblemData` is built directly from the integer matrices rather than through `pyvrp.Model`:
`Model` creates one Python `Edge` object per matrix entry, which for a 300-parcel wave is ~90k objects
and a noticeable slice of a seconds-long planning budget; the resulting data are the same.
"""

from __future__ import annotations

import time

import numpy as np
from pyvrp import Client, Depot, Location, ProblemData, VehicleType, solve
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement, StoppingCriterion

from dispatch import parallel
from dispatch.problem import HORIZON, RawRoute, RawSolution, RoutingProblem, VehicleSpec
from dispatch.repair import insert_left_out


def to_problem_data(problem: RoutingProblem) -> ProblemData:
    n = problem.num_clients
    coords = problem.coords if problem.coords is not None else np.zeros((n + 1, 2))
    locations = [Location(x=float(coords[i][0]), y=float(coords[i][1])) for i in range(n + 1)]
    depots = [Depot(location=0)]
    clients = [
        Client(
            location=i,
            delivery=[int(x) for x in problem.demand[i]],
            service_duration=int(problem.service[i]),
            tw_early=int(problem.tw_early[i]),
            tw_late=int(problem.tw_late[i]),
            release_time=int(problem.release[i]),
            prize=0 if problem.required[i] else int(problem.prize),
            required=bool(problem.required[i]),
            name=str(i),
        )
        for i in range(1, n + 1)
    ]
    vehicle_types = [
        VehicleType(
            num_available=spec.num_available,
            capacity=list(spec.capacity),
            start_depot=0,
            end_depot=0,
            tw_early=spec.tw_early,
            tw_late=spec.tw_late,
            unit_duration_cost=spec.unit_duration_cost,
            **_trip_cap(spec),
            name=spec.name,
        )
        for spec in problem.vehicles
    ]
    return ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=[np.ascontiguousarray(problem.distance, dtype=np.int64)],
        duration_matrices=[np.ascontiguousarray(problem.duration, dtype=np.int64)],
        groups=[],
        shipments=[],
    )


def _trip_cap(spec: VehicleSpec) -> dict[str, int]:
    """PyVRP's route duration terms for a trip cap: `shift_duration` is the cap, hard without overtime;
    with an overtime cost each second beyond it is allowed at that price."""
    if spec.trip_cap >= HORIZON:
        return {}
    if spec.overtime_cost is None:
        return {"shift_duration": spec.trip_cap}
    return {"shift_duration": spec.trip_cap, "max_overtime": HORIZON, "unit_overtime_cost": spec.overtime_cost}


def stopping(time_limit_s: float, no_improvement_iters: int | None) -> StoppingCriterion:
    if no_improvement_iters is None:
        return MaxRuntime(time_limit_s)
    return MultipleCriteria([MaxRuntime(time_limit_s), NoImprovement(no_improvement_iters)])


def search(
    problem: RoutingProblem, time_limit_s: float, seed: int, no_improvement_iters: int | None
) -> tuple[float, list[tuple[int, list[int], bool]]]:
    """One PyVRP search: (cost, [(vehicle type, client nodes, feasible)]). Plain values, so that a worker
    process can return them."""
    data = to_problem_data(problem)
    result = solve(
        data, stop=stopping(time_limit_s, no_improvement_iters), seed=seed, collect_stats=False, display=False
    )
    routes = [
        (route.vehicle_type(), [activity.idx + 1 for activity in route if activity.is_client()], route.is_feasible())
        for route in result.best.routes()
    ]
    return float(result.cost()), routes


def solve_pyvrp(
    problem: RoutingProblem,
    time_limit_s: float,
    seed: int,
    no_improvement_iters: int | None = None,
    workers: int = 1,
) -> RawSolution:
    started = time.perf_counter()
    if problem.num_clients == 0:
        return RawSolution([], [], 0.0)
    notes: list[str] = []
    if workers > 1:
        results = parallel.best_of(search, problem, time_limit_s, seed, no_improvement_iters, workers)
        _, found = min(results, key=lambda r: r[0])
    else:
        _, found = search(problem, time_limit_s, seed, no_improvement_iters)
    routes: list[RawRoute] = []
    for vehicle_type, visits, feasible in found:
        # PyVRP's best solution can be infeasible when time runs out early; an infeasible route must not
        # reach a rider, so its clients go back to the unassigned pool instead.
        if not feasible:
            notes.append(f"pyvrp: dropped an infeasible route of {len(visits)} clients")
            continue
        routes.append(RawRoute(vehicle_type, visits))
    routed = {v for r in routes for v in r.visits}
    unassigned = [v for v in range(1, problem.num_clients + 1) if v not in routed]
    raw = RawSolution(routes, unassigned, 0.0, notes)
    if unassigned and not problem.required[1:].all():
        raw = insert_left_out(problem, raw)
    raw.runtime_s = time.perf_counter() - started
    return raw
