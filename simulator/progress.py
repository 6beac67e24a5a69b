"""Status progress of a simulated day: what happens to an order after its first push.

The first push carries the order as placed (paid). Later the channel pushes the SAME order again, in its
own format, with the new status and the channel's status time: our app and mini-program set `status` and
`updated_at`, Meituan `status` 4 (confirmed, i.e. picking) / 8 (completed) with `utime`, Eleme the OOrder
`status` valid / settled in an envelope stamped with `timestamp`. Ingestion sees a changed re-push and
appends its status event (docs/landing-formats.md).

Timings are realistic and keep promises: a delivery order with a promise (app/mini-program window end,
Meituan window start or its 35-minute ETA, Eleme window start) is delivered a few minutes before it, so
only the orders deliberately left undelivered (problems.py) are late. Orders of one merge group are not
sealed (dispatched, or delivered where the channel has no dispatch status) before the group's last order
was placed, as a store holding the first order for the customer's follow-up would. Steps after the end of
the business day are not written (they would land in the next day's files).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .orders import Order

PROGRESS_CHANNELS: tuple[str, ...] = ("app", "miniprogram", "meituan", "eleme")
# The status the first push carries once an order has a progress plan (the order as placed and paid).
INITIAL_STATUS: dict[str, str] = {"app": "paid", "miniprogram": "paid", "meituan": "2"}
# Unified status -> the channel's own code, for the steps each channel reports.
NATIVE_STATUS: dict[str, dict[str, str]] = {
    "app": {"picking": "picking", "dispatched": "dispatched", "delivered": "delivered"},
    "miniprogram": {"picking": "picking", "dispatched": "dispatched", "delivered": "delivered"},
    "meituan": {"picking": "4", "delivered": "8"},
    # Eleme's "valid" (merchant confirmed) is still "paid" in the unified model; "settled" is completed.
    "eleme": {"picking": "valid", "delivered": "settled"},
}
# What ingestion maps each native code to (docs/landing-formats.md), for the ground truth.
UNIFIED_STATUS: dict[str, dict[str, str]] = {
    "app": {"picking": "picking", "dispatched": "dispatched", "delivered": "delivered"},
    "miniprogram": {"picking": "picking", "dispatched": "dispatched", "delivered": "delivered"},
    "meituan": {"4": "picking", "8": "delivered"},
    "eleme": {"valid": "paid", "settled": "delivered"},
}
SEALING_STEPS: dict[str, str] = {
    "app": "dispatched",
    "miniprogram": "dispatched",
    "meituan": "delivered",
    "eleme": "delivered",
}


@dataclass(frozen=True, slots=True)
class Step:
    step: str  # picking | dispatched | delivered (what happened)
    native: str  # the channel's status code for it
    at: int  # epoch seconds

    def unified(self, channel: str) -> str:
        return UNIFIED_STATUS[channel][self.native]


def promise_deadline(o: Order) -> int | None:
    """The promise ingestion reads as promised_to (docs/landing-formats.md), epoch seconds; None = ASAP."""
    if o.channel in ("app", "miniprogram"):
        return o.window[1] if o.window else None
    if o.channel == "meituan":
        return o.window[0] if o.window else o.paid_at + 35 * 60
    if o.channel == "eleme":
        return o.window[0] if o.window else None
    return None


def _spread(start: int, end: int, r: random.Random) -> tuple[int, int]:
    """Picking and dispatch times strictly between start (paid) and end (delivered)."""
    span = max(end - start, 3)
    picking = start + max(1, min(span - 2, int(span * r.uniform(0.05, 0.25))))
    dispatched = picking + max(1, min(end - picking - 1, int((end - picking) * r.uniform(0.3, 0.6))))
    return picking, dispatched


def plan_progress(
    o: Order, r: random.Random, day_end: int, *, hold_until: int | None = None, last_step: str = "delivered"
) -> list[Step]:
    """The status pushes after the first one, in event-time order, written only if before day_end.

    `hold_until`: the order must not be sealed before this time (its merge group's last order).
    `last_step`: stop after this step (picking for an address nobody can find, dispatched for an order that
    never arrives)."""
    if o.channel not in PROGRESS_CHANNELS or o.cancelled:
        return []
    paid = o.paid_at
    deadline = promise_deadline(o)
    if o.fulfilment == "delivery":
        if deadline is None:
            delivered = paid + r.randint(20 * 60, 45 * 60)
        else:
            latest = deadline - 3 * 60
            earliest = min(latest, max(paid + 12 * 60, deadline - 25 * 60))
            delivered = r.randint(earliest, latest) if latest > paid + 120 else max(paid + 120, deadline - 60)
            # Near midnight, finish within the day when the promise allows it.
            if delivered >= day_end and deadline < day_end + 2 * 3600 and day_end - 60 > paid + 300:
                delivered = min(deadline - 60, day_end - 60)
        picking, dispatched = _spread(paid, delivered, r)
        if hold_until is not None:
            seal = hold_until + r.randint(60, 240)
            if SEALING_STEPS[o.channel] == "dispatched":
                dispatched = max(dispatched, seal)
                delivered = max(delivered, dispatched + r.randint(5 * 60, 15 * 60))
            else:
                delivered = max(delivered, seal)
            picking = min(picking, dispatched - 1, delivered - 2)
        times = {"picking": picking, "dispatched": dispatched, "delivered": delivered}
    else:  # self pickup: packed, then collected
        picking = paid + r.randint(2 * 60, 10 * 60)
        times = {"picking": picking, "delivered": picking + r.randint(10 * 60, 90 * 60)}
    native = NATIVE_STATUS[o.channel]
    steps: list[Step] = []
    for step in ("picking", "dispatched", "delivered"):
        if step in times and step in native:
            if not (o.channel == "eleme" and step == "picking" and o.status == "valid"):  # already confirmed
                steps.append(Step(step, native[step], times[step]))
        if step == last_step:
            break
    return [s for s in steps if s.at < day_end]
