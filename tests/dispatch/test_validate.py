"""`validate_plan` is the independent referee of every plan, so each rule it enforces is shown here to
fire on a plan broken in exactly that way (a validator that always returns [] would fail these)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from routing_fixtures import STORE, parcel, rider

from dispatch import Plan, plan_greedy, validate_plan


@pytest.fixture
def base(config):
    """A valid greedy plan: rider 'box' (with a cold box) carries a chilled and an ambient parcel, and a
    third parcel is left unassigned (no rider with cold box large enough)."""
    parcels = [
        parcel("c", zone="chilled", volume_ml=3000),
        parcel("a", km_east=1, weight_g=4000),
        parcel("huge", zone="frozen", volume_ml=50_000),
    ]
    riders = [rider("box", capacity_g=10_000, cold_ml=5000)]
    plan = plan_greedy(parcels, riders, [STORE], config)
    assert validate_plan(plan, parcels, riders, config, [STORE]) == []
    assert len(plan.routes) == 1 and len(plan.routes[0].stops) == 2 and len(plan.unassigned) == 1
    return plan, parcels, riders, config


def errors(plan: Plan, parcels, riders, config) -> str:
    return "\n".join(validate_plan(plan, parcels, riders, config, [STORE]))


def with_route(plan: Plan, **changes) -> Plan:
    return replace(plan, routes=[replace(plan.routes[0], **changes)])


def test_capacity(base):
    plan, parcels, riders, config = base
    assert "capacity exceeded" in errors(plan, parcels, [replace(riders[0], capacity_g=4500)], config)
    assert "capacity exceeded" in errors(plan, parcels, [replace(riders[0], current_load_g=7000)], config)


def test_cold_parcel_on_rider_without_cold_box_and_cold_box_capacity(base):
    plan, parcels, riders, config = base
    assert "without a cold box" in errors(plan, parcels, [replace(riders[0], cold_box_capacity_ml=0)], config)
    assert "cold box over capacity" in errors(plan, parcels, [replace(riders[0], cold_box_capacity_ml=2000)], config)


def test_late_arrival_and_shift_end(base):
    plan, parcels, riders, config = base
    first = plan.routes[0].stops[0]
    tight = [
        replace(p, promised_to=first.arrival - timedelta(seconds=1)) if p.parcel_id == first.parcel_id else p
        for p in parcels
    ]
    assert "after promised_to" in errors(plan, tight, riders, config)
    short = [replace(riders[0], shift_end=plan.routes[0].return_at - timedelta(seconds=1))]
    assert "after shift end" in errors(plan, parcels, short, config)


def test_served_twice_and_missing(base):
    plan, parcels, riders, config = base
    stops = plan.routes[0].stops
    twice = with_route(plan, stops=stops + [replace(stops[0], seq=3)])
    assert "served 2 times" in errors(twice, parcels, riders, config)
    missing = replace(plan, unassigned=[])
    assert "missing from both" in errors(missing, parcels, riders, config)
    both = replace(plan, unassigned=plan.unassigned + [(stops[0].parcel_id, "not selected by solver")])
    assert "both served and unassigned" in errors(both, parcels, riders, config)


def test_impossible_timing(base):
    plan, parcels, riders, config = base
    route = plan.routes[0]
    fast = with_route(
        plan, stops=[replace(route.stops[0], arrival=route.depart_at + timedelta(seconds=10))] + route.stops[1:]
    )
    assert "cannot before" in errors(fast, parcels, riders, config)
    not_ready = [replace(p, ready_at=route.depart_at + timedelta(minutes=5)) for p in parcels]
    assert "before parcel" in errors(plan, not_ready, riders, config)
    early = with_route(plan, depart_at=route.depart_at - timedelta(minutes=5))
    assert "before its shift starts" in errors(early, parcels, riders, config)


def test_reported_totals_must_match(base):
    plan, parcels, riders, config = base
    route = plan.routes[0]
    assert "reported distance" in errors(with_route(plan, distance_m=route.distance_m - 100), parcels, riders, config)
    assert "reported load" in errors(with_route(plan, load_g=route.load_g + 1), parcels, riders, config)
    assert "reported duration" in errors(with_route(plan, duration_s=route.duration_s + 1), parcels, riders, config)
