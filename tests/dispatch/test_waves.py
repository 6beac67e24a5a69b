"""Wave planning over a day: a rider on the road is not planned again before the trip returns, parcels
the riders could not take wait for the next wave, and every wave's plan is valid."""

from __future__ import annotations

from datetime import timedelta

from routing_fixtures import WAVE_STORE, WAVE_T0, parcel_north, rider_at_store

from dispatch.model import Parcel, Rider, RoutingConfig
from dispatch.validate import validate_plan
from dispatch.waves import plan_day, wave_times

STORE, T0 = WAVE_STORE, WAVE_T0
CONFIG = RoutingConfig(time_limit_s=0.3, no_improvement_iters=200)


def parcel(pid: str, minutes: int, north_m: float, weight_g: int = 2000, zone: str = "ambient") -> Parcel:
    return parcel_north(pid, minutes, north_m, weight_g=weight_g, zone=zone, promise_min=90)


def rider(rid: str, capacity_g: int = 10_000) -> Rider:
    return rider_at_store(rid, capacity_g=capacity_g, hours=8)


def test_wave_grid_starts_after_the_first_parcel():
    """Waves fall on a fixed 10-minute grid; the first releases the parcels ready before it."""
    times = wave_times([parcel("a", 3, 500), parcel("b", 24, 500)], 10)
    assert times == [T0 + timedelta(minutes=10), T0 + timedelta(minutes=20), T0 + timedelta(minutes=30)]


def test_parcels_all_ready_on_a_grid_point_get_a_wave():
    """Every parcel ready at 03:00 sharp (a grid point): one wave, the next one, releases them."""
    assert wave_times([parcel("a", 0, 500), parcel("b", 0, 800)], 10) == [T0 + timedelta(minutes=10)]
    day = plan_day([parcel("a", 0, 500)], [rider("r1")], [STORE], 10, CONFIG)
    assert [stop.parcel_id for _, route in day.routes for stop in route.stops] == ["a"]


def test_busy_rider_waits_for_return_and_overflow_carries_to_next_wave():
    """One rider, 8 kg capacity: wave 1 has two 5 kg parcels, so one rides and one waits. The rider is
    back only after the trip, so the waiting parcel goes on a later wave with the same rider, never on a
    trip that overlaps the first."""
    parcels = [parcel("a", 1, 1500, 5000), parcel("b", 2, -1500, 5000)]
    riders = [rider("r1", capacity_g=8000)]
    day = plan_day(parcels, riders, [STORE], wave_minutes=10, config=CONFIG)
    routes = day.routes
    assert day.unassigned == []
    assert sorted(stop.parcel_id for _, route in routes for stop in route.stops) == ["a", "b"]
    first, second = sorted((route for _, route in routes), key=lambda r: r.depart_at)
    assert second.depart_at >= first.return_at
    for wave in day.waves:
        planned = {s.parcel_id for r in wave.plan.routes for s in r.stops} | {p for p, _ in wave.plan.unassigned}
        wave_parcels = [p for p in parcels if p.parcel_id in planned]
        assert validate_plan(wave.plan, wave_parcels, riders, CONFIG, [STORE]) == [] or wave.plan.routes == []


def test_parcel_nobody_can_carry_is_final_not_carried():
    """A cold parcel with no cold-box rider is unassigned once with its reason, not retried every wave."""
    day = plan_day([parcel("cold", 1, 800, zone="frozen")], [rider("r1")], [STORE], wave_minutes=10, config=CONFIG)
    assert day.unassigned == [("cold", "no rider with cold box")]


def test_parcel_waits_for_a_rider_and_is_late_when_none_comes_in_time():
    """With nobody on shift the parcel waits wave after wave; when the first rider starts six hours later
    its 90-minute promise is gone, so it ends 'cannot reach within promise' (a late-risk exception)."""
    off_shift = Rider("r1", "S1", STORE.lat, STORE.lng, T0 + timedelta(hours=6), T0 + timedelta(hours=8), 10_000)
    day = plan_day([parcel("a", 1, 800)], [off_shift], [STORE], wave_minutes=10, config=CONFIG)
    assert [pid for pid, _ in day.unassigned] == ["a"]
    assert day.unassigned[0][1] == "cannot reach within promise"
    assert len(day.waves) == 1  # planned once, when the rider came on shift; earlier waves had nobody
