"""Problems a simulated day carries on purpose, each recorded in the ground truth: oversells, price errors
(an order paid off the catalogue and the promotion rules; a SKU listed at another price on one channel),
bad addresses (unparseable, no district, outside the city) and late orders (the promise passes with no
delivery). Everything else is made clean, so that "every injected case is found and nothing else is
flagged" can be checked exactly:

- stock is sized so that only the chosen orders take more than the store has (a chosen order is the last
  one of its store and SKU that day, on a pair without cancellations, so nothing after it oversells too);
- every other delivery order is delivered before its promise (progress.py);
- natural addresses always parse (the world's roads are checked by the simulator tests).

Consequences the simulator cannot avoid are recorded truthfully rather than hidden: every order that
contains a mis-listed SKU is a price mismatch; an order whose promise falls just after midnight and whose
delivery would land in the next day's files is at risk by the rule. `expected` in the truth is what the
pipeline should report open, computed from the simulator's own knowledge with
the business thresholds of ProblemRules (recorded in the truth), never from the pipeline's rules.

Victims are drawn only from orders that are valid, not cancelled and have no order of the same customer,
address and store within an hour (so take part in no merge group or follow-up), so the merge and
cancellation truth is untouched. Nothing here depends on the merge window: the landing files do not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from ingestion import contract as _contract

from .clock import LOCAL_TZ
from .orders import Order
from .price_errors import PriceBook, apply_price_error
from .progress import INITIAL_STATUS, Step, plan_progress, promise_deadline
from .world import World

PROBLEM_RATE = 0.002  # of valid orders, per injected kind
MIN_PER_KIND = 2
MERGE_HOLD_S = 60 * 60  # the longest follow-up gap the simulator generates
UNPARSEABLE_ADDRESSES: tuple[str, ...] = (
    "地址见备注",
    "老地方，电话联系",
    "公司前台找我",
    "小区东门快递柜",
    "菜场北门公交站旁",
)
OTHER_CITY_ADDRESSES: tuple[str, ...] = (
    "江苏省苏州市姑苏区人民路100号3号楼201室",
    "浙江省杭州市西湖区文三路90号5幢302室",
    "北京市朝阳区建国路88号2号楼1205室",
)


@dataclass(frozen=True)
class ProblemRules:
    """The business thresholds the expectations are judged by (the world's own numbers); recorded in the truth."""

    late_risk_minutes: int = 15
    price_tolerance_yuan: float = 0.10
    cross_channel_price_tolerance_pct: float = 5.0
    channel_price_factor: dict[str, float] = field(default_factory=lambda: {"groupbuy": 0.88})
    channel_price_rounding_yuan: float = 0.1

    @property
    def tolerance_fen(self) -> int:
        return round(self.price_tolerance_yuan * 100)


@dataclass
class DayProblems:
    plans: dict[int, list[Step]]  # order idx -> status pushes after the first
    truth: dict[str, Any]


def _local_iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, LOCAL_TZ).isoformat()


def _yuan(fen: int) -> float:
    return fen / 100


# A share of store/SKU pairs restocked by a goods receipt four hours after the 06:00 count (10:00 local).
RECEIPT_SHARE = 0.05
RECEIPT_AFTER_SNAPSHOT_S = 4 * 3600
# Receipts are written only where the landing contract has the stock_movements feed.
RECEIPTS = "stock_movements" in getattr(_contract, "REFERENCE_TABLES", {})


def _size_stock(
    world: World, valid: list[Order], snapshot_epoch: int, pool: list[Order], n: int, r: random.Random
) -> list[dict[str, Any]]:
    """Give every store/SKU at least its day's demand, except n pairs where the pair's last order of the
    day takes more than is left: the oversells. Demand counts orders placed at or after the snapshot."""
    reserves: dict[tuple[str, str], list[tuple[int, str, int]]] = {}
    with_cancellations: set[tuple[str, str]] = set()
    for o in valid:
        if o.created < snapshot_epoch:
            continue
        for ln in o.lines:
            pair = (o.store.store_id, ln.product.sku_id)
            reserves.setdefault(pair, []).append((o.created, o.key, ln.qty))
            if o.cancelled:
                with_cancellations.add(pair)
    for items in reserves.values():
        items.sort()
    by_key = {o.key: o for o in pool if o.created >= snapshot_epoch}
    candidates: list[tuple[tuple[str, str], Order]] = []
    for pair, items in sorted(reserves.items()):
        last = items[-1][1]
        if pair not in with_cancellations and last in by_key:
            candidates.append((pair, by_key[last]))
    victims: list[tuple[tuple[str, str], Order]] = []
    used: set[str] = set()
    for pair, o in r.sample(candidates, len(candidates)):
        if len(victims) == n:
            break
        if o.key not in used:
            victims.append((pair, o))
            used.add(o.key)
    short: dict[tuple[str, str], int] = {}
    out: list[dict[str, Any]] = []
    for pair, o in sorted(victims, key=lambda v: v[1].key):
        items = reserves[pair]
        qty = items[-1][2]
        before = sum(q for *_, q in items[:-1])
        shortfall = r.randint(1, qty)
        short[pair] = before + qty - shortfall
        out.append(
            {
                "order_key": o.key,
                "store_id": pair[0],
                "sku_id": pair[1],
                "quantity": qty,
                "available_before": qty - shortfall,
                "shortfall": shortfall,
            }
        )
    receipts = _plan_receipts(reserves, set(short) | with_cancellations, snapshot_epoch, r) if RECEIPTS else {}
    stock = []
    for store_id, sku_id, on_hand in world.stock:
        pair = (store_id, sku_id)
        if pair in short:
            on_hand = short[pair]
        elif pair in receipts:
            on_hand = receipts[pair][0]
        else:
            on_hand = max(on_hand, sum(q for *_, q in reserves.get(pair, ())))
        stock.append((store_id, sku_id, on_hand))
    world.stock = stock
    world.movements = [
        (f"GR-{world.date:%Y%m%d}-{i:05d}", pair[0], pair[1], "receipt", qty, _local_iso(at))
        for i, (pair, (_, qty, at)) in enumerate(sorted(receipts.items()))
    ]
    return out


def _stock_carry(world: World, valid: list[Order], snapshot_epoch: int, day_end: int) -> dict[str, Any]:
    """What a later day needs to judge its orders placed before its own morning count: those draw on this
    day's count (the latest at or before them), so an oversell can span midnight. `closing` is each
    store/SKU's position at midnight (count + receipts − reserves + releases of cancelled orders),
    `late_releases` the cancellations that land after midnight, `pre_count` this day's own orders placed
    before this day's count (judged against the previous day's closing)."""
    closing = {(s, k): q for s, k, q in world.stock}
    for _, store_id, sku_id, _, qty, _ in world.movements:
        closing[(store_id, sku_id)] += qty
    late_releases: list[list[Any]] = []
    pre_count: list[dict[str, Any]] = []
    for o in sorted(valid, key=lambda o: (o.created, o.key)):
        cancelled_at = max(o.created, o.updated_at) if o.cancelled else None
        lines = [[o.store.store_id, ln.product.sku_id, ln.qty] for ln in o.lines]
        if o.created < snapshot_epoch:
            pre_count.append({"order_key": o.key, "created": o.created, "cancelled_at": cancelled_at, "lines": lines})
            continue
        for store_id, sku_id, qty in lines:
            closing[(store_id, sku_id)] -= qty
            if cancelled_at is None:
                continue
            if cancelled_at < day_end:
                closing[(store_id, sku_id)] += qty
            else:
                late_releases.append([cancelled_at, store_id, sku_id, qty])
    return {
        "closing": [[s, k, q] for (s, k), q in sorted(closing.items())],
        "late_releases": late_releases,
        "pre_count": pre_count,
    }


def _plan_receipts(
    reserves: dict[tuple[str, str], list[tuple[int, str, int]]],
    excluded: set[tuple[str, str]],
    snapshot_epoch: int,
    r: random.Random,
) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Pairs whose morning count covers only the orders before a mid-morning goods receipt: stock is right
    only if the receipt is counted. Returns pair -> (morning on hand, received quantity, receipt epoch)."""
    at = snapshot_epoch + RECEIPT_AFTER_SNAPSHOT_S
    plans: dict[tuple[str, str], tuple[int, int, int]] = {}
    for pair, items in sorted(reserves.items()):
        if pair in excluded or r.random() >= RECEIPT_SHARE:
            continue
        # The goods are there from the moment they arrive: an order placed between 10:00 and the truck's
        # arrival took stock that was not yet on the shelf, so the morning count must cover it.
        received_at = at + r.randint(0, 600)
        before = sum(q for t, _, q in items if t < received_at)
        after = sum(q for t, _, q in items if t >= received_at)
        if after == 0:
            continue
        plans[pair] = (before, after + r.randint(0, 3), received_at)
    return plans


def _merge_holds(valid: list[Order]) -> dict[str, int]:
    """Order key -> when the last later order of the same customer, address and store (delivery, not
    cancelled) within MERGE_HOLD_S was placed. Such orders are not sealed before then, so every merge group
    the rule can form (for any window up to MERGE_HOLD_S) stays open for its follow-ups; independent of the
    merge window, so the landing files do not depend on it."""
    buckets: dict[tuple[str, str, str], list[Order]] = {}
    for o in valid:
        if o.fulfilment == "delivery" and not o.cancelled:
            buckets.setdefault((o.customer.customer_id, o.address.address_id, o.store.store_id), []).append(o)
    hold: dict[str, int] = {}
    for bucket in buckets.values():
        bucket.sort(key=lambda o: (o.created, o.key))
        for i, o in enumerate(bucket):
            later = [x.created for x in bucket[i + 1 :] if x.created - o.created <= MERGE_HOLD_S]
            if later:
                hold[o.key] = max(later)
            if later or any(o.created - x.created <= MERGE_HOLD_S for x in bucket[:i]):
                hold.setdefault(o.key, o.created)  # related to a neighbour: never a victim
    return hold


def inject_problems(
    world: World,
    orders: list[Order],
    faults: dict,
    rules: ProblemRules,
    day_end: int,
    stream: str,
    list_prices: dict[tuple[str, str], int],
) -> DayProblems:
    """Choose and apply the day's problems, plan every order's status pushes, size the stock and compute
    what the pipeline should report. Mutates the orders (prices, addresses, first-push status) and
    world.stock; call after faults are planned and before records are rendered. `stream` names the
    day's random streams (seed and date)."""
    r = random.Random(f"problems-{stream}")
    progress_rng = random.Random(f"progress-{stream}")
    book = PriceBook(world, rules)
    valid = [o for o in orders if o.idx not in faults]
    parents = {o.parent for o in orders if o.parent is not None}
    hold = _merge_holds(valid)
    mislisted = {o.key for o in valid if any((o.channel, ln.product.sku_id) in list_prices for ln in o.lines)}
    pool = sorted(
        (
            o
            for o in valid
            if not o.cancelled
            and o.parent is None
            and o.idx not in parents
            and o.key not in hold
            and o.key not in mislisted
        ),
        key=lambda o: o.idx,
    )
    n = max(MIN_PER_KIND, round(len(valid) * PROBLEM_RATE))
    taken: set[str] = set()

    def draw(candidates: list[Order], k: int) -> list[Order]:
        free = [o for o in candidates if o.key not in taken]
        picked = sorted(r.sample(free, min(k, len(free))), key=lambda o: o.idx)
        taken.update(o.key for o in picked)
        return picked

    # Bad addresses, only on orders without a promise so they do not also become late.
    bad_address = []
    for k, o in enumerate(
        draw(
            [o for o in pool if o.fulfilment == "delivery" and o.channel != "meituan" and promise_deadline(o) is None],
            n,
        )
    ):
        variant = ("unparseable", "no_district", "other_city")[k % 3]
        text = {
            "unparseable": UNPARSEABLE_ADDRESSES[k % len(UNPARSEABLE_ADDRESSES)],
            "no_district": "上海市" + o.address.detail,
            "other_city": OTHER_CITY_ADDRESSES[k % len(OTHER_CITY_ADDRESSES)],
        }[variant]
        if o.channel == "eleme":
            o.typed_address = text
        else:
            o.address = dataclasses.replace(o.address, text=text)
        bad_address.append({"order_key": o.key, "variant": variant, "address": text})

    # Late: a promise well before the end of the day that passes without a delivery.
    late_orders = draw(
        [
            o
            for o in pool
            if o.fulfilment == "delivery"
            and promise_deadline(o) is not None
            and promise_deadline(o) <= day_end - 2 * 3600
        ],
        n,
    )

    price_errors = []
    for k, o in enumerate(draw(pool, n)):
        kind = apply_price_error(o, ("unlisted_discount", "missing_promotion")[k % 2], book, r)
        if kind is not None:
            price_errors.append(
                {
                    "order_key": o.key,
                    "kind": kind,
                    "paid": _yuan(o.paid_fen),
                    "expected_paid": _yuan(book.expected_paid(o)),
                }
            )

    snapshot_epoch = int(dt.datetime.fromisoformat(world.snapshot_at).timestamp())
    oversells = _size_stock(world, valid, snapshot_epoch, [o for o in pool if o.key not in taken], n, r)
    carry = _stock_carry(world, valid, snapshot_epoch, day_end)

    # First pushes carry the order as placed; progress arrives in later pushes.
    late_keys = {o.key for o in late_orders}
    bad_keys = {b["order_key"] for b in bad_address}
    plans: dict[int, list[Step]] = {}
    for o in valid:
        if o.cancelled:
            continue
        if o.channel in INITIAL_STATUS:
            o.status = INITIAL_STATUS[o.channel]
        last_step = "picking" if o.key in bad_keys else "dispatched" if o.key in late_keys else "delivered"
        held = hold.get(o.key)
        plans[o.idx] = plan_progress(
            o, progress_rng, day_end, hold_until=held if held and held > o.created else None, last_step=last_step
        )

    now = max(o.created for o in valid)
    delivered = {o.idx for o in valid if any(s.step == "delivered" for s in plans.get(o.idx, ()))}
    late_expected = sorted(
        o.key
        for o in valid
        if o.fulfilment == "delivery"
        and not o.cancelled
        and o.idx not in delivered
        and promise_deadline(o) is not None
        and promise_deadline(o) < now + rules.late_risk_minutes * 60
    )
    mismatched = sorted(o.key for o in valid if not o.cancelled and book.mismatch(o))

    observed: dict[str, dict[str, set[int]]] = {}
    for o in valid:
        for ln in o.lines:
            observed.setdefault(ln.product.sku_id, {}).setdefault(o.channel, set()).add(ln.orig_fen)
    inconsistent = []
    pct = rules.cross_channel_price_tolerance_pct
    for sku, channels in sorted(observed.items()):
        prices = [p for ps in channels.values() for p in ps]
        if len(channels) < 2 or (max(prices) - min(prices)) * 100 <= pct * min(prices):
            continue
        cat = book.catalogue[sku]
        for channel, ps in sorted(channels.items()):
            if any(abs(p - cat) * 100 > pct * cat for p in ps):
                inconsistent.append({"sku_id": sku, "channel": channel})

    truth = {
        "rules": dataclasses.asdict(rules),
        "now": _local_iso(now),
        "injected": {
            "oversell": oversells,
            "price_error": price_errors,
            "list_price": [
                {
                    "channel": ch,
                    "sku_id": sku,
                    "catalogue_price": _yuan(book.catalogue[sku]),
                    "channel_price": _yuan(fen),
                }
                for (ch, sku), fen in sorted(list_prices.items())
            ],
            "bad_address": bad_address,
            "late": [{"order_key": o.key, "promised_to": _local_iso(promise_deadline(o))} for o in late_orders],
        },
        "expected_exceptions": {
            "out_of_stock": sorted(x["order_key"] for x in oversells),
            "price_mismatch": mismatched,
            "bad_address": sorted(bad_keys),
            "late_risk": late_expected,
            "payment_missing": [],
        },
        "expected_price_inconsistencies": inconsistent,
        "stock_carry": carry,
    }
    return DayProblems(plans, truth)
