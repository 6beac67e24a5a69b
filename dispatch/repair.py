"""A last pass that puts left-out clients back when a small move makes room.

PyVRP's local search moves one client at a time, so a client that only fits after another client leaves
for an idle vehicle can stay out: e.g. a chilled parcel when every cold-box rider is full, while riders
without a cold box stand idle and could take an ambient parcel off a cold-box rider. This pass tries, for
each left-out client in order of promise, (1) the cheapest feasible insertion into any route, including an
idle vehicle's empty one, then (2) the cheapest "eject one client to an idle vehicle and insert this one
in its place". It never makes a route infeasible, and every insertion beats a prize by construction.
"""

from __future__ import annotations

import numpy as np

from dispatch.problem import RawRoute, RawSolution, RoutingProblem, schedule


def _feasible(problem: RoutingProblem, vehicle_type: int, visits: list[int]) -> int | None:
    """Route distance if the route is feasible, else None."""
    cap = problem.vehicles[vehicle_type].capacity
    if (problem.demand[visits].sum(axis=0) > np.asarray(cap)).any():
        return None
    s = schedule(problem, vehicle_type, visits)
    return None if s.late_visits or s.returns_late else s.distance


def _best_insertion(
    problem: RoutingProblem, vehicle_type: int, visits: list[int], client: int
) -> tuple[int, list[int]] | None:
    """(added distance, new visits) of the cheapest feasible position for `client`, or None."""
    if (problem.demand[client] > np.asarray(problem.vehicles[vehicle_type].capacity)).any():
        return None
    base = _feasible(problem, vehicle_type, visits) if visits else 0
    if base is None:
        return None
    best: tuple[int, list[int]] | None = None
    for pos in range(len(visits) + 1):
        cand = visits[:pos] + [client] + visits[pos:]
        d = _feasible(problem, vehicle_type, cand)
        if d is not None and (best is None or d - base < best[0]):
            best = (d - base, cand)
    return best


def insert_left_out(problem: RoutingProblem, solution: RawSolution) -> RawSolution:
    routes = [RawRoute(r.vehicle_type, list(r.visits)) for r in solution.routes if r.visits]
    idle = [spec.num_available for spec in problem.vehicles]
    for r in routes:
        idle[r.vehicle_type] -= 1
    left = sorted(solution.unassigned, key=lambda c: (int(problem.tw_late[c]), c))
    still_out: list[int] = []
    for c in left:
        if _insert(problem, routes, idle, c) or _eject_and_insert(problem, routes, idle, c):
            continue
        still_out.append(c)
    notes = list(solution.notes)
    if len(still_out) < len(left):
        notes.append(f"repair: put {len(left) - len(still_out)} left-out clients back")
    return RawSolution(routes, still_out, solution.runtime_s, notes)


def _insert(problem: RoutingProblem, routes: list[RawRoute], idle: list[int], c: int) -> bool:
    best: tuple[int, int, list[int]] | None = None  # (delta, route index or -1 - type, visits)
    for i, r in enumerate(routes):
        ins = _best_insertion(problem, r.vehicle_type, r.visits, c)
        if ins and (best is None or ins[0] < best[0]):
            best = (ins[0], i, ins[1])
    for t, free in enumerate(idle):
        if free > 0:
            ins = _best_insertion(problem, t, [], c)
            if ins and (best is None or ins[0] < best[0]):
                best = (ins[0], -1 - t, ins[1])
    if best is None:
        return False
    _, where, visits = best
    if where >= 0:
        routes[where].visits = visits
    else:
        idle[-1 - where] -= 1
        routes.append(RawRoute(-1 - where, visits))
    return True


def _eject_and_insert(problem: RoutingProblem, routes: list[RawRoute], idle: list[int], c: int) -> bool:
    best: tuple[int, int, list[int], int, int] | None = None  # (delta, route, visits, ejected, idle type)
    for i, r in enumerate(routes):
        if (problem.demand[c] > np.asarray(problem.vehicles[r.vehicle_type].capacity)).any():
            continue
        before = _feasible(problem, r.vehicle_type, r.visits)
        if before is None:
            continue
        for q in r.visits:
            rest = [v for v in r.visits if v != q]
            ins = _best_insertion(problem, r.vehicle_type, rest, c)
            if ins is None:
                continue
            rest_distance = _feasible(problem, r.vehicle_type, rest)
            assert rest_distance is not None  # _best_insertion found it feasible
            for t, free in enumerate(idle):
                alone = _feasible(problem, t, [q]) if free > 0 else None
                if alone is None:
                    continue
                delta = ins[0] + rest_distance - before + alone
                if best is None or delta < best[0]:
                    best = (delta, i, ins[1], q, t)
    if best is None:
        return False
    _, i, visits, q, t = best
    routes[i].visits = visits
    idle[t] -= 1
    routes.append(RawRoute(t, [q]))
    return True
