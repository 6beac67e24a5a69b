"""Orders of one business day: who orders what, when, on which channel, and what it costs.

Channel-neutral: an `Order` holds money in integer fen and times in epoch seconds; the renderers turn it
into each channel's native format. Bulk sampling (times, customers, channels) is vectorised with numpy;
the per-order details use `random.Random`, which is far cheaper than numpy for scalar draws.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np

from . import data
from .address_styles import meituan_poi, write_differently
from .clock import DAY_S, LOCAL_OFFSET_S, day_start_epoch
from .shape import (
    CANCEL_RATE,
    CHANNEL_MIX,
    CHANNELS,
    DELIVERY_CHANNELS,
    FOLLOW_UP_CHAIN_SHARE,
    FOLLOW_UP_INSIDE_SHARE,
    FOLLOW_UP_RATE,
    FOLLOW_UP_SAME_CHANNEL,
    HOURLY_INTENSITY,
    LINES_PER_ORDER_WEIGHTS,
    POS_OPEN_HOURS,
    QUANTITY_WEIGHTS,
    SELF_PICKUP_SHARE,
)
from .world import Address, Customer, Leader, Product, Promotion, Store, World

GROUPBUY_PRICE_FACTOR = 0.88
# The platforms' own campaigns (平台满减, red packets): the platform runs and funds them in full, the merchant
# never configured them, so the world's promotions table does not hold them. They lower what the customer
# pays and raise the platform's share by the same amount; what the platform pays the merchant is unchanged.
PLATFORM_PROMOTIONS: tuple[Promotion, ...] = (
    Promotion("PLT101", "meituan", "platform_full_reduction", 3000, 500, None, "", "", 1.0),
    Promotion("PLT102", "meituan", "platform_red_packet", 0, 300, None, "", "", 1.0),
    Promotion("PLT201", "eleme", "platform_full_reduction", 3500, 600, None, "", "", 1.0),
    Promotion("PLT202", "eleme", "platform_red_packet", 0, 400, None, "", "", 1.0),
)
PLATFORM_PROMOTION_SHARE = 0.3  # of a platform's eligible orders, per campaign
MIN_GAP_S = 45 * 60  # between one customer's unrelated orders; follow-ups are the deliberate exception


@dataclass(slots=True)
class Line:
    product: Product
    sku_id: str  # as written; a fault may swap in an unknown SKU
    qty: int
    orig_fen: int  # shelf price per unit
    unit_fen: int  # per unit after the item-level discount
    item_disc_fen: int = 0  # (orig - unit) * qty
    disc_share_fen: int = 0  # this line's share of ALL the order's discounts (app/miniprogram `discount`)


@dataclass(slots=True)
class AppliedPromo:
    promo: Promotion
    reduce_fen: int
    platform_fen: int
    merchant_fen: int


@dataclass(slots=True)
class Order:
    idx: int
    channel: str
    created: int  # epoch seconds
    customer: Customer
    address: Address  # where it goes (for pickup/POS: the customer's place; unused by merging there)
    store: Store
    fulfilment: str  # delivery | self_pickup | in_store
    cancelled: bool
    parent: int | None = None  # idx of the order this one follows up (same customer, address, store)
    order_id: str = ""
    paid_at: int = 0
    updated_at: int = 0
    lines: list[Line] = field(default_factory=list)
    promos: list[AppliedPromo] = field(default_factory=list)
    goods_fen: int = 0
    merchant_disc_fen: int = 0
    platform_disc_fen: int = 0
    delivery_fee_fen: int = 0
    packaging_fee_fen: int = 0
    paid_fen: int = 0
    window: tuple[int, int] | None = None  # promised delivery window, epoch seconds; None = ASAP
    status: str = ""  # channel-native status
    phone: str = ""  # as the channel shows it
    recipient_name: str = ""
    payment: str = ""
    remark: str = ""
    day_seq: int = 0
    register: str = ""  # POS till
    cashier: str = ""
    leader: Leader | None = None  # group-buy
    typed_address: str = ""  # what the customer typed on a third-party platform

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.order_id}"


# Meituan orders whose address is a map-picked place with the door typed in brackets.
POI_SHARE = 0.3


class IdAllocator:
    """Channel-native order ids, increasing in creation order. `floor` lets live mode jump ahead so ids
    of a restarted run on the same day never collide with an earlier run's."""

    def __init__(self, date: dt.date) -> None:
        self.ymd = date.strftime("%Y%m%d")
        self.yymmdd = self.ymd[2:]
        self.seq: dict[str, int] = {}
        self.base = 0

    def floor(self, value: int) -> None:
        self.base = max(self.base, value)

    def _next(self, key: str) -> int:
        self.seq[key] = max(self.seq.get(key, 0), self.base) + 1
        return self.seq[key]

    def day_seq(self, channel: str, store_id: str) -> int:
        """Platforms' per-shop daily ticket number (#1, #2, ...), never floored."""
        key = f"dayseq:{channel}:{store_id}"
        self.seq[key] = self.seq.get(key, 0) + 1
        return self.seq[key]

    def order_id(self, order: Order) -> str:
        ch = order.channel
        if ch == "pos":
            return f"{order.store.store_id}{self.yymmdd}{order.register}{self._next('pos:' + order.store.store_id):05d}"
        n = self._next(ch)
        if ch == "app":
            return f"APP{self.ymd}{n:05d}"
        if ch == "miniprogram":
            return f"MP{self.ymd}{n:05d}"
        if ch == "meituan":
            return f"2701{self.yymmdd}{n:08d}"
        if ch == "eleme":
            return f"50{self.yymmdd}{n:010d}"
        return f"GB{self.ymd}{n:05d}"


def _sample_sod(n: int, rng: np.random.Generator, hours: range | None = None) -> np.ndarray:
    """Seconds into the local day, following HOURLY_INTENSITY (optionally limited to some hours)."""
    w = np.array(HOURLY_INTENSITY, dtype=float)
    if hours is not None:
        mask = np.zeros(24, dtype=bool)
        mask[list(hours)] = True
        w = np.where(mask, w, 0.0)
    hour = rng.choice(24, size=n, p=w / w.sum())
    return hour * 3600 + rng.integers(0, 3600, size=n)


def spaced_customers(world: World, created: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Customers for orders at `created`, such that one customer's orders are >= MIN_GAP_S apart.

    People rarely shop twice in quick succession unless they forgot something, and that case is modelled
    explicitly by follow-ups. Without spacing, ~5 orders per customer a day would make coincidental
    repeats swamp the follow-ups in the merge groups."""
    n = len(created)
    order = np.argsort(created, kind="stable")
    draws = rng.choice(len(world.customers), size=n * 4, p=world.customer_weights).tolist()
    times = created.tolist()
    last: dict[int, int] = {}
    out = np.empty(n, dtype=np.int64)
    k = 0
    for i in order.tolist():
        t = times[i]
        c = draws[k % len(draws)]
        tries = 1
        while t - last.get(c, -MIN_GAP_S) < MIN_GAP_S and tries < 12:
            k += 1
            c = draws[k % len(draws)]
            tries += 1
        k += 1
        last[c] = t
        out[i] = c
    return out


def sample_skeletons(
    world: World, created: np.ndarray, rng: np.random.Generator, first_idx: int = 0, customers: np.ndarray | None = None
) -> list[Order]:
    """Who orders, on which channel, from where: everything but lines and money."""
    n = len(created)
    cust = rng.choice(len(world.customers), size=n, p=world.customer_weights) if customers is None else customers
    u_channel = rng.random(n)
    prefs = world.channel_prefs[cust]
    channel_idx = (u_channel[:, None] > prefs).sum(axis=1)
    channel_idx = np.minimum(channel_idx, len(CHANNELS) - 1)
    u_addr = rng.random(n)
    u_pickup = rng.random(n)
    u_cancel = rng.random(n)
    out: list[Order] = []
    for i, (t, c, ch_i, ua, up, uc) in enumerate(
        zip(
            created.tolist(), cust.tolist(), channel_idx.tolist(), u_addr.tolist(), u_pickup.tolist(), u_cancel.tolist()
        )
    ):
        customer = world.customers[c]
        channel = CHANNELS[ch_i]
        address = customer.addresses[1] if len(customer.addresses) > 1 and ua < 0.3 else customer.addresses[0]
        if channel == "pos":
            fulfilment = "in_store"
            store = world.stores[customer.pos_store]
        else:
            fulfilment = "self_pickup" if up < SELF_PICKUP_SHARE[channel] else "delivery"
            store = world.stores[address.store]
        out.append(Order(first_idx + i, channel, int(t), customer, address, store, fulfilment, uc < CANCEL_RATE))
    return out


def follow_up_count(n_total: int) -> int:
    """Follow-ups needed so that ~FOLLOW_UP_RATE of all delivery orders (follow-ups included) have one."""
    delivery_share = sum(CHANNEL_MIX[c] * (1 - SELF_PICKUP_SHARE.get(c, 1.0)) for c in CHANNELS)
    x = FOLLOW_UP_RATE * delivery_share / (1 - FOLLOW_UP_RATE)
    return round(n_total * x / (1 + x))


def make_follow_up(parent: Order, idx: int, r: random.Random) -> Order:
    if r.random() < FOLLOW_UP_INSIDE_SHARE:
        gap = r.randint(60, 29 * 60)
    else:
        gap = r.randint(31 * 60, 60 * 60)
    if parent.channel in DELIVERY_CHANNELS and r.random() < FOLLOW_UP_SAME_CHANNEL:
        channel = parent.channel
    else:
        options = [c for c in DELIVERY_CHANNELS if c != parent.channel]
        channel = r.choices(options, weights=[CHANNEL_MIX[c] for c in options])[0]
    return Order(
        idx,
        channel,
        parent.created + gap,
        parent.customer,
        parent.address,
        parent.store,
        "delivery",
        r.random() < CANCEL_RATE,
        parent=parent.idx,
    )


def follow_up_propensity(customer_id: str) -> float:
    """A stable trait: about one customer in five forgets things and adds a second order far more often.
    Derived from the customer id alone, so the same customer behaves alike on every simulated day, which is
    what lets a model learn merge propensity from history."""
    u = random.Random(f"propensity-{customer_id}").random()
    return 6.0 if u < 0.2 else 0.5


def _weighted_sample(orders: list[Order], k: int, r: random.Random) -> list[Order]:
    """k orders without replacement, each drawn in proportion to its customer's follow-up propensity
    (Efraimidis-Spirakis: the k largest u ** (1 / w))."""
    keyed = sorted(
        orders, key=lambda o: r.random() ** (1.0 / follow_up_propensity(o.customer.customer_id)), reverse=True
    )
    return keyed[:k]


def _add_follow_ups(orders: list[Order], wanted: int, day_end: int, r: random.Random) -> list[Order]:
    """Follow-ups of primary orders, plus a share of follow-ups of follow-ups (chains of three)."""
    latest = day_end - 3600 - 1  # a follow-up (<= 60 min later) must stay inside the business day
    eligible = [o for o in orders if o.fulfilment == "delivery" and o.created <= latest]
    first = min(len(eligible), round(wanted / (1 + FOLLOW_UP_CHAIN_SHARE)))
    made: list[Order] = []
    for parent in _weighted_sample(eligible, first, r):
        made.append(make_follow_up(parent, len(orders) + len(made), r))
    eligible2 = [o for o in made if o.created <= latest]
    for parent in r.sample(eligible2, min(len(eligible2), wanted - first)):
        made.append(make_follow_up(parent, len(orders) + len(made), r))
    return made


def generate_skeletons(world: World, date: dt.date, n_total: int, seed: int) -> list[Order]:
    """Exactly n_total orders for `date`, sorted by creation time, follow-ups included."""
    # The same seed keeps the same customers (world) across days; the date varies what they order.
    rng = np.random.default_rng([seed, 3, date.toordinal()])
    r = random.Random(f"follow-ups-{seed}-{date.isoformat()}")
    day0 = day_start_epoch(date)
    n_follow = follow_up_count(n_total)
    created = day0 + _sample_sod(n_total - n_follow, rng)
    orders = sample_skeletons(world, created, rng, customers=spaced_customers(world, created, rng))
    # Tills ring only while shops are open: re-time POS sales that fell in closed hours.
    closed = [o for o in orders if o.channel == "pos" and (o.created - day0) // 3600 not in POS_OPEN_HOURS]
    for o, sod in zip(closed, _sample_sod(len(closed), rng, POS_OPEN_HOURS).tolist()):
        o.created = day0 + int(sod)
    orders += _add_follow_ups(orders, n_follow, day0 + DAY_S, r)
    short = n_total - len(orders)
    if short > 0:  # tiny days may not have enough delivery orders to follow up
        orders += sample_skeletons(world, day0 + _sample_sod(short, rng, POS_OPEN_HOURS), rng, len(orders))
    orders.sort(key=lambda o: (o.created, o.idx))
    # Re-number in time order but keep follow-up links pointing at the right order.
    renumber = {o.idx: i for i, o in enumerate(orders)}
    for i, o in enumerate(orders):
        o.idx = i
        if o.parent is not None:
            o.parent = renumber[o.parent]
    return orders


class Pricer:
    """Lines, discounts, fees, statuses and channel presentation (phone, names) for an order skeleton."""

    def __init__(self, world: World, r: random.Random) -> None:
        self.world = world
        self.r = r
        self.sku_cum = list(accumulate(world.product_popularity.tolist()))
        self.lines_cum = list(accumulate(LINES_PER_ORDER_WEIGHTS))
        self.qty_cum = list(accumulate(QUANTITY_WEIGHTS))
        self.order_promos: dict[str, list[Promotion]] = {}
        for p in world.promotions:
            if p.kind != "discount_item":
                self.order_promos.setdefault(p.channel, []).append(p)
        self.leaders_by_store: dict[int, list[Leader]] = {}
        # (channel, sku_id) -> the price (fen) that channel lists the SKU at, when its listing is off the
        # catalogue (a simulated problem; see problems.py). Empty: every channel lists catalogue prices.
        self.list_price_overrides: dict[tuple[str, str], int] = {}
        # Platform-run promotions draw from their own stream (set by the caller) so that adding them left every
        # other draw of a seed unchanged; None: no platform-run promotions.
        self.platform_rng: random.Random | None = None
        self.platform_promos: dict[str, list[Promotion]] = {}
        for p in PLATFORM_PROMOTIONS:
            self.platform_promos.setdefault(p.channel, []).append(p)
        for leader in world.leaders:
            self.leaders_by_store.setdefault(leader.store, []).append(leader)

    def _pick(self, cum: list[float]) -> int:
        return bisect.bisect_right(cum, self.r.random() * cum[-1])

    def make_lines(self, order: Order) -> None:
        products = self.world.products
        n_lines = min(self._pick(self.lines_cum) + 1, 8)
        chosen: dict[int, int] = {}
        for _ in range(n_lines):
            p = min(self._pick(self.sku_cum), len(products) - 1)
            chosen[p] = chosen.get(p, 0) + min(self._pick(self.qty_cum) + 1, 4)
        order.lines = []
        for p, qty in chosen.items():
            product = products[p]
            qty = min(qty, 4)
            orig = self.list_price_overrides.get((order.channel, product.sku_id), product.price_fen)
            if order.channel == "groupbuy":
                unit = round(orig * GROUPBUY_PRICE_FACTOR / 10) * 10
            else:
                unit = orig - self.world.item_discounts.get(product.sku_id, 0)
            order.lines.append(Line(product, product.sku_id, qty, orig, unit))

    def price(self, order: Order) -> None:
        """Money per the formats doc: paid = goods - merchant_discount - platform_discount + fees."""
        r = self.r
        ch = order.channel
        goods = sum(ln.orig_fen * ln.qty for ln in order.lines)
        item_disc = 0
        for ln in order.lines:
            ln.item_disc_fen = (ln.orig_fen - ln.unit_fen) * ln.qty
            item_disc += ln.item_disc_fen
        delivery = order.fulfilment == "delivery"
        fee = 0
        if delivery:
            fee = {
                "app": 0 if goods >= 8800 else 400,
                "miniprogram": 0 if goods >= 6800 else 400,
                "meituan": 500,
                "eleme": 450,
            }.get(ch, 0)
        packaging = 50 * ((len(order.lines) + 2) // 3) if ch in DELIVERY_CHANNELS else 0
        net = goods - item_disc
        order.promos = []
        for promo in self.order_promos.get(ch, ()):
            if promo.kind == "delivery_fee":
                if not delivery or fee == 0 or r.random() >= 0.5:
                    continue
                reduce = min(promo.amount_fen, fee)
            else:
                if net < promo.threshold_fen or (promo.kind == "coupon" and r.random() >= 0.35):
                    continue
                reduce = promo.amount_fen
            platform = round(reduce * promo.platform_share)
            order.promos.append(AppliedPromo(promo, reduce, platform, reduce - platform))
        if self.platform_rng is not None:
            for promo in self.platform_promos.get(ch, ()):
                if self.platform_rng.random() < PLATFORM_PROMOTION_SHARE and net >= promo.threshold_fen:
                    order.promos.append(AppliedPromo(promo, promo.amount_fen, promo.amount_fen, 0))
        order.goods_fen = goods
        order.merchant_disc_fen = item_disc + sum(p.merchant_fen for p in order.promos)
        order.platform_disc_fen = sum(p.platform_fen for p in order.promos)
        order.delivery_fee_fen = fee
        order.packaging_fee_fen = packaging
        order.paid_fen = goods - order.merchant_disc_fen - order.platform_disc_fen + fee + packaging
        self._share_discounts(order)

    @staticmethod
    def _share_discounts(order: Order) -> None:
        """Spread order-level discounts over lines by net value (largest remainder), so that the lines'
        shares add up to merchant_discount + platform_discount exactly."""
        order_level = sum(p.reduce_fen for p in order.promos)
        nets = [ln.unit_fen * ln.qty for ln in order.lines]
        total = sum(nets)
        if order_level == 0 or total <= 0:
            for ln in order.lines:
                ln.disc_share_fen = ln.item_disc_fen
            return
        raw = [order_level * v / total for v in nets]
        shares = [int(x) for x in raw]
        rest = order_level - sum(shares)
        for i in sorted(range(len(raw)), key=lambda i: (shares[i] - raw[i], i))[:rest]:
            shares[i] += 1
        for ln, s in zip(order.lines, shares):
            ln.disc_share_fen = ln.item_disc_fen + s

    def present(self, order: Order) -> None:
        """Statuses, timings and how the channel shows the customer."""
        r = self.r
        ch = order.channel
        c = order.customer
        order.paid_at = order.created if ch == "pos" else order.created + r.randint(5, 90)
        order.updated_at = order.created + r.randint(120, 1500) if order.cancelled else order.paid_at
        order.recipient_name = c.name
        order.phone = c.phone
        if ch in ("app", "miniprogram"):
            if c.landline and r.random() < 0.3:
                order.phone = c.landline
            order.payment = (
                "wechat"
                if ch == "miniprogram"
                else r.choices(("wechat", "alipay", "card", "balance"), weights=(45, 35, 5, 15))[0]
            )
            if order.cancelled:
                order.status = "cancelled"
            else:
                states = ("paid", "picking", "dispatched") if order.fulfilment == "delivery" else ("paid", "picking")
                order.status = r.choices(states, weights=(55, 30, 15)[: len(states)])[0]
        elif ch in ("meituan", "eleme"):
            u = r.random()
            if u < 0.35:
                # Meituan masks as its open platform documents it (3 digits, 5 stars, last 3); Eleme keeps 4.
                order.phone = (
                    f"{c.phone[:3]}*****{c.phone[-3:]}" if ch == "meituan" else f"{c.phone[:3]}****{c.phone[-4:]}"
                )
            elif u < 0.7:
                relay = data.MEITUAN_RELAY_PREFIXES if ch == "meituan" else data.ELEME_RELAY_PREFIXES
                sep = "_" if ch == "meituan" else ","
                order.phone = f"{r.choice(relay)}{r.randrange(10**8):08d}{sep}{r.randrange(10**4):04d}"
            if r.random() < 0.25:
                title = "先生" if c.gender == "M" else "女士"
                order.recipient_name = f"{c.name[0]}({title})" if ch == "meituan" else f"{c.name[0]}{title}"
            typed = write_differently(order.address.text, r)
            if ch == "meituan" and r.random() < POI_SHARE:
                typed = meituan_poi(order.address.text, r)
            order.typed_address = typed
            if ch == "meituan":
                order.status = "9" if order.cancelled else r.choice(("2", "4"))
                order.payment = "1" if r.random() < 0.01 else "2"
            else:
                order.status = "invalid" if order.cancelled else r.choices(("unprocessed", "valid"), weights=(6, 4))[0]
            if order.fulfilment == "self_pickup":
                order.remark = "到店自取"
            else:
                order.remark = r.choice(("", "", "", "放门口", "请尽快送达", "放门卫处，谢谢", "不要塑料袋"))
        elif ch == "pos":
            order.phone = c.phone if r.random() < 0.55 else ""
            order.payment = r.choices(("现金", "微信", "支付宝", "银行卡"), weights=(10, 45, 35, 10))[0]
            order.status = "作废" if order.cancelled else "成交"
            order.register = f"{r.randint(1, 3):02d}"
            order.cashier = r.choice(data.CASHIERS)
        else:
            order.status = "已取消" if order.cancelled else "已支付"
            order.leader = r.choice(self.leaders_by_store[order.store.index])
        local_sod = (order.created + LOCAL_OFFSET_S) % DAY_S
        if order.fulfilment == "delivery" and ch in DELIVERY_CHANNELS and local_sod < 20 * 3600 and r.random() < 0.35:
            start = (order.created + 1800 + 1799) // 1800 * 1800  # next half hour at least 30 min away
            order.window = (start, start + 1800)
        else:
            order.window = None

    def realise(self, order: Order) -> None:
        self.make_lines(order)
        self.price(order)
        self.present(order)


def realise_all(world: World, orders: list[Order], ids: IdAllocator, seed: int) -> None:
    """Lines, money, presentation and ids for time-sorted skeletons (ids follow creation order)."""
    pricer = Pricer(world, random.Random(f"orders-{seed}-{world.date.isoformat()}"))
    for o in orders:
        pricer.realise(o)
        if o.channel in ("meituan", "eleme"):
            o.day_seq = ids.day_seq(o.channel, o.store.store_id)
        o.order_id = ids.order_id(o)
