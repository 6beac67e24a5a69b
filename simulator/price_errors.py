"""Price errors a simulated day carries on purpose, and what a correct price is by the world's own rules: a SKU
listed at another price on one channel (a listing not updated after a price change), a promotion missing from
an order, a discount that is in no promotion calendar. Used by problems.py, which records them in the truth.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from itertools import combinations
from typing import TYPE_CHECKING

from .orders import AppliedPromo, Order, Pricer
from .world import Promotion, World

if TYPE_CHECKING:
    from .problems import ProblemRules

LIST_PRICE_ERRORS: tuple[tuple[str, float], ...] = (("meituan", 1.15), ("eleme", 0.85))
UNLISTED_DISCOUNTS_FEN: tuple[int, ...] = (333, 444, 555, 666, 777)


def plan_list_price_errors(world: World, r: random.Random) -> dict[tuple[str, str], int]:
    """(channel, sku) -> listed price (fen): a channel listing not updated after a price change. SKUs of
    middling popularity (a handful of orders a day) without item discounts."""
    ranked = sorted(world.products, key=lambda p: (-world.product_popularity[p.index], p.index))
    candidates = [p for p in ranked[30:90] if p.sku_id not in world.item_discounts]
    chosen = r.sample(candidates, len(LIST_PRICE_ERRORS))
    return {
        (channel, p.sku_id): round(p.price_fen * factor / 10) * 10
        for (channel, factor), p in zip(LIST_PRICE_ERRORS, chosen)
    }


class PriceBook:
    """What a correct order costs: catalogue prices, the channel price factor or item discounts, the
    order promotions (full reductions always, coupons and delivery-fee reductions optionally)."""

    def __init__(self, world: World, rules: ProblemRules) -> None:
        self.rules = rules
        self.catalogue = {p.sku_id: p.price_fen for p in world.products}
        self.item_promos: dict[str, list[Promotion]] = {}
        self.order_promos: list[Promotion] = []
        for p in world.promotions:
            if p.kind == "discount_item" and p.sku_id:
                self.item_promos.setdefault(p.sku_id, []).append(p)
            elif p.kind in ("full_reduction", "coupon", "delivery_fee"):
                self.order_promos.append(p)

    def _channel_unit(self, catalogue_fen: int, factor: float) -> int:
        step = Decimal(str(self.rules.channel_price_rounding_yuan)) * 100
        value = (Decimal(catalogue_fen) * Decimal(str(factor)) / step).quantize(Decimal(1), ROUND_HALF_UP)
        return int(value * step)

    def options(self, o: Order) -> list[tuple[int, int]]:
        """Every (paid, platform share) in fen a correct pricing of this basket could produce."""
        factor = self.rules.channel_price_factor.get(o.channel)
        goods = item = item_platform = 0
        for ln in o.lines:
            cat = self.catalogue[ln.product.sku_id]
            goods += cat * ln.qty
            if factor is not None:
                item += (cat - self._channel_unit(cat, factor)) * ln.qty
                continue
            for p in self.item_promos.get(ln.product.sku_id, ()):
                if p.channel in (o.channel, "all"):
                    off = min(p.amount_fen, cat) * ln.qty
                    item += off
                    item_platform += round(off * p.platform_share)
        net = goods - item
        mandatory: list[tuple[int, int]] = []
        optional: list[tuple[int, int]] = []
        for p in self.order_promos:
            if p.channel not in (o.channel, "all"):
                continue
            if p.kind == "delivery_fee":
                if o.fulfilment == "delivery" and o.delivery_fee_fen > 0:
                    reduce = min(p.amount_fen, o.delivery_fee_fen)
                    optional.append((reduce, round(reduce * p.platform_share)))
            elif net >= p.threshold_fen:
                target = mandatory if p.kind == "full_reduction" else optional
                target.append((p.amount_fen, round(p.amount_fen * p.platform_share)))
        base_paid = net - sum(m[0] for m in mandatory) + o.delivery_fee_fen + o.packaging_fee_fen
        base_platform = item_platform + sum(m[1] for m in mandatory)
        out = []
        for k in range(len(optional) + 1):
            for subset in combinations(optional, k):
                out.append((base_paid - sum(s[0] for s in subset), base_platform + sum(s[1] for s in subset)))
        return out

    def mismatch(self, o: Order) -> bool:
        """A price mismatch is about what the merchant charges and funds: the order before platform-funded
        discounts (paid + platform share) must be a correct pricing's, and the platform must fund at least
        its share of our promotions. What the platform funds beyond that is its own promotion, not ours."""
        tol = self.rules.tolerance_fen
        charged = o.paid_fen + o.platform_disc_fen
        return not any(
            abs(charged - (paid + platform)) <= tol and o.platform_disc_fen >= platform - tol
            for paid, platform in self.options(o)
        )

    def expected_paid(self, o: Order) -> int:
        charged = o.paid_fen + o.platform_disc_fen
        return min(self.options(o), key=lambda opt: (abs(charged - opt[0] - opt[1]), abs(o.paid_fen - opt[0]), opt))[0]


def apply_price_error(o: Order, kind: str, book: PriceBook, r: random.Random) -> str | None:
    """Break the order's price in a way its own fields stay consistent with (paid = goods − discounts +
    fees), as a real channel would report it. Returns the kind applied, None if it would go unnoticed."""
    snapshot = (
        o.merchant_disc_fen,
        o.platform_disc_fen,
        o.paid_fen,
        list(o.promos),
        [(ln.unit_fen, ln.item_disc_fen, ln.disc_share_fen) for ln in o.lines],
    )
    if kind == "missing_promotion":
        applied = [p for p in o.promos if p.promo.kind == "full_reduction"]
        if not applied:
            kind = "unlisted_discount"
        else:
            p = applied[0]
            o.promos.remove(p)
            o.merchant_disc_fen -= p.merchant_fen
            o.platform_disc_fen -= p.platform_fen
            o.paid_fen += p.reduce_fen
    if kind == "unlisted_discount":
        if o.channel in ("pos", "groupbuy"):
            # A manual price at the till / a leader's sheet: one line sold below its price.
            ln = max(o.lines, key=lambda x: (x.unit_fen, x.product.index))
            off = min(r.choice((111, 222, 333)), ln.unit_fen // 2)
            ln.unit_fen -= off
            ln.item_disc_fen += off * ln.qty
            ln.disc_share_fen += off * ln.qty
            o.merchant_disc_fen += off * ln.qty
            o.paid_fen -= off * ln.qty
        else:
            # A merchant coupon that is not in the promotion calendar.
            amount = min(r.choice(UNLISTED_DISCOUNTS_FEN), max(111, (o.paid_fen - o.delivery_fee_fen) // 2))
            promo = Promotion(f"PRM9{o.idx % 100:02d}", o.channel, "coupon", 0, amount, None, "", "", 0.0)
            o.promos.append(AppliedPromo(promo, amount, 0, amount))
            o.merchant_disc_fen += amount
            o.paid_fen -= amount
    Pricer._share_discounts(o)
    if book.mismatch(o):
        return kind
    o.merchant_disc_fen, o.platform_disc_fen, o.paid_fen, o.promos, lines = snapshot
    for ln, (unit, item, share) in zip(o.lines, lines):
        ln.unit_fen, ln.item_disc_fen, ln.disc_share_fen = unit, item, share
    return None
