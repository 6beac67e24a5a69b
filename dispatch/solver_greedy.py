"""Greedy baseline for a `RoutingProblem`, the way a dispatcher without a solver would work:
take clients by earliest promise (latest allowed arrival, then earliest opening), give each to the
nearest vehicle that still has room — a vehicle "is" at the last client it was given, or at the depot —
and route every vehicle by nearest neighbour from the depot. A hand-over that would make the vehicle's
nearest-neighbour route late is not made; the next nearest vehicle is tried, and a client no vehicle can
take is left unassigned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from dispatch.problem import RawRoute, RawSolution, RoutingProblem


@dataclass(eq=False)
class _Vehicle:
    vehicle_type: int
    capacity: np.ndarray
    tw_early: int
    tw_late: int
    clients: list[int] = field(default_factory=list)
    route: list[int] = field(default_factory=list)
    load: np.ndarray | None = None
    position: int = 0


def solve_greedy(problem: RoutingProblem) -> RawSolution:
    started = time.perf_counter()
    n = problem.num_clients
    order = sorted(
        range(1, n + 1), key=lambda i: (int(problem.tw_late[i]), int(problem.tw_early[i]), int(problem.release[i]), i)
    )
    idle: list[list[_Vehicle]] = [
        [
            _Vehicle(
                t,
                np.asarray(spec.capacity, dtype=np.int64),
                spec.tw_early,
                spec.tw_late,
                load=np.zeros(problem.num_dims, dtype=np.int64),
            )
            for _ in range(spec.num_available)
        ]
        for t, spec in enumerate(problem.vehicles)
    ]
    busy: list[_Vehicle] = []
    unassigned: list[int] = []
    for c in order:
        # Identical idle vehicles of one type are interchangeable, so only the first of each is a candidate.
        candidates = busy + [pool[0] for pool in idle if pool]
        candidates.sort(key=lambda veh: (int(problem.distance[veh.position, c]), veh.tw_early))
        for veh in candidates:
            assert veh.load is not None
            if (veh.load + problem.demand[c] > veh.capacity).any():
                continue
            route = _nearest_neighbour(problem, veh, veh.clients + [c])
            if route is None:
                continue
            if not veh.clients:
                idle[veh.vehicle_type].pop(0)  # it was that pool's head
                busy.append(veh)
            veh.clients.append(c)
            veh.route = route
            veh.load = veh.load + problem.demand[c]
            veh.position = c
            break
        else:
            unassigned.append(c)
    routes = [RawRoute(veh.vehicle_type, veh.route) for veh in busy]
    return RawSolution(routes, unassigned, time.perf_counter() - started)


def _nearest_neighbour(problem: RoutingProblem, veh: _Vehicle, clients: list[int]) -> list[int] | None:
    """Nearest-neighbour order of `clients` from the depot, skipping stops that could no longer be reached
    in time; None when some client cannot be reached in time or the vehicle would return too late."""
    t = max([veh.tw_early] + [int(problem.release[c]) for c in clients])
    remaining = set(clients)
    route: list[int] = []
    prev = 0
    while remaining:
        reachable = [c for c in remaining if t + problem.duration[prev, c] <= problem.tw_late[c]]
        if not reachable:
            return None
        nxt = min(reachable, key=lambda c: (int(problem.distance[prev, c]), c))
        t = max(t + int(problem.duration[prev, nxt]), int(problem.tw_early[nxt])) + int(problem.service[nxt])
        route.append(nxt)
        remaining.discard(nxt)
        prev = nxt
    if t + problem.duration[prev, 0] > veh.tw_late:
        return None
    return route
