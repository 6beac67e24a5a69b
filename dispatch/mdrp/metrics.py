"""The MDRP paper's performance measures, computed from a run's trips (not from the policy).

Definitions follow Reyes et al. (2018) and the dataset's reference evaluator
(grubhub/mdrplib MDRP_code/compute_performance_summary.py): click-to-door = drop-off - placement,
ready-to-door = drop-off - ready, ready-to-pickup = pickup - ready; on time = click-to-door <= the
instance's target; orders per courier-hour = delivered orders / paid courier hours (sum of shift
lengths, whether or not a courier worked); a courier is paid max(orders x pay per order, shift hours x
guaranteed pay per hour). Distances are the instance's metres (euclidean), reported as km.
"""

from __future__ import annotations

import statistics
from collections import Counter

from dispatch.mdrp.simulation import Run


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "median": None, "p90": None, "max": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {
        "mean": round(statistics.fmean(ordered), 2),
        "median": float(statistics.median(ordered)),
        "p90": float(p90),
        "max": float(ordered[-1]),
    }


def metrics(run: Run) -> dict:
    inst, params = run.instance, run.instance.params
    click, ready, wait, prep = [], [], [], []
    orders_by_courier: Counter[str] = Counter()
    for trip in run.trips:
        orders_by_courier[trip.courier] += len(trip.orders)
        for order_id, dropoff in zip(trip.orders, trip.dropoffs):
            order = inst.orders[order_id]
            click.append(dropoff - order.placement)
            ready.append(dropoff - order.ready)
            wait.append(trip.pickup - order.ready)
            prep.append(order.ready - order.placement)
    delivered = len(click)
    paid_hours = sum(c.paid_minutes for c in inst.couriers.values()) / 60
    payment = sum(
        max(orders_by_courier[c.id] * params.pay_per_order, c.paid_minutes / 60 * params.guaranteed_pay_per_hour)
        for c in inst.couriers.values()
    )
    km = sum(t.metres for t in run.trips) / 1000
    return {
        "instance": inst.name,
        "policy": run.policy,
        "orders": len(inst.orders),
        "delivered": delivered,
        "undelivered": len(run.unassigned),
        "undelivered_reasons": dict(Counter(run.unassigned.values())),
        "on_time_pct": round(100 * sum(c <= params.target_click_to_door for c in click) / delivered, 2)
        if delivered
        else None,
        "target_click_to_door_min": params.target_click_to_door,
        "over_maximum_click_to_door": sum(c > params.maximum_click_to_door for c in click),
        "click_to_door_min": _summary(click),
        "ready_to_door_min": _summary(ready),
        "ready_to_pickup_min": _summary(wait),
        # the share Yildiz & Savelsbergh (2019) report as about 80% in their offline solutions
        "preparation_share_of_click_to_door": round(sum(prep) / sum(click), 3) if delivered else None,
        "orders_per_courier_hour": round(delivered / paid_hours, 3) if paid_hours else None,
        "paid_courier_hours": round(paid_hours, 2),
        "km_per_order": round(km / delivered, 3) if delivered else None,
        "km_total": round(km, 1),
        "trips": len(run.trips),
        "orders_per_trip": round(delivered / len(run.trips), 3) if run.trips else None,
        "courier_payment": round(payment, 2),
        "cost_per_order": round(payment / delivered, 2) if delivered else None,
        "capacity": run.capacity,
    }
