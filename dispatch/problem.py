"""The solver-neutral integer routing problem that every backend (PyVRP, OR-Tools, greedy) solves.

Both the dispatch domain (parcels and riders, `encoding`) and the VRPLIB benchmark reader
(`vrplib_runner`) translate into this one form, so a backend is written once and is benchmarked on
exactly the code that plans real waves.

Node 0 is the depot; nodes 1..n are clients. Times are integer seconds (or instance units) from an
origin chosen by the translator. A route leaves the depot as early as allowed — not before its vehicle's
`tw_early` nor before the latest `release` of the clients it carries — waits at a client that opens
later, and is late if it arrives after `tw_late`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Large enough for any horizon we plan (days in seconds) yet far from int64 overflow in solver sums.
HORIZON = 10**9


@dataclass(frozen=True)
class VehicleSpec:
    """`num_available` identical vehicles. `name` is carried through to the solution (rider id).
    `unit_duration_cost`, `trip_cap` and `overtime_cost` shape the objective (see `RoutingConfig`); they are
    preferences of the plan, not rules of the domain, so `check_solution` does not check them."""

    capacity: tuple[int, ...]
    tw_early: int = 0
    tw_late: int = HORIZON
    num_available: int = 1
    name: str = ""
    unit_duration_cost: int = 0
    trip_cap: int = HORIZON
    overtime_cost: int | None = None  # None: trip_cap is hard


@dataclass(frozen=True)
class RoutingProblem:
    distance: np.ndarray  # (n+1, n+1) int64
    duration: np.ndarray  # (n+1, n+1) int64, travel only
    demand: np.ndarray  # (n+1, dims) int64, row 0 is zeros
    service: np.ndarray  # (n+1,) int64
    tw_early: np.ndarray  # (n+1,) int64
    tw_late: np.ndarray  # (n+1,) int64
    release: np.ndarray  # (n+1,) int64
    required: np.ndarray  # (n+1,) bool; an optional client may be left out at cost `prize`
    prize: int
    vehicles: list[VehicleSpec]
    coords: np.ndarray | None = None  # (n+1, 2) float, only for solvers that like coordinates

    @property
    def num_clients(self) -> int:
        return len(self.service) - 1

    @property
    def num_dims(self) -> int:
        return int(self.demand.shape[1])

    @property
    def has_time_windows(self) -> bool:
        return bool((self.tw_early[1:] > 0).any() or (self.tw_late[1:] < HORIZON).any() or (self.release > 0).any())

    def vehicle_instances(self) -> list[int]:
        """Vehicle type index of each individual vehicle, in order."""
        return [t for t, spec in enumerate(self.vehicles) for _ in range(spec.num_available)]


@dataclass
class RawRoute:
    vehicle_type: int
    visits: list[int]  # client node indices (1..n), in order


@dataclass
class RawSolution:
    routes: list[RawRoute]
    unassigned: list[int]
    runtime_s: float
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Schedule:
    depart: int
    arrivals: list[int]  # at each visit, before any waiting
    departures: list[int]  # after service at each visit
    return_time: int
    distance: int
    late_visits: list[int]  # visits arrived at after tw_late
    returns_late: bool


def schedule(problem: RoutingProblem, vehicle_type: int, visits: list[int]) -> Schedule:
    """Earliest-departure timing of one route (see module docstring)."""
    spec = problem.vehicles[vehicle_type]
    depart = int(max([spec.tw_early] + [int(problem.release[v]) for v in visits]))
    t, prev, dist = depart, 0, 0
    arrivals: list[int] = []
    departures: list[int] = []
    late: list[int] = []
    for v in visits:
        t += int(problem.duration[prev, v])
        dist += int(problem.distance[prev, v])
        arrivals.append(t)
        if t > problem.tw_late[v]:
            late.append(v)
        t = max(t, int(problem.tw_early[v])) + int(problem.service[v])
        departures.append(t)
        prev = v
    t += int(problem.duration[prev, 0])
    dist += int(problem.distance[prev, 0])
    return Schedule(depart, arrivals, departures, t, dist, late, t > spec.tw_late)


def check_solution(problem: RoutingProblem, solution: RawSolution) -> list[str]:
    """Violations of the integer problem: load, time windows, fleet size, clients twice or missing,
    required clients left out. Empty when feasible."""
    errors: list[str] = []
    seen: dict[int, int] = {}
    used = [0] * len(problem.vehicles)
    for r, route in enumerate(solution.routes):
        if not route.visits:
            continue
        used[route.vehicle_type] += 1
        cap = np.asarray(problem.vehicles[route.vehicle_type].capacity, dtype=np.int64)
        load = problem.demand[route.visits].sum(axis=0)
        if (load > cap).any():
            errors.append(f"route {r}: load {load.tolist()} exceeds capacity {cap.tolist()}")
        sched = schedule(problem, route.vehicle_type, route.visits)
        if sched.late_visits:
            errors.append(f"route {r}: late at clients {sched.late_visits}")
        if sched.returns_late:
            errors.append(f"route {r}: returns at {sched.return_time}, after the vehicle's window")
        for v in route.visits:
            if not 1 <= v <= problem.num_clients:
                errors.append(f"route {r}: unknown client {v}")
            seen[v] = seen.get(v, 0) + 1
    for t, spec in enumerate(problem.vehicles):
        if used[t] > spec.num_available:
            errors.append(f"vehicle type {t}: {used[t]} routes for {spec.num_available} vehicles")
    errors += [f"client {v} visited {k} times" for v, k in seen.items() if k > 1]
    unassigned = set(solution.unassigned)
    for v in range(1, problem.num_clients + 1):
        if v not in seen and v not in unassigned:
            errors.append(f"client {v} neither routed nor unassigned")
        if v in seen and v in unassigned:
            errors.append(f"client {v} both routed and unassigned")
        if v not in seen and problem.required[v]:
            errors.append(f"required client {v} not routed")
    return errors


def total_distance(problem: RoutingProblem, solution: RawSolution) -> int:
    return sum(schedule(problem, r.vehicle_type, r.visits).distance for r in solution.routes if r.visits)
