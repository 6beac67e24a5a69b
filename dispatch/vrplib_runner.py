"""Solving public VRP benchmark instances with the dispatch backends, to measure them against best-known
costs.

Reads a CVRPLIB `.vrp` (CVRP) or a Solomon `.txt` (VRPTW) with the `vrplib` package and follows each
family's own cost convention, as PyVRP's benchmarking instructions do:

* CVRPLIB: Euclidean distances rounded to the nearest integer (TSPLIB `nint`), the convention of the
  published best-known costs (PyVRP's `round`).
* Solomon: the DIMACS convention (PyVRP's `dimacs`): distances, time windows and service times are
  multiplied by 10 and truncated to integers; travel time equals distance; the reported cost is the
  integer total divided by 10 again, which matches best-known costs "truncated to one decimal".

Fleet: a Solomon instance's own vehicle count. CVRP instances do not fix one; PyVRP and greedy get one
vehicle per client (PyVRP's own reader does the same), OR-Tools gets the `k` of the instance name plus
25% because its search slows down markedly with hundreds of idle vehicles.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import vrplib

from dispatch.problem import HORIZON, RawSolution, RoutingProblem, VehicleSpec, check_solution, total_distance

SOLOMON_SCALE = 10


def read_best_known(sol_path: str | Path) -> float:
    """The `Cost N` line of a VRPLIB solution file."""
    for line in Path(sol_path).read_text().splitlines():
        m = re.match(r"\s*Cost\s*:?\s*([-+0-9.eE]+)", line)
        if m:
            return float(m.group(1))
    raise ValueError(f"{sol_path}: no 'Cost' line")


def is_solomon(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".txt"


def load_instance(path: str | Path, solver: str = "pyvrp") -> tuple[RoutingProblem, float]:
    """(integer problem, cost scale) for a CVRPLIB `.vrp` or Solomon `.txt` file; cost = integer / scale."""
    if is_solomon(path):
        return _solomon(vrplib.read_instance(str(path), instance_format="solomon")), float(SOLOMON_SCALE)
    return _cvrp(vrplib.read_instance(str(path)), Path(path).stem, solver), 1.0


def _cvrp(inst: dict[str, Any], name: str, solver: str) -> RoutingProblem:
    if int(np.atleast_1d(inst.get("depot", [0]))[0]) != 0:
        raise ValueError(f"{name}: expected a single depot as node 1")
    dist = np.floor(np.asarray(inst["edge_weight"], dtype=float) + 0.5).astype(np.int64)
    demand = np.asarray(inst["demand"], dtype=np.int64).reshape(-1, 1)
    n = len(demand) - 1
    m = re.search(r"-k(\d+)", name)
    k = int(m.group(1)) if m else n
    fleet = min(n, math.ceil(k * 1.25)) if solver == "ortools" else n
    zeros = np.zeros(n + 1, dtype=np.int64)
    return RoutingProblem(
        distance=dist,
        duration=dist,
        demand=demand,
        service=zeros,
        tw_early=zeros.copy(),
        tw_late=np.full(n + 1, HORIZON, dtype=np.int64),
        release=zeros.copy(),
        required=np.ones(n + 1, dtype=bool),
        prize=0,
        vehicles=[VehicleSpec(capacity=(int(inst["capacity"]),), num_available=fleet)],
        coords=np.asarray(inst.get("node_coord", np.zeros((n + 1, 2))), dtype=float),
    )


def _solomon(inst: dict[str, Any]) -> RoutingProblem:
    s = SOLOMON_SCALE
    dist = (np.asarray(inst["edge_weight"], dtype=float) * s).astype(np.int64)  # truncation
    demand = np.asarray(inst["demand"], dtype=np.int64).reshape(-1, 1)
    tw = (np.asarray(inst["time_window"], dtype=float) * s).astype(np.int64)
    service = (np.asarray(inst["service_time"], dtype=float) * s).astype(np.int64)
    n = len(demand) - 1
    return RoutingProblem(
        distance=dist,
        duration=dist,
        demand=demand,
        service=service,
        tw_early=tw[:, 0].copy(),
        tw_late=tw[:, 1].copy(),
        release=np.zeros(n + 1, dtype=np.int64),
        required=np.ones(n + 1, dtype=bool),
        prize=0,
        vehicles=[
            VehicleSpec(
                capacity=(int(inst["capacity"]),),
                tw_early=int(tw[0, 0]),
                tw_late=int(tw[0, 1]),
                num_available=int(inst["vehicles"]),
            )
        ],
        coords=np.asarray(inst["node_coord"], dtype=float),
    )


def _run(problem: RoutingProblem, solver: str, time_limit_s: float, seed: int) -> RawSolution:
    if solver == "pyvrp":
        from dispatch.solver_pyvrp import solve_pyvrp

        return solve_pyvrp(problem, time_limit_s, seed)
    if solver == "ortools":
        from dispatch.solver_ortools import solve_ortools

        return solve_ortools(problem, time_limit_s, seed)
    if solver == "greedy":
        from dispatch.solver_greedy import solve_greedy

        return solve_greedy(problem)
    raise ValueError(f"unknown solver {solver!r}")


def solve_instance(
    path: str | Path, time_limit_s: float = 30.0, seed: int = 1, solver: str = "pyvrp"
) -> dict[str, Any]:
    """Solve one instance. Returns instance (name), cost (in the instance's units; None when some client
    is left unserved), routes (client numbers as in `.sol` files), runtime_s, feasible, vehicles (routes
    used), violations (why it is infeasible, if it is)."""
    started = time.perf_counter()
    problem, scale = load_instance(path, solver)
    raw = _run(problem, solver, time_limit_s, seed)
    runtime = time.perf_counter() - started
    violations = check_solution(problem, raw)
    feasible = not violations
    routes = [list(map(int, r.visits)) for r in raw.routes if r.visits]
    return {
        "instance": Path(path).stem,
        "cost": total_distance(problem, raw) / scale if not raw.unassigned else None,
        "routes": routes,
        "runtime_s": runtime,
        "feasible": feasible,
        "vehicles": len(routes),
        "violations": violations[:10],
        "solver": solver,
    }
