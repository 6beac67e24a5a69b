"""Rolling-horizon dispatch: holding a parcel for a better bundle, sending it when it must leave, riders
who are out, cold box / capacity / shift, and every parcel accounted for in a plan that validates."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from routing_fixtures import WAVE_STORE, WAVE_T0, parcel_north, rider_at_store

from dispatch.encoding import encode
from dispatch.model import NO_COLD_BOX, OVERWEIGHT, UNREACHABLE, Rider, RoutingConfig
from dispatch.rolling import RiderState, plan_day_rolling, plan_tick, validate_day
from dispatch.solver_pyvrp import solve_pyvrp
from dispatch.waves import plan_day

STORE, T0 = WAVE_STORE, WAVE_T0
CONFIG = RoutingConfig(time_limit_s=0.3, no_improvement_iters=200)
parcel, rider = parcel_north, rider_at_store


def state(r: Rider, free_in_min: float = 0) -> RiderState:
    return replace(RiderState.starting(r, STORE, CONFIG), free_at=T0 + timedelta(minutes=free_in_min))


def test_holding_a_parcel_one_tick_makes_a_better_bundle():
    """Two drops 100 m apart, released 5 minutes apart, one promise an hour out. The first tick holds the
    first parcel (it can wait); the day then rides one trip for both, where 5-minute waves ride two."""
    first = plan_tick(T0 + timedelta(minutes=5), [parcel("a", 1, 2000)], [state(rider("r1"))], STORE, CONFIG)
    assert first.leave_now == [] and first.waiting == ["a"] and first.unassignable == []

    parcels = [parcel("a", 1, 2000), parcel("b", 6, 2100)]
    riders = [rider("r1")]
    day = plan_day_rolling(parcels, riders, [STORE], 5, CONFIG)
    assert [[s.parcel_id for s in r.stops] for _, r in day.routes] in (
        [["a", "b"]],
        [["b", "a"]],
    )
    waves = plan_day(parcels, riders, [STORE], 5, CONFIG)
    assert len(waves.routes) == 2
    rolling_m = sum(r.distance_m for _, r in day.routes)
    assert rolling_m < sum(r.distance_m for _, r in waves.routes)
    assert validate_day(day, parcels, riders, CONFIG, [STORE]) == []


def test_a_parcel_that_would_be_late_after_one_more_tick_leaves_now():
    """About 16 minutes away (3.1 km, x 1.3 detour, at 15 km/h) with 20 minutes to its promise: waiting five
    more minutes would make it late, so it leaves at this tick."""
    now = T0 + timedelta(minutes=5)
    urgent = parcel("u", 0, 3100, promise_min=25)
    decision = plan_tick(now, [urgent], [state(rider("r1"))], STORE, CONFIG, tick_minutes=5)
    assert [[s.parcel_id for s in r.stops] for r in decision.leave_now] == [["u"]]
    assert decision.leave_now[0].depart_at == now and decision.waiting == []


def test_commit_slack_sends_a_route_earlier():
    """The same parcel with 50 minutes left is held at slack 0 but sent with a 30-minute commit slack."""
    now = T0 + timedelta(minutes=5)
    relaxed = parcel("u", 0, 3100, promise_min=55)
    held = plan_tick(now, [relaxed], [state(rider("r1"))], STORE, CONFIG, tick_minutes=5)
    assert held.leave_now == [] and held.waiting == ["u"]
    sent = plan_tick(now, [relaxed], [state(rider("r1"))], STORE, CONFIG, tick_minutes=5, commit_slack_minutes=30)
    assert len(sent.leave_now) == 1


def test_a_rider_who_is_out_is_not_planned_before_the_tick_after_its_return():
    """The only rider is back in 12 minutes; with 5-minute ticks it is planned from minute 15, and nothing
    leaves now even for an urgent parcel."""
    urgent = parcel("u", 0, 1500, promise_min=40)
    decision = plan_tick(T0, [urgent], [state(rider("r1"), free_in_min=12)], STORE, CONFIG, tick_minutes=5)
    assert decision.leave_now == []
    assert [r.depart_at for r in decision.held] == [T0 + timedelta(minutes=15)]
    assert decision.waiting == ["u"]


def test_cold_box_capacity_and_shift_are_respected():
    """A frozen parcel goes only to the cold-box rider; a 12 kg parcel to nobody with 10 kg; a frozen
    parcel with no cold box anywhere is reported; a rider whose shift ends in 10 minutes takes nothing
    that brings it back later."""
    now = T0 + timedelta(minutes=5)
    waiting = [
        parcel("frozen", 0, 1500, zone="frozen", promise_min=25),
        parcel("heavy", 0, 1500, weight_g=12_000, promise_min=25),
        parcel("far", 0, 2500, promise_min=25),
    ]
    plain, cold = rider("plain"), rider("cold", cold_ml=20_000)
    short_shift = rider("short", hours=0.25)
    decision = plan_tick(now, waiting, [state(plain), state(cold), state(short_shift)], STORE, CONFIG)
    by_rider = {r.rider_id: [s.parcel_id for s in r.stops] for r in decision.leave_now + decision.held}
    assert "frozen" in by_rider.get("cold", [])
    assert "short" not in by_rider
    assert ("heavy", OVERWEIGHT) in decision.unassignable

    only_plain = plan_tick(now, waiting[:1], [state(plain)], STORE, CONFIG)
    assert only_plain.unassignable == [("frozen", NO_COLD_BOX)]


def test_every_parcel_is_delivered_or_reported_and_the_day_validates():
    """A busy hour for two riders: 24 parcels, a third of them cold, a few out of reach. Every parcel ends
    in exactly one committed route or in `unassigned` with a reason; the day validates as a whole."""
    parcels = []
    for i in range(24):
        zone = "chilled" if i % 3 == 0 else "ambient"
        north = ((i * 737) % 5000) - 2500
        parcels.append(parcel(f"p{i:02d}", 2.5 * i, north, weight_g=1500 + 300 * (i % 5), zone=zone, promise_min=45))
    parcels.append(parcel("unreachable", 10, 20_000, promise_min=45))
    riders = [rider("r1", cold_ml=20_000), rider("r2")]
    day = plan_day_rolling(parcels, riders, [STORE], 5, CONFIG)
    assert validate_day(day, parcels, riders, CONFIG, [STORE]) == []
    delivered = {s.parcel_id for _, r in day.routes for s in r.stops}
    assert delivered | {p for p, _ in day.unassigned} == {p.parcel_id for p in parcels}
    assert ("unreachable", UNREACHABLE) in day.unassigned
    assert all(wave.wave_at == r.depart_at for wave in day.waves for r in wave.plan.routes)


def test_validate_day_catches_overlapping_trips():
    parcels = [parcel("a", 1, 2000, weight_g=6000), parcel("b", 2, -2000, weight_g=6000)]
    riders = [rider("r1"), rider("r2")]
    day = plan_day_rolling(parcels, riders, [STORE], 5, CONFIG, commit_slack_minutes=60)
    assert len(day.routes) == 2
    for wave in day.waves:
        wave.plan.routes = [replace(r, rider_id="r1") for r in wave.plan.routes]
    errors = validate_day(day, parcels, riders, CONFIG, [STORE])
    assert any("before back from a trip" in e for e in errors) or any("has 2 routes" in e for e in errors)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="other stores"):
        plan_tick(T0, [replace(parcel("a", 0, 100), store_id="S2")], [], STORE, CONFIG)
    with pytest.raises(ValueError, match="tick_minutes"):
        plan_tick(T0, [], [], STORE, CONFIG, tick_minutes=0)


def test_trip_cap_and_parallel_searches_keep_plans_feasible():
    """A hard 30-minute trip cap splits six drops 2-3 km out over two riders rather than one long trip;
    two parallel searches return a plan as feasible as one."""
    waiting = [parcel(f"c{i}", 0, 2000 + 100 * i, weight_g=1000, promise_min=120) for i in range(6)]
    riders = [rider("r1"), rider("r2")]
    capped = replace(CONFIG, trip_cap_s=30 * 60)
    sp = encode(STORE, waiting, riders, capped, T0)
    raw = solve_pyvrp(sp.problem, 0.3, 1, 200)
    assert not raw.unassigned and len(raw.routes) == 2
    uncapped = solve_pyvrp(encode(STORE, waiting, riders, CONFIG, T0).problem, 0.3, 1, 200)
    assert len(uncapped.routes) == 1
    both = solve_pyvrp(sp.problem, 0.3, 1, 200, workers=2)
    assert not both.unassigned and len(both.routes) == 2
