"""The business shape of a simulated day: channel mix, time-of-day intensity, fulfilment, cancellation and
follow-up rates, fault rates. One place to tune what a "realistic day" means."""

from __future__ import annotations

from ingestion.contract import CHANNELS  # noqa: F401  (re-exported so every module uses the contract's order)

CHANNEL_MIX: dict[str, float] = {
    "app": 0.20,
    "miniprogram": 0.15,
    "meituan": 0.25,
    "eleme": 0.20,
    "pos": 0.12,
    "groupbuy": 0.08,
}
DELIVERY_CHANNELS: tuple[str, ...] = ("app", "miniprogram", "meituan", "eleme")
JSON_CHANNELS: tuple[str, ...] = ("app", "miniprogram", "meituan", "eleme")
CSV_CHANNELS: tuple[str, ...] = ("pos", "groupbuy")

# Share of orders picked up by the customer (the rest are delivered); POS is always in_store.
# Who carries a Meituan delivery order, as the push's logistics_code: most go with Meituan's own riders (1001
# 专送 franchise, 2002 快送, 3001 混合送), the rest with the store's riders (0000 商家自配) — stores call
# their own riders in for nearby orders and when Meituan's are short. Weights per order.
MEITUAN_LOGISTICS_CODES: dict[str, float] = {"0000": 0.35, "1001": 0.40, "2002": 0.10, "3001": 0.15}

SELF_PICKUP_SHARE: dict[str, float] = {
    "app": 0.08,
    "miniprogram": 0.10,
    "meituan": 0.05,
    "eleme": 0.04,
    "groupbuy": 0.75,
}

# Relative orders per local hour 00..23: breakfast (07-09), lunch (11-13) and dinner (17-20) peaks,
# a quiet night. ~97% of the mass falls in 07:00-22:00.
HOURLY_INTENSITY: tuple[float, ...] = (
    0.15,
    0.08,
    0.04,
    0.03,
    0.04,
    0.12,
    0.6,
    3.2,
    5.0,
    4.0,
    3.4,
    5.2,
    5.8,
    3.6,
    2.6,
    2.4,
    3.2,
    5.6,
    7.0,
    6.2,
    4.2,
    2.8,
    1.3,
    0.45,
)
POS_OPEN_HOURS = range(7, 22)  # tills only ring up while the shop is open

LINES_PER_ORDER_WEIGHTS: tuple[float, ...] = (0.22, 0.22, 0.18, 0.13, 0.10, 0.07, 0.05, 0.03)  # 1..8 lines
QUANTITY_WEIGHTS: tuple[float, ...] = (0.62, 0.24, 0.09, 0.05)  # qty 1..4

CANCEL_RATE = 0.03
FOLLOW_UP_RATE = 0.08  # of delivery orders, followed by the same customer again
FOLLOW_UP_CHAIN_SHARE = 0.15  # of follow-ups, followed once more
FOLLOW_UP_SAME_CHANNEL = 0.35
FOLLOW_UP_INSIDE_SHARE = 0.75  # gap < 30 min; the rest 30-60 min so they must NOT merge
BAD_RECORD_RATE = 0.02
DUPLICATE_RATE = 0.01
DUPLICATE_CHANNELS: tuple[str, ...] = ("app", "meituan", "eleme")
