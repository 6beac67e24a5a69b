"""Settlement statements of a simulated day, in each channel's real layout, with known discrepancies.

Which orders settle where: Meituan and Eleme orders on the platform's per-order statement; app orders
paid by WeChat Pay or Alipay, and every mini-program order, on the WeChat Pay / Alipay bill (商户订单号 = our
order number; a cancelled order shows its payment and its refund); group-buy orders on their leader's
statement; POS sales as end-of-day totals per store and tender. Amounts follow the world's own tariffs
(platform_fees.py: commission with a minimum per order and a delivery-service fee on the platforms, 0.6%
per transaction on the payment bills), never the pipeline's configured rates.

Discrepancies are injected per statement channel and recorded in ground truth (`settlement_variances`),
each with the statement day on which reconciliation must report it:

    timing_difference      paid on the next day's statement (also every payment completed after midnight)
    missing_settlement     never paid: reported on the first statement after the grace days
    amount_mismatch        the statement's amount differs from the order's
    fee_mismatch           the fee charged is not the contract rate
    duplicate_settlement   the same order paid twice (group-buy leaders: again on the next day's sheet)
    unexpected_refund      a refund for an order that was not cancelled
    unknown_order          a line for an order the system never had
    tender_total_mismatch  a POS end-of-day tender total that differs from the tills' tickets

Lines due on the next day's statement are kept in `_truth/<date>/settlements_next_day.json`, which the next
day's simulation adds to its statements; simulate consecutive days in date order for a week.

This module decides what the statements say; render_statements.py lays each channel's file out.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass, fields, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import orjson

from .clock import DAY_S, day_start_epoch, local_parts, next_day
from .orders import Order
from .platform_fees import GROUPBUY_RATE, PAYMENT_RATE, POS_TENDER_RATES, TARIFFS, platform_charges
from .render_statements import PER_ORDER_CHANNELS, clear_settlements, write_statements
from .writers import atomic_write

VARIANCE_SHARE = 0.004  # of a channel's payments, per kind of discrepancy (at least one each)
TIMING_SHARE = 0.015  # of a channel's payments, settled a day late on purpose (at least one)
# What a channel wrongly charges in a fee_mismatch.
WRONG_FEE_RATES: dict[str, str] = {
    "meituan": "0.10",
    "eleme": "0.10",
    "wechatpay": "0.01",
    "alipay": "0.01",
    "groupbuy": "0.12",
}
CARRY_FILE = "settlements_next_day.json"
POS_TENDERS: dict[str, str] = {"现金": "cash", "微信": "wechat", "支付宝": "alipay", "银行卡": "card"}

# How the world settles: grace before an unpaid order counts as missing, which channels are platforms, rates.
GRACE_DAYS = 1


@dataclass(frozen=True)
class SettleRules:
    grace_days: int
    fee_rates: dict[str, str]
    platforms: tuple[str, ...]
    pos_rates: dict[str, str]

    @classmethod
    def of_the_world(cls) -> SettleRules:
        """The world's own tariffs (platform_fees.py)."""
        rates = {ch: t.commission_rate for ch, t in TARIFFS.items()}
        rates.update({"wechatpay": PAYMENT_RATE, "alipay": PAYMENT_RATE, "groupbuy": GROUPBUY_RATE})
        return cls(grace_days=GRACE_DAYS, fee_rates=rates, platforms=tuple(TARIFFS), pos_rates=dict(POS_TENDER_RATES))


def fee_fen(base_fen: int, rate: str) -> int:
    """rate × base, rounded half up to the fen, as the payment platforms round a per-transaction fee."""
    return int((Decimal(base_fen) * Decimal(rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(eq=False)
class Entry:
    """One statement line before it is rendered in its channel's layout; money in fen, times epoch s."""

    channel: str
    kind: str  # payment | refund
    order_id: str
    order_key: str | None  # None: an order the system never had
    when: int  # when the payment / refund / settlement happened: decides the statement day
    created: int
    gross: int
    fee: int
    net: int
    rate: str
    refund: int = 0
    txn_id: str = ""
    refund_id: str = ""
    store_id: str = ""
    store_name: str = ""
    goods: int = 0
    merchant_disc: int = 0
    platform_disc: int = 0
    delivery: int = 0
    packaging: int = 0
    shop_id: int = 0
    buyer: str = ""
    trade_type: str = ""
    leader_code: str = ""
    leader_name: str = ""
    pickup_point: str = ""
    member: str = ""
    injected: str = ""  # the discrepancy deliberately put on this line, if any

    @property
    def day(self) -> str:
        return local_parts(self.when)[0]


@dataclass(frozen=True)
class PosTotal:
    store_id: str
    tender: str  # as the till names it (现金 …)
    count: int
    gross: int
    fee: int

    @property
    def net(self) -> int:
        return self.gross - self.fee


class _Ids:
    def __init__(self, date: dt.date, r: random.Random) -> None:
        self.ymd = date.strftime("%Y%m%d")
        self.r = r
        self.seq = 0

    def digits(self, n: int) -> str:
        return f"{self.r.randrange(10**n):0{n}d}"

    def for_entry(self, e: Entry) -> None:
        """A new id for a payment; a refund on a payment bill keeps its payment's id and gets a refund id."""
        self.seq += 1
        if e.channel == "wechatpay":
            if e.kind == "refund":
                e.refund_id = "50300" + self.ymd[2:] + self.digits(18)
            else:
                e.txn_id = "42000" + self.ymd[2:] + self.digits(17)
        elif e.channel == "alipay":
            if e.kind == "refund":
                e.refund_id = f"RF{e.order_id}{self.seq:04d}"
            else:
                e.txn_id = self.ymd + "22001" + self.digits(15)
        elif e.channel == "meituan":
            e.txn_id = f"MTB{self.ymd}{self.seq:08d}"
        elif e.channel == "eleme":
            e.txn_id = self.ymd + self.digits(12)
        else:
            e.txn_id = f"{e.leader_code}/{e.order_id}"


# ---------------------------------------------------------------------------------------------------
# What each order should produce


def statement_channel(o: Order) -> str | None:
    if o.channel in ("meituan", "eleme", "groupbuy"):
        return None if o.channel == "meituan" and o.payment == "1" else o.channel  # pay_type 1: cash on delivery
    if o.channel == "miniprogram" or (o.channel == "app" and o.payment == "wechat"):
        return "wechatpay"
    if o.channel == "app" and o.payment == "alipay":
        return "alipay"
    return None  # POS (totals), app card / balance: not settled by a statement


def _payment(o: Order, channel: str, rules: SettleRules, day_end: int) -> Entry:
    rate = rules.fee_rates[channel]
    if channel in rules.platforms:
        base = o.goods_fen - o.merchant_disc_fen
        commission, service = platform_charges(channel, o.goods_fen, o.merchant_disc_fen)
        fee = commission + service
        # The platform's riders deliver: the customer's delivery fee stays with the platform.
        net = base + o.packaging_fee_fen - fee
    else:
        fee = fee_fen(o.paid_fen, rate)
        net = o.paid_fen - fee
    # Payment bills are by payment time; platforms and leaders settle an order on its own business day.
    when = o.paid_at if channel in ("wechatpay", "alipay") else min(o.paid_at, day_end - 1)
    leader = o.leader
    return Entry(
        channel=channel,
        kind="payment",
        order_id=o.order_id,
        order_key=o.key,
        when=when,
        created=o.created,
        gross=o.paid_fen,
        fee=fee,
        net=net,
        rate=rate,
        store_id=o.store.store_id,
        store_name=o.store.name,
        goods=o.goods_fen,
        merchant_disc=o.merchant_disc_fen,
        platform_disc=o.platform_disc_fen,
        delivery=o.delivery_fee_fen,
        packaging=o.packaging_fee_fen,
        shop_id=o.store.eleme_shop_id,
        buyer=(
            o.customer.openid
            if o.channel == "miniprogram"
            else f"{o.customer.name[0]}**({o.customer.phone[:3]}****{o.customer.phone[-4:]})"
        ),
        trade_type="JSAPI" if o.channel == "miniprogram" else "APP",
        leader_code=f"LD{leader.team_suffix}" if leader else "",
        leader_name=leader.name if leader else "",
        pickup_point=leader.pickup_point if leader else "",
        member=o.customer.nickname,
    )


def _refund(payment: Entry, amount: int, when: int) -> Entry:
    fee_back = payment.fee if amount == payment.gross else fee_fen(amount, payment.rate)
    return replace(
        payment,
        kind="refund",
        when=when,
        refund=amount,
        fee=-fee_back,
        net=-amount + fee_back,
        refund_id="",
        injected="",
    )


def _pos_totals(orders: list[Order], rules: SettleRules) -> list[PosTotal]:
    sums: dict[tuple[str, str], list[int]] = {}
    for o in orders:
        if o.channel == "pos" and not o.cancelled:
            acc = sums.setdefault((o.store.store_id, o.payment), [0, 0])
            acc[0] += 1
            acc[1] += o.paid_fen
    return [
        PosTotal(store, tender, n, gross, fee_fen(gross, rules.pos_rates[POS_TENDERS[tender]]))
        for (store, tender), (n, gross) in sorted(sums.items())
    ]


# ---------------------------------------------------------------------------------------------------
# The day


@dataclass
class SettlementDay:
    files: list[Path]
    variances: list[dict[str, Any]]


def _variance(
    e: Entry | None,
    category: str,
    statement_day: str,
    amount: int,
    *,
    channel: str | None = None,
    ref: str | None = None,
) -> dict[str, Any]:
    return {
        "channel": channel or (e.channel if e else ""),
        "statement_date": statement_day,
        "category": category,
        "ref": ref if ref is not None else (e.order_id if e else ""),
        "order_key": e.order_key if e else None,
        "transaction_id": e.txn_id if e else None,
        "amount": float(Decimal(amount).scaleb(-2)),
    }


def _load_carry(out: Path, date: dt.date) -> list[Entry]:
    path = out / "_truth" / (date - dt.timedelta(days=1)).isoformat() / CARRY_FILE
    if not path.exists():
        return []
    names = {f.name for f in fields(Entry)}
    return [
        Entry(**{k: v for k, v in row.items() if k in names})
        for row in orjson.loads(path.read_bytes())
        if local_parts(row["when"])[0] == date.isoformat()
    ]


def write_settlement_day(
    out: Path, date: dt.date, seed: int, orders: list[Order], rules: SettleRules | None = None
) -> SettlementDay:
    """Write `date`'s statements for the valid `orders` of that day (plus lines carried from the day before)
    and return the injected discrepancies. Deterministic for the same arguments and carried lines."""
    rules = rules or SettleRules.of_the_world()
    day = date.isoformat()
    day0 = day_start_epoch(date)
    day_end = day0 + DAY_S
    r = random.Random(f"settlements-{seed}-{day}")
    ids = _Ids(date, r)

    entries: list[Entry] = []
    for o in sorted(orders, key=lambda o: o.idx):
        channel = statement_channel(o)
        if channel is None or (o.cancelled and channel not in ("wechatpay", "alipay")):
            continue
        pay = _payment(o, channel, rules, day_end)
        ids.for_entry(pay)
        entries.append(pay)
        if o.cancelled:  # a payment bill shows the payment and its refund
            refund = _refund(pay, pay.gross, max(o.updated_at, pay.when + 60))
            ids.for_entry(refund)
            entries.append(refund)

    variances: list[dict[str, Any]] = []
    cancelled = {o.key for o in orders if o.cancelled}
    for channel in PER_ORDER_CHANNELS:
        mine = [e for e in entries if e.channel == channel]
        pool = [e for e in mine if e.kind == "payment" and e.when < day_end and e.order_key not in cancelled]
        r.shuffle(pool)
        entries.extend(_inject(channel, mine, pool, variances, r, ids, rules, date, day0))
    entries = [e for e in entries if e.injected != "missing_settlement"]

    # Payments that completed after midnight belong to the next day's bill: a natural timing difference.
    for e in entries:
        if e.kind == "payment" and e.order_key and e.when >= day_end and e.injected in ("", "timing_difference"):
            variances.append(_variance(e, "timing_difference", e.day, e.net))

    pos = _pos_totals(orders, rules)
    if pos:
        k = r.randrange(len(pos))
        t = pos[k]
        short = min(t.gross, r.randint(1000, 8000))
        bad = PosTotal(
            t.store_id,
            t.tender,
            t.count,
            t.gross - short,
            fee_fen(t.gross - short, rules.pos_rates[POS_TENDERS[t.tender]]),
        )
        pos[k] = bad
        variances.append(
            _variance(
                None,
                "tender_total_mismatch",
                day,
                bad.net - t.net,
                channel="pos",
                ref=f"{t.store_id}/{POS_TENDERS[t.tender]}",
            )
        )

    carried = _load_carry(out, date)
    # Every entry is of this day or, settled after midnight, of the next (none is two days late).
    today = carried + [e for e in entries if e.when < day_end]
    tomorrow = [e for e in entries if e.when >= day_end]
    clear_settlements(out, day)
    files = write_statements(out, date, today, pos)
    atomic_write(
        out / "_truth" / day / CARRY_FILE, orjson.dumps([asdict(e) for e in tomorrow], option=orjson.OPT_INDENT_2)
    )
    variances.sort(key=lambda v: (v["statement_date"], v["channel"], v["category"], v["ref"]))
    return SettlementDay(files, variances)


def _inject(
    channel: str,
    mine: list[Entry],
    pool: list[Entry],
    variances: list[dict[str, Any]],
    r: random.Random,
    ids: _Ids,
    rules: SettleRules,
    date: dt.date,
    day0: int,
) -> list[Entry]:
    """Apply each kind of discrepancy to its own orders from `pool`; returns entries to add."""
    day = date.isoformat()
    n = len(pool)
    each = max(1, round(n * VARIANCE_SHARE))
    added: list[Entry] = []

    taken: set[int] = set()

    def take(k: int, ok=lambda e: True) -> list[Entry]:
        """The next k orders of the (shuffled) pool that qualify and carry no discrepancy yet."""
        chosen = []
        for e in pool:
            if len(chosen) == k:
                break
            if id(e) not in taken and ok(e):
                chosen.append(e)
                taken.add(id(e))
        return chosen

    for e in take(max(1, round(n * TIMING_SHARE))):
        e.when = day0 + DAY_S + r.randint(3600, 4 * 3600)  # settled in the small hours of the next day
        e.injected = "timing_difference"  # recorded with the natural ones once every entry's day is final
    for e in take(each):
        e.injected = "missing_settlement"  # dropped from the statements by the caller
        variances.append(_variance(e, "missing_settlement", next_day(day, rules.grace_days), -e.net))
    for e in take(each, lambda e: e.gross > 2000):
        delta = r.choice((-1, 1)) * r.randint(100, min(2000, e.gross // 2))
        e.gross += delta
        e.net += delta
        e.goods += delta  # Eleme's paid amount is derived from its goods amount
        variances.append(_variance(e, "amount_mismatch", day, delta))
    base = (lambda e: e.goods - e.merchant_disc) if channel in rules.platforms else (lambda e: e.gross)
    for e in take(each, lambda e: fee_fen(base(e), WRONG_FEE_RATES[channel]) - e.fee >= 5):
        wrong = fee_fen(base(e), WRONG_FEE_RATES[channel])
        variances.append(_variance(e, "fee_mismatch", day, e.fee - wrong))
        e.net -= wrong - e.fee
        e.fee, e.rate = wrong, WRONG_FEE_RATES[channel]
    for e in take(each):
        # Paid twice: a second payment the same day; a group-buy leader lists the order again next day
        # (a second identical row on one sheet could not be told from a re-delivered file).
        when = (
            day0 + DAY_S + r.randint(3600, 6 * 3600)
            if channel == "groupbuy"
            else min(e.when + r.randint(60, 900), day0 + DAY_S - 1)
        )
        dup = replace(e, when=when, injected="duplicate_settlement")
        ids.for_entry(dup)
        added.append(dup)
        variances.append(_variance(dup, "duplicate_settlement", dup.day, dup.net))
    for e in take(each, lambda e: e.gross >= 400):
        refund = _refund(
            e, r.randint(100, min(1500, e.gross // 2)), min(e.when + r.randint(600, 7200), day0 + DAY_S - 1)
        )
        refund.injected = "unexpected_refund"
        ids.for_entry(refund)
        added.append(refund)
        variances.append(_variance(refund, "unexpected_refund", day, refund.net))
    template = mine[0] if mine else None
    for k in range(each if template else 0):
        assert template is not None
        gross = r.randint(1500, 15000)
        fee = fee_fen(gross, rules.fee_rates[channel])
        order_id = _unknown_id(channel, date, k)
        ghost = replace(
            template,
            kind="payment",
            order_id=order_id,
            order_key=None,
            when=day0 + r.randint(8 * 3600, 21 * 3600),
            created=day0 + r.randint(7 * 3600, 8 * 3600),
            gross=gross,
            fee=fee,
            net=gross - fee,
            refund=0,
            goods=gross,
            merchant_disc=0,
            platform_disc=0,
            delivery=0,
            packaging=0,
            rate=rules.fee_rates[channel],
            injected="unknown_order",
        )
        ids.for_entry(ghost)
        added.append(ghost)
        variances.append(_variance(ghost, "unknown_order", day, ghost.net))
    return added


def _unknown_id(channel: str, date: dt.date, k: int) -> str:
    """An order number in the channel's style that no simulated order has (longer sequence part)."""
    ymd = date.strftime("%Y%m%d")
    if channel == "meituan":
        return f"2701{ymd[2:]}9{k:07d}"
    if channel == "eleme":
        return f"50{ymd[2:]}9{k:09d}"
    if channel == "groupbuy":
        return f"GB{ymd}8{k:05d}"
    return f"APP{ymd}8{k:06d}"
