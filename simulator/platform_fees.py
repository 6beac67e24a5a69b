"""What the simulated platforms charge the merchant: the world's own fee structures, not the pipeline's.

Nothing here comes from the pipeline's configuration. The pipeline is meant to learn what it is paid from what
the platform states per order (Meituan `poi_receive_detail.wmPoiReceiveCent`, Eleme `income`), so the world
charges in a way a flat configured rate cannot reproduce:

- Meituan / Eleme: a commission on the goods after merchant discounts with a minimum charge per order
  (保底), plus a per-order delivery-service fee (履约服务费) for platform riders; packaging passes through.
- WeChat Pay / Alipay: 0.6% of the paid amount per transaction, rounded to the fen half up (the platforms
  charge per transaction and round to the fen; amounts under half a fen cost nothing).
- Group-buy leaders: a flat commission share.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class PlatformTariff:
    commission_rate: str
    minimum_commission_fen: int
    delivery_service_fen: int


# The world's contracts (yuan figures typical of published merchant tariffs; not the pipeline's config).
TARIFFS: dict[str, PlatformTariff] = {
    "meituan": PlatformTariff(commission_rate="0.065", minimum_commission_fen=300, delivery_service_fen=250),
    "eleme": PlatformTariff(commission_rate="0.07", minimum_commission_fen=260, delivery_service_fen=200),
}
PAYMENT_RATE = "0.006"
GROUPBUY_RATE = "0.10"
POS_TENDER_RATES: dict[str, str] = {"cash": "0", "wechat": "0.0038", "alipay": "0.0038", "card": "0.006"}


def rate_fee(base_fen: int, rate: str) -> int:
    return int((Decimal(base_fen) * Decimal(rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def platform_charges(channel: str, goods_fen: int, merchant_disc_fen: int) -> tuple[int, int]:
    """(commission, delivery-service fee) in fen the platform deducts from one order."""
    t = TARIFFS[channel]
    commission = max(rate_fee(goods_fen - merchant_disc_fen, t.commission_rate), t.minimum_commission_fen)
    return commission, t.delivery_service_fen


def platform_receivable(channel: str, goods_fen: int, merchant_disc_fen: int, packaging_fen: int) -> int:
    """What the platform pays the merchant for an order: goods after the merchant's own discounts, plus
    packaging, minus commission and delivery service. Platform-funded discounts (including platform-run
    promotions the merchant never configured) are the platform's cost and do not reduce it."""
    commission, service = platform_charges(channel, goods_fen, merchant_disc_fen)
    return goods_fen - merchant_disc_fen + packaging_fen - commission - service
