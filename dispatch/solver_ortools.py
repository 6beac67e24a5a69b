"""OR-Tools routing backend for a `RoutingProblem`: one capacity dimension per load dimension, a time
dimension (waiting allowed) for client and vehicle windows, disjunctions with the prize as penalty for
optional clients, guided local search for the given wall-clock limit.

OR-Tools' routing search has no random seed; runs differ only through timing, so `seed` is accepted for a
uniform signature and ignored.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch.problem import HORIZON, RawRoute, RawSolution, RoutingProblem


def solve_ortools(problem: RoutingProblem, time_limit_s: float, seed: int = 0) -> RawSolution:
    del seed  # see module docstring
    started = time.perf_counter()
    n = problem.num_clients
    if n == 0:
        return RawSolution([], [], 0.0)
    vehicle_type_of = problem.vehicle_instances()
    num_vehicles = len(vehicle_type_of)
    manager = pywrapcp.RoutingIndexManager(n + 1, num_vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)

    distance_cb = routing.RegisterTransitMatrix(problem.distance.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(distance_cb)

    for d in range(problem.num_dims):
        demand_cb = routing.RegisterUnaryTransitVector([int(x) for x in problem.demand[:, d]])
        capacities = [int(problem.vehicles[t].capacity[d]) for t in vehicle_type_of]
        routing.AddDimensionWithVehicleCapacity(demand_cb, 0, capacities, True, f"load{d}")

    # A client no vehicle can physically carry on its own (e.g. a cold parcel and a rider whose cold box
    # is 0) is excluded up front; the capacity dimension would reject it anyway, but only after search.
    caps = np.array([problem.vehicles[t].capacity for t in vehicle_type_of], dtype=np.int64).reshape(
        num_vehicles, problem.num_dims
    )
    # (SetAllowedVehiclesForIndex would say this directly, but its Python binding rejects every list in
    # ortools 9.15, so the vehicles are removed from the node's vehicle variable instead.)
    for i in range(1, n + 1):
        banned = [v for v in range(num_vehicles) if (problem.demand[i] > caps[v]).any()]
        if banned:
            routing.VehicleVar(manager.NodeToIndex(i)).RemoveValues(banned)

    vehicle_windows = any(s.tw_early > 0 or s.tw_late < HORIZON for s in problem.vehicles)
    if problem.has_time_windows or vehicle_windows:
        _add_time(problem, manager, routing, vehicle_type_of)

    # Required clients get a disjunction too, with a penalty no route saving can outweigh: without it the
    # first-solution heuristic often finds nothing at all on tight time windows (e.g. Solomon RC101 at 2 s),
    # with it there is always a solution and a required client left out is reported by the caller.
    must = int(problem.distance.max()) * (n + 1) * 10 + 1
    for i in range(1, n + 1):
        penalty = int(problem.prize) if not problem.required[i] else must
        routing.AddDisjunction([manager.NodeToIndex(i)], penalty)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    assignment = routing.SolveWithParameters(params)

    if assignment is None:
        return RawSolution(
            [],
            list(range(1, n + 1)),
            time.perf_counter() - started,
            ["ortools: no solution found within the time limit"],
        )
    routes: list[RawRoute] = []
    for v in range(num_vehicles):
        index = assignment.Value(routing.NextVar(routing.Start(v)))
        visits: list[int] = []
        while not routing.IsEnd(index):
            visits.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        if visits:
            routes.append(RawRoute(vehicle_type_of[v], visits))
    routed = {c for r in routes for c in r.visits}
    unassigned = [c for c in range(1, n + 1) if c not in routed]
    return RawSolution(routes, unassigned, time.perf_counter() - started)


def _add_time(
    problem: RoutingProblem,
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
    vehicle_type_of: list[int],
) -> None:
    # Transit from i includes the service at i, so a node's cumul is its service start.
    transit = problem.duration + problem.service[:, None]
    time_cb = routing.RegisterTransitMatrix(transit.tolist())
    routing.AddDimension(time_cb, HORIZON, HORIZON, False, "time")
    dim = routing.GetDimensionOrDie("time")
    for i in range(1, problem.num_clients + 1):
        dim.CumulVar(manager.NodeToIndex(i)).SetRange(int(problem.tw_early[i]), int(problem.tw_late[i]))
    solver = routing.solver()
    earliest_start = min(s.tw_early for s in problem.vehicles)
    for v, t in enumerate(vehicle_type_of):
        spec = problem.vehicles[t]
        start = dim.CumulVar(routing.Start(v))
        start.SetRange(spec.tw_early, spec.tw_late)
        dim.CumulVar(routing.End(v)).SetMax(spec.tw_late)
        routing.AddVariableMinimizedByFinalizer(start)
        # A vehicle leaves only once every client it carries is released (parcel ready at the store).
        # Only releases later than some vehicle could leave anyway need the (costly) conditional constraint.
        for i in range(1, problem.num_clients + 1):
            release = int(problem.release[i])
            if release > max(spec.tw_early, earliest_start):
                on_v = solver.IsEqualCstVar(routing.VehicleVar(manager.NodeToIndex(i)), v)
                solver.Add(start >= on_v * release)
