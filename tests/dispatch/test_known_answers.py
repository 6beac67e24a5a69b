"""Small handmade waves whose right answer is known, run through every solver."""

from __future__ import annotations

from datetime import timedelta

import pytest
from routing_fixtures import SOLVERS, STORE, T0, parcel, rider

from dispatch import (
    NO_COLD_BOX,
    NOT_SELECTED,
    OVERWEIGHT,
    UNREACHABLE,
    Plan,
    RoutingConfig,
    Store,
    plan_routes,
    validate_plan,
)


def solve(parcels, riders, config, solver) -> Plan:
    plan = plan_routes(parcels, riders, [STORE], config, solver)
    assert validate_plan(plan, parcels, riders, config, [STORE]) == []
    return plan


def rider_of(plan: Plan) -> dict[str, str]:
    return {s.parcel_id: r.rider_id for r in plan.routes for s in r.stops}


@pytest.mark.parametrize("solver", SOLVERS)
def test_cold_parcel_without_any_cold_box_is_unassigned(solver, config):
    """A chilled parcel when no rider has a cold box is reported 'no rider with cold box', while the
    ambient parcel beside it is still delivered."""
    parcels = [parcel("cold", zone="chilled"), parcel("dry")]
    plan = solve(parcels, [rider("R1", cold_ml=0)], config, solver)
    assert plan.unassigned == [("cold", NO_COLD_BOX)]
    assert rider_of(plan) == {"dry": "R1"}


@pytest.mark.parametrize("solver", SOLVERS)
def test_cold_parcels_go_to_the_rider_with_a_cold_box(solver, config):
    """With one rider lacking a cold box, chilled and frozen parcels all end up with the cold-box rider
    — also a frozen parcel recorded with volume 0, which must still claim the cold box."""
    parcels = [
        parcel("chilled", zone="chilled", km_east=1),
        parcel("frozen0", zone="frozen", volume_ml=0),
        parcel("dry", km_north=-1),
    ]
    riders = [rider("plain", cold_ml=0), rider("box", cold_ml=10_000)]
    plan = solve(parcels, riders, config, solver)
    assert plan.unassigned == []
    assigned = rider_of(plan)
    assert assigned["chilled"] == "box" and assigned["frozen0"] == "box"


@pytest.mark.parametrize("solver", SOLVERS)
def test_cold_box_capacity_is_a_limit(solver, config):
    """Two 6-litre chilled parcels and one 10-litre cold box: only one fits, the other is left to the
    solver ('not selected by solver'), never squeezed in."""
    parcels = [parcel("c1", zone="chilled", volume_ml=6000), parcel("c2", zone="chilled", volume_ml=6000, km_east=0.5)]
    plan = solve(parcels, [rider("box", cold_ml=10_000), rider("plain")], config, solver)
    assert len(plan.assigned_ids) == 1
    assert [reason for _, reason in plan.unassigned] == [NOT_SELECTED]


@pytest.mark.parametrize("solver", SOLVERS)
def test_overweight_for_every_rider(solver, config):
    """A 20 kg parcel with 15 kg and 10 kg riders, and an 8 kg parcel when the only big rider already
    carries 10 kg of its 15: both are 'overweight for every rider'."""
    plan = solve(
        [parcel("heavy", weight_g=20_000)],
        [rider("R1", capacity_g=15_000), rider("R2", capacity_g=10_000)],
        config,
        solver,
    )
    assert plan.unassigned == [("heavy", OVERWEIGHT)] and plan.routes == []
    plan = solve([parcel("p", weight_g=8_000)], [rider("R1", capacity_g=15_000, load_g=10_000)], config, solver)
    assert plan.unassigned == [("p", OVERWEIGHT)]


@pytest.mark.parametrize("solver", SOLVERS)
def test_unreachable_promise(solver, config):
    """10 km away (13 km of road, 52 min at 15 km/h) but promised within 20 min: 'cannot reach within
    promise'. Also a parcel whose rider could deliver in time but not be back before the shift ends."""
    plan = solve([parcel("far", km_north=10, due_min=20), parcel("near", due_min=20)], [rider("R1")], config, solver)
    assert plan.unassigned == [("far", UNREACHABLE)]
    assert rider_of(plan) == {"near": "R1"}
    plan = solve([parcel("p", km_north=5, due_min=90)], [rider("R1", shift_min=40)], config, solver)
    assert plan.unassigned == [("p", UNREACHABLE)]


@pytest.mark.parametrize("solver", SOLVERS)
def test_capacity_forces_two_riders(solver, config):
    """Two 8 kg parcels at the same door and riders of 10 kg each: both are delivered, one per rider."""
    parcels = [parcel("a", weight_g=8000), parcel("b", weight_g=8000)]
    plan = solve(parcels, [rider("R1", capacity_g=10_000), rider("R2", capacity_g=10_000)], config, solver)
    assert plan.unassigned == []
    assert sorted(len(r.stops) for r in plan.routes) == [1, 1]
    assert {r.rider_id for r in plan.routes} == {"R1", "R2"}


@pytest.mark.parametrize("solver", SOLVERS)
def test_short_shift_leaves_one_parcel_to_the_solver(solver, config):
    """One rider with a 40-minute shift and parcels 3 km north and 3 km south: each alone is a
    33-minute round trip, both together 66 minutes. Exactly one is delivered; the other is 'not selected
    by solver' (it passed screening, so it is the solver's choice)."""
    parcels = [parcel("north", km_north=3), parcel("south", km_north=-3)]
    plan = solve(parcels, [rider("R1", shift_min=40)], config, solver)
    assert len(plan.assigned_ids) == 1
    assert [reason for _, reason in plan.unassigned] == [NOT_SELECTED]


@pytest.mark.parametrize("solver", SOLVERS)
def test_ready_time_promise_window_and_rider_start_position(solver, config):
    """Timing: the rider starts 3 km from the store (3.9 km of road = 936 s back), a parcel is only
    ready 30 min in, and the customer wants it no earlier than 60 min. The route leaves at the later of
    the two, arrives early, waits for the window, and is back at the store after the last service."""
    p = parcel("p", km_north=1, ready_min=30, from_min=60, due_min=120)
    r = rider("R1", at_km=(3, 0))
    plan = solve([p], [r], config, solver)
    (route,) = plan.routes
    assert route.depart_at == T0 + timedelta(minutes=30)
    stop = route.stops[0]
    assert stop.arrival == T0 + timedelta(minutes=30, seconds=312)
    assert stop.departure == T0 + timedelta(minutes=60, seconds=120)
    assert route.return_at == stop.departure + timedelta(seconds=312)
    assert route.distance_m == 2600

    late_start = rider("R2", at_km=(3, 0), start_min=25)  # reaches the store at 25:00 + 936 s, after 30:00
    plan = solve([p], [late_start], config, solver)
    assert plan.routes[0].depart_at == T0 + timedelta(minutes=25, seconds=936)


def test_riders_stay_with_their_store(config):
    """Two stores far apart, each with one rider: every parcel is carried by its own store's rider."""
    other = Store("S2", 31.30, 121.55)
    parcels = [parcel("a1"), parcel("a2", km_east=1), parcel("b1", store=other), parcel("b2", km_east=-1, store=other)]
    riders = [rider("RA"), rider("RB", store=other)]
    for solver in SOLVERS:
        plan = plan_routes(parcels, riders, [STORE, other], config, solver)
        assert validate_plan(plan, parcels, riders, config, [STORE, other]) == []
        assert rider_of(plan) == {"a1": "RA", "a2": "RA", "b1": "RB", "b2": "RB"}


def test_input_errors_are_refused():
    """Parcels of an unknown store, duplicate ids and unknown solvers are caller errors, not unassigned
    parcels."""
    cfg = RoutingConfig(time_limit_s=1)
    with pytest.raises(ValueError, match="unknown stores"):
        plan_routes([parcel("x", store=Store("S9", 31.0, 121.0))], [rider("R1")], [STORE], cfg, "greedy")
    with pytest.raises(ValueError, match="duplicate parcel_id"):
        plan_routes([parcel("x"), parcel("x")], [rider("R1")], [STORE], cfg, "greedy")
    with pytest.raises(ValueError, match="unknown solver"):
        plan_routes([parcel("x")], [rider("R1")], [STORE], cfg, "cplex")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="temp_zone"):
        parcel("x", zone="warm")
