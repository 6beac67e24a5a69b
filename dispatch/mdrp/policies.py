"""Dispatch policies for the MDRP simulation; they propose trips, the simulation enforces the rules.

- `GreedyPolicy` (baseline): at each order's ready time (or as soon after as a courier is idle), the
  idle on-shift courier that reaches the restaurant first takes it alone.
- `RollingPolicy`: every `period` minutes, over the known orders not yet assigned, bundles orders of
  the same restaurant while every order of the bundle still meets the instance's target click-to-door
  (direct estimate), then matches bundles to idle couriers by earliest pickup, and commits a bundle
  only when its courier would not arrive more than `period` minutes before the food is ready (an
  early commitment would idle the courier and forbid a later, larger bundle). This is a bundling +
  greedy-matching heuristic, not PyVRP: the project's PyVRP encoding (`dispatch/encoding.py`) has one
  depot per problem which every route starts from and returns to, while here couriers start wherever
  their last drop-off was and end at their last customer, and a trip must pick up before it delivers;
  that pickup-and-delivery structure is not what `solve_pyvrp` expresses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dispatch.mdrp.instance import Order
from dispatch.mdrp.simulation import CourierState, Simulation


@dataclass
class GreedyPolicy:
    name: str = "greedy"

    def decide(self, now: int, open_orders: list[Order], idle: list[CourierState], sim: Simulation):
        free = list(idle)
        decisions = []
        for order in sorted((o for o in open_orders if o.ready <= now), key=lambda o: (o.ready, o.id)):
            best, best_key = None, (math.inf, math.inf)
            restaurant = sim.instance.restaurants[order.restaurant].at
            for state in free:
                arrival = now + sim.instance.minutes(state.at, restaurant)
                key = (arrival, sim.instance.metres(state.at, restaurant))
                if max(arrival, order.ready) <= state.courier.off and key < best_key:
                    best, best_key = state, key
            if best is None:
                continue
            free.remove(best)
            decisions.append((best.courier.id, [order.id]))
        return decisions


@dataclass
class RollingPolicy:
    period: int = 5
    name: str = "rolling"

    def decide(self, now: int, open_orders: list[Order], idle: list[CourierState], sim: Simulation):
        if now % self.period:
            return []
        horizon = now + 2 * self.period
        decisions = []
        free = list(idle)
        # More orders due than idle couriers: bundle beyond the on-time test, since a bundle that makes one
        # order a few minutes later beats that order waiting for a courier that is not there.
        due = sum(1 for o in open_orders if o.ready <= horizon)
        overloaded = due > len(idle)
        for bundle in sorted(self._bundles(open_orders, horizon, sim, overloaded), key=self._urgency):
            choice = self._match(bundle, free, now, sim)
            if choice is None:
                continue
            state, trip = choice
            # Waiting for the next epoch is free when the courier would otherwise wait at the restaurant.
            if trip.arrive_restaurant + self.period < max(o.ready for o in bundle) and not self._late(bundle, now, sim):
                continue
            free.remove(state)
            decisions.append((state.courier.id, [o.id for o in bundle]))
        return decisions

    @staticmethod
    def _urgency(bundle: list[Order]) -> tuple[int, str]:
        return min(o.placement for o in bundle), bundle[0].id

    def _late(self, bundle: list[Order], now: int, sim: Simulation) -> bool:
        return any(now - o.placement >= sim.instance.params.target_click_to_door // 2 for o in bundle)

    def _match(self, bundle: list[Order], free: list[CourierState], now: int, sim: Simulation):
        best, best_key = None, None
        ids = [o.id for o in bundle]
        for state in free:
            trip = sim.plan_trip(state, ids, now)
            if trip.pickup > state.courier.off:
                continue
            key = (trip.pickup, trip.metres)
            if best_key is None or key < best_key:
                best, best_key = (state, trip), key
        return best

    def _bundles(self, open_orders: list[Order], horizon: int, sim: Simulation, overloaded: bool) -> list[list[Order]]:
        inst = sim.instance
        by_restaurant: dict[str, list[Order]] = {}
        for order in open_orders:
            if order.ready <= horizon:
                by_restaurant.setdefault(order.restaurant, []).append(order)
        bundles = []
        for restaurant_id, orders in by_restaurant.items():
            restaurant = inst.restaurants[restaurant_id].at
            orders.sort(key=lambda o: (o.ready, o.id))
            current: list[Order] = []
            for order in orders:
                candidate = self._sequence(current + [order], restaurant, sim)
                close = overloaded and order.ready - current[0].ready <= self.period if current else False
                if len(candidate) <= sim.capacity and (close or self._on_time(candidate, restaurant, sim)):
                    current = candidate
                else:
                    if current:
                        bundles.append(current)
                    current = [order]
            if current:
                bundles.append(current)
        return bundles

    def _sequence(self, orders: list[Order], start, sim: Simulation) -> list[Order]:
        """Nearest-neighbour delivery order from the restaurant."""
        left, here, out = list(orders), start, []
        while left:
            nxt = min(left, key=lambda o: (sim.instance.metres(here, o.at), o.id))
            left.remove(nxt)
            out.append(nxt)
            here = nxt.at
        return out

    def _on_time(self, orders: list[Order], restaurant, sim: Simulation) -> bool:
        """Would every order meet the target if picked up the moment the last one is ready?"""
        if len(orders) == 1:
            return True
        params = sim.instance.params
        t, here = max(o.ready for o in orders) + params.pickup_service, restaurant
        for order in orders:
            t += sim.instance.minutes(here, order.at)
            if t - order.placement > params.target_click_to_door:
                return False
            t += params.dropoff_service
            here = order.at
        return True


POLICIES = {"greedy": GreedyPolicy, "rolling": RollingPolicy}
