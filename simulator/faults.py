"""Which records are written broken (and how), and which are pushed twice.

Faults are planned on realised orders and applied by the renderers, so a bad record looks exactly like a
good one except for its single defect. Kinds are dealt round-robin per channel (from a seeded starting
point) rather than drawn at random, so every kind shows up as soon as a channel has enough bad records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .orders import Order, Pricer
from .shape import DUPLICATE_CHANNELS, DUPLICATE_RATE

BAD_PHONES: tuple[str, ...] = ("12345", "phone-unknown", "0000", "tel:none")

# (error_code, variant). Variants name what exactly is broken; the renderers implement each one.
_JSON_VARIANTS: tuple[tuple[str, str], ...] = (
    ("missing_field", "order_id"),
    ("missing_field", "store"),
    ("missing_field", "items"),
    ("missing_field", "address"),
    ("bad_phone", "phone"),
    ("unknown_sku", "sku"),
    ("bad_quantity", "qty"),
    ("broken_json", "line"),
)
FAULT_VARIANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "app": _JSON_VARIANTS,
    "miniprogram": _JSON_VARIANTS,
    "meituan": _JSON_VARIANTS + (("broken_json", "detail"),),
    "eleme": _JSON_VARIANTS + (("broken_json", "message"),),
    "pos": (
        ("missing_field", "store"),
        ("bad_phone", "phone"),
        ("unknown_sku", "sku"),
        ("bad_quantity", "qty"),
        ("malformed_row", "extra_column"),
        ("malformed_row", "missing_column"),
    ),
    "groupbuy": (
        ("missing_field", "store"),
        ("missing_field", "address"),
        ("bad_phone", "phone"),
        ("unknown_sku", "sku"),
        ("bad_quantity", "qty"),
        ("malformed_row", "extra_column"),
        ("malformed_row", "missing_column"),
    ),
}
ERROR_CODES: tuple[str, ...] = (
    "missing_field",
    "bad_phone",
    "unknown_sku",
    "bad_quantity",
    "broken_json",
    "malformed_row",
)


@dataclass(frozen=True, slots=True)
class Fault:
    code: str
    variant: str
    line: int = 0  # which order line is broken (unknown_sku, bad_quantity)
    value: str = ""  # bad phone text, unknown SKU id, bad quantity
    cut: float = 0.5  # where a truncated JSON text is cut, as a fraction of its length

    @property
    def names_order(self) -> bool:
        """Can the record's order id still be read? Not when it is blank or the JSON is unparseable."""
        return not (self.code == "broken_json" or self.variant == "order_id")


def make_fault(code: str, variant: str, order: Order, r: random.Random) -> Fault:
    line = r.randrange(len(order.lines)) if order.lines else 0
    value = ""
    if code == "bad_phone":
        value = r.choice(BAD_PHONES)
    elif code == "unknown_sku":
        value = f"SKU9{r.randrange(1000):03d}"  # the catalogue stops at SKU0300
    elif code == "bad_quantity":
        value = r.choice(("0", "-1", "-2"))
    return Fault(code, variant, line, value, r.uniform(0.3, 0.85))


def _applicable(variant: tuple[str, str], order: Order) -> bool:
    # An empty address is only an error where something must be delivered to it.
    return variant[1] != "address" or order.fulfilment == "delivery"


def plan_faults(orders: list[Order], n_bad: int, pricer: Pricer, r: random.Random) -> dict[int, Fault]:
    """n_bad faults on orders that take part in no follow-up and are not cancelled, so ground truth's merge
    groups and cancellations are untouched by which records happen to be broken."""
    linked = {o.parent for o in orders if o.parent is not None}
    pool = [o for o in orders if o.parent is None and o.idx not in linked and not o.cancelled]
    chosen = sorted(r.sample(pool, min(n_bad, len(pool))), key=lambda o: o.idx)
    chosen_idx = {o.idx for o in chosen}
    spare_delivery: dict[str, list[Order]] = {}
    for o in pool:
        if o.idx not in chosen_idx and o.fulfilment == "delivery":
            spare_delivery.setdefault(o.channel, []).append(o)
    by_channel: dict[str, list[Order]] = {}
    for o in chosen:
        by_channel.setdefault(o.channel, []).append(o)

    faults: dict[int, Fault] = {}
    for channel, victims in by_channel.items():
        variants = FAULT_VARIANTS[channel]
        start = r.randrange(len(variants))
        spares = spare_delivery.get(channel, [])
        r.shuffle(spares)
        for k, order in enumerate(victims):
            variant = variants[(start + k) % len(variants)]
            if not _applicable(variant, order):
                if spares:
                    order = spares.pop()  # swap in a delivery order so this kind still appears
                else:
                    variant = ("bad_phone", "phone")
            if variant[0] == "malformed_row" and len(order.lines) > 1:
                # A single-row record makes "which record is malformed" unambiguous.
                order.lines = order.lines[:1]
                pricer.price(order)
            faults[order.idx] = make_fault(variant[0], variant[1], order, r)
    return faults


def plan_duplicates(orders: list[Order], faults: dict[int, Fault], r: random.Random) -> list[Order]:
    """~1% of the good records of channels that push over HTTP (and retry) get pushed twice."""
    return [
        o for o in orders if o.channel in DUPLICATE_CHANNELS and o.idx not in faults and r.random() < DUPLICATE_RATE
    ]
