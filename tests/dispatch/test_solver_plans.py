"""Every solver's plan on random but realistic waves passes the independent validator."""

from __future__ import annotations

import random

import pytest
from routing_fixtures import SOLVERS, STORE, parcel, rider

from dispatch import RoutingConfig, Store, plan_routes, validate_plan


def random_wave(seed: int, n_parcels: int, n_riders: int, store: Store = STORE, prefix: str = ""):
    rng = random.Random(seed)
    parcels = [
        parcel(
            f"{prefix}p{i}",
            rng.uniform(-4, 4),
            rng.uniform(-4, 4),
            weight_g=rng.randint(200, 6000),
            volume_ml=rng.randint(300, 8000),
            zone=rng.choice(["ambient"] * 6 + ["chilled"] * 3 + ["frozen"]),
            ready_min=rng.choice([0, 0, 5, 10]),
            due_min=rng.randint(35, 120),
            from_min=rng.choice([None, None, None, 30]),
            store=store,
        )
        for i in range(n_parcels)
    ]
    riders = [
        rider(
            f"{prefix}r{j}",
            capacity_g=rng.choice([12_000, 20_000]),
            cold_ml=rng.choice([0, 15_000, 30_000]),
            shift_min=rng.choice([90, 180, 240]),
            start_min=rng.choice([0, 0, 10]),
            at_km=rng.choice([(0, 0), (0, 0), (1.5, -1)]),
            load_g=rng.choice([0, 0, 2000]),
            store=store,
        )
        for j in range(n_riders)
    ]
    return parcels, riders


@pytest.mark.parametrize("seed", [1, 2])
def test_random_waves_validate_for_every_solver(seed):
    """Mixed temperatures, tight and open promises, late-ready parcels, riders starting away from the
    store or already loaded, too few riders for everything: every solver's plan validates, and each
    parcel is either routed or unassigned with a reason."""
    parcels, riders = random_wave(seed, 40, 5)
    config = RoutingConfig(time_limit_s=1.0, seed=seed)
    objectives = {}
    for solver in SOLVERS:
        plan = plan_routes(parcels, riders, [STORE], config, solver)
        assert validate_plan(plan, parcels, riders, config, [STORE]) == [], solver
        assert len(plan.assigned_ids) + len(plan.unassigned) == len(parcels)
        assert plan.solver == solver and plan.runtime_s > 0
        objectives[solver] = plan.objective
    # Both searches start from far better than nothing; the greedy dispatcher is the floor to beat.
    assert objectives["pyvrp"] <= objectives["greedy"]


def test_two_stores_in_one_call_validate():
    """Two stores planned in one call: plans validate and no parcel crosses stores."""
    other = Store("S2", 31.2000, 121.4400)
    pa, ra = random_wave(3, 15, 3)
    pb, rb = random_wave(4, 15, 3, store=other, prefix="b")
    config = RoutingConfig(time_limit_s=1.0)
    for solver in ("pyvrp", "ortools"):
        plan = plan_routes(pa + pb, ra + rb, [STORE, other], config, solver)
        assert validate_plan(plan, pa + pb, ra + rb, config, [STORE, other]) == []
        assert len({r.rider_id for r in plan.routes}) == len(plan.routes)
