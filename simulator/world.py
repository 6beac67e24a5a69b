"""The seeded synthetic world: stores, catalogue, customers (with their per-channel identities), riders,
group-buy leaders, promotions and the morning stock snapshot.

Master data (stores, catalogue, riders, leaders) comes from a fixed internal seed: a retailer's catalogue
does not change with the simulation seed, so reference files written by different runs agree. Customers,
stock and the promotions' SKU picks follow the caller's seed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

import numpy as np

from . import data
from .clock import day_start_epoch, iso_local
from .shape import CHANNEL_MIX, CHANNELS

MASTER_SEED = 20261126
CATALOGUE_SIZE = len(data.PRODUCT_BASES) * len(data.PACK_VARIANTS)
CUSTOMER_RADIUS_M = 3000.0
SECOND_ADDRESS_SHARE = 0.10
LANDLINE_SHARE = 0.08
M_PER_DEG_LAT = 111_000.0


@dataclass(frozen=True, slots=True)
class Store:
    index: int
    store_id: str
    name: str
    kind: str
    city: str
    district: str
    address: str
    lat: float
    lng: float
    eleme_shop_id: int
    seed: data.StoreSeed


@dataclass(frozen=True, slots=True)
class Product:
    index: int
    sku_id: str
    name: str
    category: str
    price_fen: int
    weight_g: int
    volume_ml: int
    temp_zone: str
    unit: str  # Meituan `unit`: what one sold item is called


@dataclass(frozen=True, slots=True)
class Address:
    address_id: str  # true identity of the place, used by ground truth
    text: str  # full address as the customer types it: 上海市 + 区 + [街道/镇] + detail
    district: str
    township: str
    detail: str  # road, number, building, room
    street_no: str  # road + number only: what a reverse geocoder returns
    lat: float
    lng: float
    store: int  # index of the nearest store


@dataclass(slots=True)
class Customer:
    index: int
    customer_id: str
    name: str
    gender: str  # M | F, for platform-style names like 张先生
    phone: str
    landline: str | None
    addresses: tuple[Address, ...]
    pos_store: int  # nearest store that has a till (kind == shop)
    member_id: str  # app
    openid: str  # WeChat mini-program
    meituan_user_id: int
    eleme_user_id: int
    nickname: str  # how group-buy leaders list the member

    @property
    def preferred_store(self) -> int:
        """The store nearest home, which serves the customer's deliveries there."""
        return self.addresses[0].store


@dataclass(frozen=True, slots=True)
class Rider:
    rider_id: str
    store_id: str
    name: str
    vehicle: str
    capacity_kg: float
    cold_box: bool
    shift_start: str
    shift_end: str


@dataclass(frozen=True, slots=True)
class Promotion:
    promo_id: str
    channel: str  # a channel, or "all"
    kind: str  # coupon | full_reduction | discount_item | delivery_fee
    threshold_fen: int
    amount_fen: int
    sku_id: str | None
    starts_at: str
    ends_at: str
    platform_share: float


@dataclass(frozen=True, slots=True)
class Leader:
    store: int
    team_suffix: str
    name: str
    pickup_point: str


@dataclass(slots=True)
class World:
    date: dt.date
    seed: int
    stores: list[Store]
    products: list[Product]
    product_popularity: np.ndarray  # sampling weights, sums to 1
    customers: list[Customer]
    customer_weights: np.ndarray  # order frequency, sums to 1
    channel_prefs: np.ndarray  # (n_customers, n_channels) cumulative channel preference per customer
    riders: list[Rider]
    leaders: list[Leader]
    promotions: list[Promotion]
    stock: list[tuple[str, str, int]]  # (store_id, sku_id, on_hand) at 06:00 local
    snapshot_at: str
    item_discounts: dict[str, int] = field(default_factory=dict)  # sku_id -> fen off per unit
    # Goods received into stores during the day: (movement_id, store_id, sku_id, type, quantity, moved_at ISO).
    movements: list[tuple[str, str, str, str, int, str]] = field(default_factory=list)


def random_name(r: random.Random) -> str:
    given = r.choice(data.GIVEN_CHARS)
    if r.random() < 0.6:
        given += r.choice(data.GIVEN_CHARS)
    return r.choice(data.SURNAMES) + given


def _format_pack(base: data.ProductBase, size: float) -> str:
    if base.measure == "g":
        return f"{size / 1000:g}kg" if size >= 1000 else f"{size:g}g"
    if base.measure == "ml":
        return f"{size / 1000:g}L" if size >= 1000 else f"{size:g}ml"
    return f"{max(1, round(size))}{base.measure}"


def _build_products(r: random.Random) -> list[Product]:
    products: list[Product] = []
    for base in data.PRODUCT_BASES:
        for size_factor, price_factor in data.PACK_VARIANTS:
            size = base.size * size_factor
            if base.measure not in ("g", "ml"):
                size = max(1, round(size))
            price = base.price * price_factor * r.uniform(0.95, 1.05)
            # Shelf prices end in .9/.5/.8 like real price tags.
            price_fen = max(150, int(price) * 100 + r.choice((50, 80, 90, 90)))
            grams = size * base.grams_per_unit
            if base.measure == "ml":
                volume = size
            elif base.measure == "g":
                volume = grams * (1.6 if base.category in ("水果", "新鲜蔬菜", "休闲零食", "蛋品烘焙") else 1.15)
            else:
                volume = grams * 3.0
            unit = {"ml": "瓶", "枚": "盒", "包": "提", "卷": "提"}.get(base.measure, "份")
            index = len(products)
            products.append(
                Product(
                    index=index,
                    sku_id=f"SKU{index + 1:04d}",
                    name=f"{base.name} {_format_pack(base, size)}",
                    category=base.category,
                    price_fen=price_fen,
                    weight_g=max(1, round(grams)),
                    volume_ml=max(1, round(volume)),
                    temp_zone=base.temp_zone,
                    unit=unit,
                )
            )
    return products


def _build_stores() -> list[Store]:
    return [
        Store(
            index=i,
            store_id=s.store_id,
            name=s.name,
            kind=s.kind,
            city="上海市",
            district=s.district,
            address=f"上海市{s.district}{s.township}{s.road}{s.number}号",
            lat=s.lat,
            lng=s.lng,
            eleme_shop_id=170001 + i,
            seed=s,
        )
        for i, s in enumerate(data.STORE_SEEDS)
    ]


def _build_riders(stores: list[Store], r: random.Random) -> list[Rider]:
    riders: list[Rider] = []
    for store in stores:
        count = r.randint(7, 11) if store.kind == "dark_store" else r.randint(4, 7)
        for k in range(count):
            vehicle = "scooter" if r.random() < 0.2 else "ebike"
            shift = data.RIDER_SHIFTS[k % len(data.RIDER_SHIFTS)]
            riders.append(
                Rider(
                    rider_id=f"R{store.store_id[2:]}{k + 1:02d}",
                    store_id=store.store_id,
                    name=random_name(r),
                    vehicle=vehicle,
                    capacity_kg=float(r.choice((15, 20, 25)) + (10 if vehicle == "scooter" else 0)),
                    cold_box=r.random() < (0.7 if store.kind == "dark_store" else 0.4),
                    shift_start=shift[0],
                    shift_end=shift[1],
                )
            )
    return riders


def _build_leaders(stores: list[Store], r: random.Random) -> list[Leader]:
    leaders: list[Leader] = []
    for store in stores:
        for k, compound in enumerate(store.seed.compounds):
            gate = r.choice(("东门", "南门", "北门", "西门", "1号门"))
            leaders.append(
                Leader(store.index, f"{store.index + 1}{k + 1}", random_name(r), f"{compound}{gate}团长自提点")
            )
    return leaders


def _nearest_store(lat: np.ndarray, lng: np.ndarray, stores: list[Store]) -> tuple[np.ndarray, np.ndarray]:
    """Index of and distance (m) to the nearest store, equirectangular (exact enough at 3 km)."""
    slat = np.array([s.lat for s in stores])
    slng = np.array([s.lng for s in stores])
    coslat = math.cos(math.radians(31.2))
    dy = (lat[:, None] - slat[None, :]) * M_PER_DEG_LAT
    dx = (lng[:, None] - slng[None, :]) * M_PER_DEG_LAT * coslat
    dist = np.hypot(dx, dy)
    nearest = dist.argmin(axis=1)
    return nearest, dist[np.arange(len(lat)), nearest]


def _sample_locations(
    anchors: np.ndarray, stores: list[Store], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points within CUSTOMER_RADIUS_M of their anchor store whose nearest store IS the anchor, so the
    address text (anchor's neighbourhood) and the coordinates never contradict each other."""
    n = len(anchors)
    lat = np.empty(n)
    lng = np.empty(n)
    todo = np.arange(n)
    slat = np.array([s.lat for s in stores])
    slng = np.array([s.lng for s in stores])
    coslat = math.cos(math.radians(31.2))
    while len(todo):
        radius = CUSTOMER_RADIUS_M * np.sqrt(rng.random(len(todo))) + 80.0
        radius = np.minimum(radius, CUSTOMER_RADIUS_M)
        theta = rng.random(len(todo)) * 2 * math.pi
        a = anchors[todo]
        cand_lat = slat[a] + radius * np.cos(theta) / M_PER_DEG_LAT
        cand_lng = slng[a] + radius * np.sin(theta) / (M_PER_DEG_LAT * coslat)
        nearest, _ = _nearest_store(cand_lat, cand_lng, stores)
        ok = nearest == a
        lat[todo[ok]] = cand_lat[ok]
        lng[todo[ok]] = cand_lng[ok]
        todo = todo[~ok]
    return np.round(lat, 6), np.round(lng, 6)


def _address_detail(r: random.Random, road: str) -> tuple[str, str]:
    number = r.randint(1, 1800)
    floor = r.randint(1, 18)
    room = f"{floor}{r.randint(1, 4):02d}室"
    style = r.random()
    if style < 0.45:
        detail = f"{road}{number}弄{r.randint(1, 60)}号{room}"
        street_no = f"{road}{number}弄"
    elif style < 0.8:
        detail = f"{road}{number}号{r.randint(1, 12)}号楼{r.randint(1, 4)}单元{room}"
        street_no = f"{road}{number}号"
    else:
        detail = f"{road}{number}号{room}"
        street_no = f"{road}{number}号"
    return detail, street_no


def _mobile(r: random.Random, taken: set[str]) -> str:
    while True:
        phone = r.choice(data.MOBILE_PREFIXES) + f"{r.randrange(10**8):08d}"
        if phone not in taken:
            taken.add(phone)
            return phone


def _build_customers(n: int, stores: list[Store], seed: int) -> tuple[list[Customer], np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, 1])
    r = random.Random(f"customers-{seed}")
    store_w = np.array(data.STORE_CUSTOMER_WEIGHT[: len(stores)])
    anchors = rng.choice(len(stores), size=n, p=store_w / store_w.sum())
    lat, lng = _sample_locations(anchors, stores, rng)
    has_second = rng.random(n) < SECOND_ADDRESS_SHARE
    second_anchor = rng.choice(len(stores), size=n, p=store_w / store_w.sum())
    lat2, lng2 = _sample_locations(second_anchor, stores, rng)
    shops = [s.index for s in stores if s.kind == "shop"]

    # Each customer favours a few channels (Dirichlet around the overall mix); a row is cumulative so
    # an order's channel is one uniform draw + searchsorted.
    mix = np.array([CHANNEL_MIX[c] for c in CHANNELS])
    prefs = rng.dirichlet(mix * 4.0, size=n)
    prefs = np.cumsum(prefs, axis=1)
    prefs[:, -1] = 1.0
    # Lognormal order frequency: a few regulars order daily, most customers rarely.
    weights = rng.lognormal(0.0, 0.6, size=n)
    weights = np.minimum(weights, 3.0 * weights.mean())  # nobody shops all day long
    weights /= weights.sum()

    phones: set[str] = set()
    texts: set[str] = set()
    openid_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    member_numbers = r.sample(range(1, 10_000_000), n)
    customers: list[Customer] = []
    for i in range(n):
        cid = f"C{i + 1:06d}"
        addresses: list[Address] = []
        spots = [(int(anchors[i]), float(lat[i]), float(lng[i]))]
        if has_second[i]:
            spots.append((int(second_anchor[i]), float(lat2[i]), float(lng2[i])))
        for k, (store_idx, a_lat, a_lng) in enumerate(spots):
            seed_info = stores[store_idx].seed
            while True:
                town = r.choice(seed_info.towns) if r.random() < 0.7 else ""
                detail, street_no = _address_detail(r, r.choice(seed_info.roads))
                text = f"上海市{seed_info.district}{town}{detail}"
                if text not in texts:
                    texts.add(text)
                    break
            addresses.append(
                Address(
                    f"{cid}/A{k + 1}",
                    text,
                    seed_info.district,
                    town,
                    detail,
                    f"上海市{seed_info.district}{street_no}",
                    a_lat,
                    a_lng,
                    store_idx,
                )
            )
        home = addresses[0]
        pos_store = min(shops, key=lambda s: (stores[s].lat - home.lat) ** 2 + (stores[s].lng - home.lng) ** 2)
        name = random_name(r)
        customers.append(
            Customer(
                index=i,
                customer_id=cid,
                name=name,
                gender="F" if r.random() < 0.55 else "M",
                phone=_mobile(r, phones),
                landline=f"021-{r.choice('56')}{r.randrange(10**7):07d}" if r.random() < LANDLINE_SHARE else None,
                addresses=tuple(addresses),
                pos_store=pos_store,
                member_id=f"M{member_numbers[i]:07d}",
                openid="o" + "".join(r.choice(openid_chars) for _ in range(27)),
                meituan_user_id=100_000_000 + i * 37 + r.randrange(37),
                eleme_user_id=9_000_000 + i * 13 + r.randrange(13),
                nickname=name if r.random() < 0.7 else name[0] + r.choice(data.NICK_SUFFIXES),
            )
        )
    _share_doors(customers, seed)
    return customers, weights, prefs


# Families and offices: different customers (own phone, own accounts) behind one door. Their orders are
# never one customer's parcel, though address and time agree.
HOUSEHOLD_SHARE = 0.05


def _share_doors(customers: list[Customer], seed: int) -> None:
    r = random.Random(f"households-{seed}")
    for i in range(1, len(customers)):
        if r.random() < HOUSEHOLD_SHARE:
            c, other = customers[i], customers[i - 1]
            c.addresses = (other.addresses[0],) + c.addresses[1:]


def _build_promotions(date: dt.date, products: list[Product], seed: int) -> tuple[list[Promotion], dict[str, int]]:
    r = random.Random(f"promotions-{seed}-{date.isoformat()}")
    start = iso_local(day_start_epoch(date - dt.timedelta(days=3)))
    end = iso_local(day_start_epoch(date + dt.timedelta(days=4)))
    order_level = [
        ("app", "full_reduction", 5900, 1000, 0.0),
        ("miniprogram", "coupon", 3900, 500, 0.0),
        ("meituan", "full_reduction", 3900, 600, 0.5),
        ("meituan", "delivery_fee", 0, 300, 1.0),
        ("eleme", "full_reduction", 4900, 800, 0.4),
        ("eleme", "coupon", 2900, 300, 1.0),
    ]
    promos = [
        Promotion(f"PRM{i + 1:03d}", ch, kind, thr, amt, None, start, end, share)
        for i, (ch, kind, thr, amt, share) in enumerate(order_level)
    ]
    # The item discounts are drawn afresh each day, so each is a promotion of its own day: its id carries the
    # date and its window is that day. Reusing a calendar id for another SKU (the promotions table is keyed
    # by promo_id) or announcing a week for a one-day discount would make the next day's calendar overwrite
    # or contradict the prices this day's orders were really sold at.
    day_start, day_end = iso_local(day_start_epoch(date)), iso_local(day_start_epoch(date + dt.timedelta(days=1)))
    item_discounts: dict[str, int] = {}
    for i, product in enumerate(r.sample(products, 10)):
        off = max(50, round(product.price_fen * r.choice((0.1, 0.15, 0.2)) / 10) * 10)
        item_discounts[product.sku_id] = off
        promos.append(
            Promotion(
                f"PRM{date:%y%m%d}{i + 1:02d}", "all", "discount_item", 0, off, product.sku_id, day_start, day_end, 0.0
            )
        )
    return promos, item_discounts


def _build_stock(
    stores: list[Store], products: list[Product], popularity: np.ndarray, seed: int, date: dt.date
) -> list[tuple[str, str, int]]:
    rng = np.random.default_rng([seed, 2, date.toordinal()])
    base = np.array([90.0 if s.kind == "dark_store" else 45.0 for s in stores])
    lam = base[:, None] * (0.3 + popularity[None, :] * len(products))
    on_hand = rng.poisson(lam)
    on_hand[rng.random(on_hand.shape) < 0.03] = 0  # some shelves are empty at opening
    return [(s.store_id, p.sku_id, int(on_hand[i, j])) for i, s in enumerate(stores) for j, p in enumerate(products)]


def product_popularity(products: list[Product]) -> np.ndarray:
    """Zipf-like SKU demand, shuffled by a fixed seed so popularity does not follow the SKU order."""
    ranks = np.random.default_rng(MASTER_SEED).permutation(len(products)) + 1
    w = 1.0 / ranks**0.8
    return w / w.sum()


def build_world(date: dt.date, seed: int, n_customers: int) -> World:
    master = random.Random(MASTER_SEED)
    stores = _build_stores()
    products = _build_products(master)
    riders = _build_riders(stores, master)
    leaders = _build_leaders(stores, master)
    popularity = product_popularity(products)
    customers, weights, prefs = _build_customers(n_customers, stores, seed)
    promotions, item_discounts = _build_promotions(date, products, seed)
    stock = _build_stock(stores, products, popularity, seed, date)
    snapshot_at = iso_local(day_start_epoch(date) + 6 * 3600)
    return World(
        date,
        seed,
        stores,
        products,
        popularity,
        customers,
        weights,
        prefs,
        riders,
        leaders,
        promotions,
        stock,
        snapshot_at,
        item_discounts,
    )


def customers_for(orders: int) -> int:
    """A few thousand customers per 20k orders (~5 orders each a day, so every channel identity recurs),
    never so few that a small day cannot space each customer's orders out."""
    return max(300, orders // 5)
