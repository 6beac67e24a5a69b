"""A day of an MDRP instance replayed minute by minute on the instance's own clock.

The simulation owns the rules and the clock; a policy only proposes trips. Each minute: orders placed
by now become known; couriers are on shift from `on` to `off`; an idle, on-shift courier can be given
one trip = a bundle of known, unassigned orders of one restaurant (at most `capacity` of them) and a
delivery sequence. A committed trip is fixed (no re-routing afterwards). Its timeline:

- the courier drives from where it is to the restaurant (ceil(metres / meters_per_minute) minutes);
- pickup happens at max(arrival, latest ready time) and must not be after the courier's `off` time
  (the reference evaluator's rule; deliveries may finish after `off`, as in the dataset's definition);
- the courier then spends `pickup service minutes` there and drives to each customer in turn; an
  order's drop-off time is the arrival at its customer, after which `dropoff service minutes` pass
  before it drives on. This keeps successive drop-offs at least one drop-off service apart, which the
  reference evaluator checks; how the paper splits service time around the hand-over is not in the
  instance files, so this choice is ours.
- after the last drop-off the courier waits where it is (no repositioning).

Orders still unassigned when the last shift ends are reported with a reason, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from dispatch.mdrp.instance import Courier, Instance, Order, Point

DEFAULT_CAPACITY = 3  # orders per trip; not in the instance files, so a simulation setting (see decisions)

REASON_NO_SHIFT = "no courier on shift at or after the order's placement"
REASON_UNREACHABLE = "no courier could reach the restaurant before its shift ended"
REASON_BUSY = "couriers on shift were busy until their shifts ended"


@dataclass(frozen=True)
class Trip:
    courier: str
    orders: tuple[str, ...]  # delivery sequence
    assigned_at: int
    arrive_restaurant: int
    pickup: int
    dropoffs: tuple[int, ...]  # one per order, same order
    end_at: int
    metres: float
    end_point: Point


@dataclass
class CourierState:
    courier: Courier
    at: Point
    free_at: int

    def idle(self, now: int) -> bool:
        return self.courier.on <= now < self.courier.off and self.free_at <= now


class Policy(Protocol):
    name: str

    def decide(
        self, now: int, open_orders: list[Order], idle: list[CourierState], sim: Simulation
    ) -> list[tuple[str, list[str]]]:
        """Trips to start now: (courier id, order ids in delivery sequence)."""
        ...


@dataclass
class Run:
    instance: Instance
    policy: str
    capacity: int
    trips: list[Trip] = field(default_factory=list)
    unassigned: dict[str, str] = field(default_factory=dict)  # order id -> reason


class Simulation:
    def __init__(self, instance: Instance, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least one order")
        self.instance = instance
        self.capacity = capacity
        self.couriers = {c.id: CourierState(c, c.at, c.on) for c in instance.couriers.values()}
        self.assigned: set[str] = set()

    def plan_trip(self, state: CourierState, order_ids: list[str], now: int) -> Trip:
        """The timeline a trip would have if started now; pure, so policies can use it to estimate."""
        inst = self.instance
        orders = [inst.orders[o] for o in order_ids]
        restaurant = inst.restaurants[orders[0].restaurant].at
        metres = inst.metres(state.at, restaurant)
        arrive = now + inst.minutes(state.at, restaurant)
        pickup = max(arrive, max(o.ready for o in orders))
        t, here, dropoffs = pickup + inst.params.pickup_service, restaurant, []
        for order in orders:
            metres += inst.metres(here, order.at)
            t += inst.minutes(here, order.at)
            dropoffs.append(t)
            t += inst.params.dropoff_service
            here = order.at
        return Trip(state.courier.id, tuple(order_ids), now, arrive, pickup, tuple(dropoffs), t, metres, here)

    def commit(self, courier_id: str, order_ids: list[str], now: int) -> Trip:
        """Start a trip, enforcing every rule; a policy that breaks one is a bug, so this raises."""
        state = self.couriers.get(courier_id)
        if state is None or not state.idle(now):
            raise ValueError(f"t={now}: courier {courier_id} is not idle and on shift")
        if not 1 <= len(order_ids) <= self.capacity or len(set(order_ids)) != len(order_ids):
            raise ValueError(f"t={now}: trip of {len(order_ids)} orders breaks capacity {self.capacity}")
        orders = [self.instance.orders[o] for o in order_ids]
        if len({o.restaurant for o in orders}) != 1:
            raise ValueError(f"t={now}: a trip picks up at one restaurant only")
        for order in orders:
            if order.id in self.assigned or order.placement > now:
                raise ValueError(f"t={now}: order {order.id} is already assigned or not yet placed")
        trip = self.plan_trip(state, order_ids, now)
        if trip.pickup > state.courier.off:
            raise ValueError(f"t={now}: courier {courier_id} would pick up after its shift ends")
        self.assigned.update(order_ids)
        state.at, state.free_at = trip.end_point, trip.end_at
        return trip

    def run(self, policy: Policy) -> Run:
        inst = self.instance
        result = Run(inst, policy.name, self.capacity)
        by_placement = sorted(inst.orders.values(), key=lambda o: (o.placement, o.id))
        start = min([o.placement for o in by_placement] + [c.on for c in inst.couriers.values()], default=0)
        end = max((c.off for c in inst.couriers.values()), default=start)
        known: list[Order] = []
        next_order = 0
        for now in range(start, end + 1):
            while next_order < len(by_placement) and by_placement[next_order].placement <= now:
                known.append(by_placement[next_order])
                next_order += 1
            open_orders = [o for o in known if o.id not in self.assigned]
            if not open_orders:
                continue
            idle = [s for s in self.couriers.values() if s.idle(now)]
            if not idle:
                continue
            for courier_id, order_ids in policy.decide(now, open_orders, idle, self):
                result.trips.append(self.commit(courier_id, order_ids, now))
        for order in inst.orders.values():
            if order.id not in self.assigned:
                result.unassigned[order.id] = self.reason(order)
        return result

    def reason(self, order: Order) -> str:
        inst = self.instance
        restaurant = inst.restaurants[order.restaurant].at
        on_shift = [c for c in inst.couriers.values() if c.off >= order.placement]
        if not on_shift:
            return REASON_NO_SHIFT
        # Best case for each courier: idle at its start point from the later of its start and the placement.
        reachable = [c for c in on_shift if max(c.on, order.placement) + inst.minutes(c.at, restaurant) <= c.off]
        return REASON_BUSY if reachable else REASON_UNREACHABLE


def check_run(run: Run) -> list[str]:
    """Independent re-check of a run's accounting; returns the violations (empty when sound)."""
    inst, problems = run.instance, []
    seen: dict[str, int] = {}
    for trip in run.trips:
        courier = inst.couriers[trip.courier]
        if len(trip.orders) > run.capacity:
            problems.append(f"{trip.courier}: {len(trip.orders)} orders over capacity {run.capacity}")
        if not courier.on <= trip.assigned_at < courier.off or trip.pickup > courier.off:
            problems.append(f"{trip.courier}: trip at {trip.assigned_at} or pickup {trip.pickup} outside shift")
        times = [trip.assigned_at, trip.arrive_restaurant, trip.pickup, *trip.dropoffs, trip.end_at]
        if times != sorted(times):
            problems.append(f"{trip.courier}: times not monotone {times}")
        for order_id in trip.orders:
            order = inst.orders[order_id]
            seen[order_id] = seen.get(order_id, 0) + 1
            if trip.assigned_at < order.placement or trip.pickup < order.ready:
                problems.append(f"{order_id}: assigned before placement or picked up before ready")
    by_courier: dict[str, list[Trip]] = {}
    for trip in run.trips:
        by_courier.setdefault(trip.courier, []).append(trip)
    for courier_id, trips in by_courier.items():
        trips.sort(key=lambda t: t.assigned_at)
        for a, b in zip(trips, trips[1:]):
            if b.assigned_at < a.end_at:
                problems.append(f"{courier_id}: trip at {b.assigned_at} starts before the previous ends {a.end_at}")
        problems += _replay_courier(run, courier_id, trips)
    for order_id in inst.orders:
        delivered, reported = seen.get(order_id, 0), order_id in run.unassigned
        if delivered + int(reported) != 1:
            problems.append(f"{order_id}: delivered {delivered} times, reported {reported}")
    return problems


def _replay_courier(run: Run, courier_id: str, trips: list[Trip]) -> list[str]:
    """Recompute each trip's times and metres from the instance alone, starting where the courier starts."""
    inst, problems = run.instance, []
    p = inst.params
    here = inst.couriers[courier_id].at
    for trip in trips:
        orders = [inst.orders[o] for o in trip.orders]
        restaurant = inst.restaurants[orders[0].restaurant].at
        arrive = trip.assigned_at + inst.minutes(here, restaurant)
        metres = inst.metres(here, restaurant)
        t = max(arrive, *(o.ready for o in orders)) + p.pickup_service
        dropoffs, here = [], restaurant
        for order in orders:
            t += inst.minutes(here, order.at)
            metres += inst.metres(here, order.at)
            dropoffs.append(t)
            t += p.dropoff_service
            here = order.at
        if (arrive, tuple(dropoffs), t) != (trip.arrive_restaurant, trip.dropoffs, trip.end_at) or abs(
            metres - trip.metres
        ) > 1e-6:
            problems.append(f"{courier_id}: trip at {trip.assigned_at} does not match its recomputed timeline")
    return problems
