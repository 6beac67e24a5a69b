"""What happens to a channel's push once its signature is good: the order is read by the batch path's own adapter,
its stock is reserved, it is appended to the durable intake log, and only then is the channel answered.

The order of those steps is what makes a crash harmless. A reservation is durable before the append, and the
append is durable before the answer; a push the channel saw no answer to comes again, finds its reservation
`unchanged` and is appended if the log does not have it yet. Nothing is reserved twice and nothing answered is
lost. An order the log received twice (a crash between append and the mark that says so) is one order in the
warehouse: the batch loader counts an identical record as a duplicate.

What the channel hears:
- an order we can hold stock for, or one whose channel accepts short stock: accepted;
- short stock on a channel whose rule is to refuse: our apps are told `out_of_stock` (409) before the customer's
  order is confirmed; a platform's paid order cannot be un-pushed, so the push is accepted and the order queued
  for the platform's cancel call (`refusals`). Either way the order lands placed-then-cancelled, so the
  warehouse sees the demand it could not serve and holds nothing for it;
- a record no adapter can read: it is landed all the same (the batch path quarantines it with its reason);
  our apps are told why (422), platforms are acknowledged (they would only re-push the same bytes).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

import redis

from ingestion.adapters import ADAPTERS
from ingestion.adapters.base import Catalogue
from ingestion.buffer.log import IntakeEntry, IntakeLog
from ingestion.contract import LOCAL_TIMEZONE
from ingestion.gateway.cancellations import as_cancelled
from ingestion.gateway.protocols import Push
from ingestion.gateway.reading import OrderRead, Unreadable, read_order
from ingestion.stock.counters import LiveCounters
from ingestion.stock.reservations import OrderDemand, Reservation, StockLedger, status_us

_LOCAL = ZoneInfo(LOCAL_TIMEZONE)
OWN_CHANNELS = frozenset({"app", "miniprogram"})
# How long the gateway remembers an order's last record and what it answered (a cancel notice can come days
# after the order; a retried push within minutes).
MEMORY_SECONDS = 14 * 24 * 3600
# The order's record is what a cancel notice lands again and stamps just after: it must be the newest version
# (by the channel's status time, the warehouse's rule), not whichever push came last. KEYS: record, its status
# time; ARGV: record, status time in µs or '', TTL. A version stating no time ranks below one that does.
_KEEP_NEWEST = """
local held = redis.call('GET', KEYS[2])
local older = held and held ~= '' and (ARGV[2] == '' or tonumber(ARGV[2]) < tonumber(held))
if older and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1
"""

ShortStockRule = Literal["refuse", "accept"]


@dataclass(frozen=True)
class Answer:
    accepted: bool
    code: str  # accepted | duplicate | out_of_stock | unreadable | cancelled | unknown_order | …
    message: str = ""
    status: int = 200
    order_key: str | None = None


@dataclass
class _Pending:
    """What a batch of pushes writes once its reservations are made: one round trip, one fsync."""

    entries: list[IntakeEntry] = field(default_factory=list)
    answered: dict[str, str] = field(default_factory=dict)
    refusals: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Intake:
    client: redis.Redis
    ledger: StockLedger
    log: IntakeLog
    counters: LiveCounters
    catalogue: Catalogue
    short_stock: Mapping[str, ShortStockRule] = field(default_factory=dict)
    namespace: str = "oh"
    clock: Callable[[], float] = time.time
    _catalogue_sets: tuple[frozenset[str], frozenset[str]] | None = field(default=None, init=False, repr=False)
    _keep_newest: Any = field(default=None, init=False, repr=False)

    def take(self, push: Push) -> Answer:
        return self.take_many([push])[0]

    def take_many(self, pushes: Sequence[Push]) -> list[Answer]:
        """Answers in the order of the pushes. The records are read together (one normalisation per channel:
        its cost is per call, not per record), the reservations made one order at a time, the log appended in
        one round trip; only then are the answers returned."""
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        answers: list[Answer | None] = [None] * len(pushes)
        records: list[tuple[int, str, str]] = []
        for i, push in enumerate(pushes):
            if push.kind in ("ping", "notice"):
                # A URL check, or a push we do not act on (delivery tracking, a refund still being asked for, a
                # partial refund): acknowledged, or the platform would keep sending it.
                answers[i] = Answer(True, push.kind)
            elif push.kind == "cancel":
                record = self._record_of(f"{push.channel}:{push.channel_order_id}")
                if record is None:
                    answers[i] = self._cancel_before_order(push, now)
                else:
                    records.append((i, push.channel, as_cancelled(push.channel, record, now)))
            else:
                records.append((i, push.channel, push.record or ""))
        pending = _Pending()
        reads = self._read_many(records, now)
        orders = []
        for i, channel, record in records:
            read = reads[i]
            if isinstance(read, str):
                answers[i] = self._unreadable(channel, record, read, now, pending)
            else:
                orders.append((i, channel, record, read))
        for (i, *_), answer in zip(orders, self._orders(orders, now, pending), strict=True):
            answers[i] = answer
        self.log.append_many(pending.entries)
        if pending.answered or pending.refusals:
            pipe = self.client.pipeline(transaction=False)
            for order_key, answered in pending.answered.items():
                pipe.set(self._key("answered", order_key), answered, ex=MEMORY_SECONDS)
            for refusal in pending.refusals:
                pipe.xadd(self._key("refusals"), refusal, maxlen=100_000, approximate=True)
            pipe.execute()
        return [answer for answer in answers if answer is not None]

    # -- reading ----------------------------------------------------------------------------------------------

    def _read_many(self, records: list[tuple[int, str, str]], now: dt.datetime) -> dict[int, OrderRead | str]:
        """Each record's stock facts, or the reason the batch path will quarantine it."""
        stores, skus = self._known()
        out: dict[int, OrderRead | str] = {}
        for i, channel, record in records:
            try:
                out[i] = read_order(ADAPTERS[channel], record, stores, skus)
            except Unreadable as reason:
                out[i] = str(reason)
        return out

    def _known(self) -> tuple[frozenset[str], frozenset[str]]:
        if self._catalogue_sets is None:
            self._catalogue_sets = (
                frozenset(self.catalogue.store_ids),
                frozenset(self.catalogue.products["sku_id"].to_list()),
            )
        return self._catalogue_sets

    # -- orders ---------------------------------------------------------------------------------------------

    def _orders(
        self, orders: list[tuple[int, str, str, OrderRead]], now: dt.datetime, pending: _Pending
    ) -> list[Answer]:
        if not orders:
            return []
        # What the gateway knows of each order, in one round trip. The record is kept before the stock is
        # touched: a cancel notice racing this push then finds it.
        if self._keep_newest is None:
            self._keep_newest = self.client.register_script(_KEEP_NEWEST)
        pipe = self.client.pipeline(transaction=False)
        for _, _, record, read in orders:
            self._keep_newest(
                keys=[self._key("record", read.order_key), self._key("record_status", read.order_key)],
                args=[record, status_us(read.status_at), MEMORY_SECONDS],
                client=pipe,
            )
            pipe.exists(self._key("cancelled", read.order_key))
            pipe.get(self._key("answered", read.order_key))
        known = pipe.execute()
        demands, early = [], []
        for n, (_, channel, _, read) in enumerate(orders):
            cancelled_early = not read.cancelled and bool(known[3 * n + 1])
            early.append(cancelled_early)
            demand = OrderDemand(
                read.order_key,
                channel,
                read.store_id,
                read.created_at,
                read.lines,
                read.cancelled or cancelled_early,
                read.content_hash,
                read.status_at,
            )
            demands.append((demand, self.short_stock.get(channel, "refuse") == "accept"))
        reservations = self.ledger.reserve_many(demands, now)
        answers = []
        for n, (_, channel, record, read) in enumerate(orders):
            answers.append(
                self._decide(channel, record, read, reservations[n], early[n], known[3 * n + 2], now, pending)
            )
        return answers

    def _decide(
        self, channel, record, read: OrderRead, reservation: Reservation, cancelled_early: bool, answered, now, pending
    ) -> Answer:
        outcome = reservation.outcome
        # Refused now or before: the ledger says so even when a crash lost the answer we gave.
        refused = outcome == "refused_short" or reservation.state == "refused"
        remembered = _parse_answered(answered)
        if outcome in ("unchanged", "already_released") and remembered and remembered[0] == read.content_hash:
            self.counters.incr(channel, "duplicate", at=now)
            code = "out_of_stock" if refused else remembered[1]
            return self._answer(channel, code, read.order_key, duplicate=True)

        if outcome == "stale" and not refused:
            # An older version than the one applied (a late retry): landed, since the warehouse keeps every
            # version and ranks this one below the newer, as the ledger does; the hold and what we remember
            # answering stay the newer version's.
            self._land(pending, channel, read, record, now)
            return self._answer(channel, "accepted", read.order_key)
        if refused and not read.cancelled and reservation.state == "active":
            # A change the stock cannot cover (more units, a substituted SKU): the version that holds stock
            # stands, in the ledger and in the warehouse; the channel hears that the change was refused.
            code = "out_of_stock"
            if channel not in OWN_CHANNELS:
                pending.refusals.append({"channel": channel, "order_key": read.order_key, "reason": "out_of_stock"})
        elif refused and not read.cancelled:
            code = "out_of_stock"
            self._land(pending, channel, read, record, now)
            self._land(pending, channel, read, as_cancelled(channel, record, now), now)
            if channel not in OWN_CHANNELS:
                # The platform's order was paid: it is cancelled through the platform's API (a channel client
                # drains this stream), with the platform's out-of-stock reason.
                pending.refusals.append({"channel": channel, "order_key": read.order_key, "reason": "out_of_stock"})
        elif cancelled_early or (outcome == "already_released" and not read.cancelled):
            code = "cancelled"  # cancelled before this first push arrived: hold nothing, land it cancelled
            self._land(pending, channel, read, record, now)
            self._land(pending, channel, read, as_cancelled(channel, record, now), now)
        else:
            code = "accepted"
            self._land(pending, channel, read, record, now)
        pending.answered[read.order_key] = f"{read.content_hash}|{code}"
        return self._answer(channel, code, read.order_key)

    def _unreadable(self, channel: str, record: str, reason: str, now: dt.datetime, pending: _Pending) -> Answer:
        """Landed anyway, so the batch path quarantines it with its reason: nothing a channel sent is lost."""
        self.counters.incr(channel, "unreadable", at=now)
        business_date = now.astimezone(_LOCAL).date().isoformat()
        key = f"{channel}:unreadable"
        pending.entries.append(IntakeEntry(channel, business_date, key, record, int(now.timestamp() * 1000)))
        if channel in OWN_CHANNELS:
            return Answer(False, "unreadable", reason, 422)
        return Answer(True, "unreadable", reason)

    # -- cancellations ----------------------------------------------------------------------------------------

    def _record_of(self, order_key: str) -> str | None:
        record = self.client.get(self._key("record", order_key))
        return record.decode() if isinstance(record, bytes) else record

    def _cancel_before_order(self, push: Push, now: dt.datetime) -> Answer:
        """Pushes overtake each other: the order's first push, when it comes, will hold nothing."""
        order_key = f"{push.channel}:{push.channel_order_id}"
        self.client.set(self._key("cancelled", order_key), push.reason or "cancelled", ex=MEMORY_SECONDS)
        self.counters.incr(push.channel, "cancel_before_order", at=now)
        return Answer(True, "unknown_order", "no order with this id yet: it will hold nothing", 200, order_key)

    # -- the log and the answers ------------------------------------------------------------------------------

    def _land(self, pending: _Pending, channel: str, read: OrderRead, record: str, now: dt.datetime) -> None:
        at_ms = int(now.timestamp() * 1000)
        pending.entries.append(IntakeEntry(channel, read.business_date, read.order_key, record, at_ms))

    def _answer(self, channel: str, code: str, order_key: str, duplicate: bool = False) -> Answer:
        if code == "out_of_stock" and channel in OWN_CHANNELS:
            return Answer(False, code, "not enough stock for every line of the order", 409, order_key)
        if code == "out_of_stock":
            return Answer(True, code, "short of stock: queued for the platform's cancel call", 200, order_key)
        return Answer(True, "duplicate" if duplicate else code, "", 200, order_key)

    def _key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))


def _parse_answered(value: bytes | str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    content_hash, _, code = (value.decode() if isinstance(value, bytes) else value).partition("|")
    return content_hash, code
