"""Planning a wave: parcels and riders in, a `Plan` out, with PyVRP, OR-Tools or the greedy baseline.

Each store is planned on its own (its riders start and end there); `config.time_limit_s` applies to
each store's search. Solver backends are imported only when used, because OR-Tools and PyVRP are heavy
to import.
"""

from __future__ import annotations

import time
from collections import defaultdict

from dispatch.encoding import StoreProblem, decode, encode
from dispatch.model import NOT_SELECTED, Parcel, Plan, Rider, Route, RoutingConfig, SolverName, Store
from dispatch.problem import RawSolution, check_solution

SOLVERS: tuple[str, ...] = ("pyvrp", "ortools", "greedy")


def run_backend(sp: StoreProblem, config: RoutingConfig, solver: str) -> RawSolution:
    if solver == "pyvrp":
        from dispatch.solver_pyvrp import solve_pyvrp

        return solve_pyvrp(sp.problem, config.time_limit_s, config.seed, config.no_improvement_iters, config.workers)
    if solver == "ortools":
        from dispatch.solver_ortools import solve_ortools

        return solve_ortools(sp.problem, config.time_limit_s, config.seed)
    if solver == "greedy":
        from dispatch.solver_greedy import solve_greedy

        return solve_greedy(sp.problem)
    raise ValueError(f"unknown solver {solver!r}; expected one of {SOLVERS}")


def plan_routes(
    parcels: list[Parcel],
    riders: list[Rider],
    stores: list[Store],
    config: RoutingConfig | None = None,
    solver: SolverName = "pyvrp",
) -> Plan:
    """Plan every store's parcels with its own riders. Parcels no rider can deliver are screened out
    with a reason before solving; parcels the solver leaves out are 'not selected by solver'."""
    config = config or RoutingConfig()
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; expected one of {SOLVERS}")
    started = time.perf_counter()
    by_id = {s.store_id: s for s in stores}
    unknown = sorted({x.store_id for x in [*parcels, *riders]} - by_id.keys())
    if unknown:
        raise ValueError(f"parcels or riders of unknown stores: {unknown}")
    if len({p.parcel_id for p in parcels}) != len(parcels):
        raise ValueError("duplicate parcel_id in input")
    if len({r.rider_id for r in riders}) != len(riders):
        raise ValueError("duplicate rider_id in input")
    times = [p.ready_at for p in parcels] + [r.shift_start for r in riders]
    origin = min(times) if times else None

    parcels_of: dict[str, list[Parcel]] = defaultdict(list)
    riders_of: dict[str, list[Rider]] = defaultdict(list)
    for p in parcels:
        parcels_of[p.store_id].append(p)
    for r in riders:
        riders_of[r.store_id].append(r)

    routes: list[Route] = []
    unassigned: list[tuple[str, str]] = []
    notes: list[str] = []
    for store_id, store_parcels in parcels_of.items():
        assert origin is not None
        sp = encode(by_id[store_id], store_parcels, riders_of[store_id], config, origin)
        unassigned += sp.screened_out
        notes += sp.notes
        if not sp.parcels:
            continue
        raw = run_backend(sp, config, solver)
        errors = check_solution(sp.problem, raw)
        if errors:
            # A backend answer that breaks the model's own constraints is a bug, never something to ship.
            raise RuntimeError(f"{solver} returned an infeasible plan for store {store_id}: {errors[:5]}")
        notes += raw.notes
        routes += decode(sp, raw)
        unassigned += [(sp.parcels[v - 1].parcel_id, NOT_SELECTED) for v in raw.unassigned]

    objective = sum(r.distance_m for r in routes) + config.unassigned_penalty * len(unassigned)
    return Plan(
        routes=routes,
        unassigned=unassigned,
        objective=float(objective),
        solver=solver,
        runtime_s=time.perf_counter() - started,
        notes=notes,
    )


def plan_pyvrp(
    parcels: list[Parcel], riders: list[Rider], stores: list[Store], config: RoutingConfig | None = None
) -> Plan:
    return plan_routes(parcels, riders, stores, config, "pyvrp")


def plan_ortools(
    parcels: list[Parcel], riders: list[Rider], stores: list[Store], config: RoutingConfig | None = None
) -> Plan:
    return plan_routes(parcels, riders, stores, config, "ortools")


def plan_greedy(
    parcels: list[Parcel], riders: list[Rider], stores: list[Store], config: RoutingConfig | None = None
) -> Plan:
    return plan_routes(parcels, riders, stores, config, "greedy")
