"""The left-out repair pass that follows PyVRP's search."""

from __future__ import annotations

from dataclasses import replace

from routing_fixtures import STORE, T0, parcel, rider

from dispatch import RoutingConfig
from dispatch.encoding import encode
from dispatch.problem import RawRoute, RawSolution, check_solution
from dispatch.repair import insert_left_out


def setup():
    config = RoutingConfig()
    parcels = [parcel("ambient", weight_g=2000), parcel("chilled", zone="chilled", weight_g=2000, km_east=1)]
    riders = [rider("box", capacity_g=3000, cold_ml=10_000), rider("plain", capacity_g=3000)]
    sp = encode(STORE, parcels, riders, config, T0)
    return sp.problem


def test_ejects_a_parcel_to_an_idle_rider_to_make_room():
    """The cold-box rider is full with an ambient parcel and the chilled one is out, while the rider
    without a box is idle: one local move cannot fix it, the repair moves the ambient parcel to the idle
    rider and gives the chilled one to the cold box."""
    problem = setup()
    stuck = RawSolution([RawRoute(0, [1])], [2], 0.0)
    assert check_solution(problem, stuck) == []
    fixed = insert_left_out(problem, stuck)
    assert fixed.unassigned == []
    assert check_solution(problem, fixed) == []
    assert {r.vehicle_type: r.visits for r in fixed.routes} == {0: [2], 1: [1]}


def test_inserts_into_an_idle_rider_and_never_breaks_a_route():
    """A left-out ambient parcel goes straight to the idle rider. A chilled parcel stays out when no
    vehicle has cold-box room even after ejecting (here the box is taken away): the repair never
    produces an infeasible route."""
    problem = setup()
    fixed = insert_left_out(problem, RawSolution([RawRoute(0, [2])], [1], 0.0))
    assert fixed.unassigned == [] and check_solution(problem, fixed) == []

    no_box = setup()
    no_box.vehicles[0] = replace(no_box.vehicles[0], capacity=(3000, 0))
    kept = insert_left_out(no_box, RawSolution([RawRoute(0, [1])], [2], 0.0))
    assert kept.unassigned == [2] and check_solution(no_box, kept) == []
